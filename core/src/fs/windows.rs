//! Windows syscalls, and nothing else: owner-only security descriptors for
//! what the store creates, and the process probe. Each function takes wide
//! NUL-terminated paths or raw handles and returns raw results; what to do
//! with them is decided in `platform` (portable, tested everywhere), and the
//! conversion from `Path`/`File` lives in `fs.rs` behind `cfg(windows)`.
//!
//! Compiled on Windows, and elsewhere with `--cfg tad_check_windows`
//! (`npm run check:windows`): `windows-sys` declares these functions on every
//! platform, so Linux type-checks this file; nothing here runs off Windows.
#![cfg(any(windows, tad_check_windows))]
#![cfg_attr(not(windows), allow(dead_code))]

use std::io;
use std::ptr::{null, null_mut};
use std::sync::OnceLock;

use windows_sys::core::{PCWSTR, PWSTR};
use windows_sys::Win32::Foundation::{
    CloseHandle, GetLastError, LocalFree, GENERIC_READ, GENERIC_WRITE, HANDLE, HLOCAL,
    INVALID_HANDLE_VALUE,
};
use windows_sys::Win32::Security::Authorization::{
    ConvertSidToStringSidW, ConvertStringSecurityDescriptorToSecurityDescriptorW,
    GetNamedSecurityInfoW, SetNamedSecurityInfoW, SetSecurityInfo, SDDL_REVISION_1, SE_FILE_OBJECT,
};
use windows_sys::Win32::Security::{
    GetSecurityDescriptorControl, GetSecurityDescriptorDacl, GetTokenInformation, InitializeAcl,
    TokenUser, ACL, ACL_REVISION, DACL_SECURITY_INFORMATION, PROTECTED_DACL_SECURITY_INFORMATION,
    PSECURITY_DESCRIPTOR, SECURITY_ATTRIBUTES, SE_DACL_PROTECTED, TOKEN_QUERY, TOKEN_USER,
    UNPROTECTED_DACL_SECURITY_INFORMATION,
};
use windows_sys::Win32::Storage::FileSystem::{
    CreateDirectoryW, CreateFileW, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, FILE_FLAG_OPEN_REPARSE_POINT,
    FILE_SHARE_DELETE, FILE_SHARE_READ, FILE_SHARE_WRITE, OPEN_ALWAYS, READ_CONTROL, WRITE_DAC,
};
use windows_sys::Win32::System::Threading::{
    GetCurrentProcess, OpenProcess, OpenProcessToken, WaitForSingleObject,
    PROCESS_QUERY_LIMITED_INFORMATION, PROCESS_SYNCHRONIZE,
};

use super::platform::{owner_only_sddl, windows_probe, Probe};

fn last_error() -> io::Error {
    // SAFETY: reads the calling thread's last-error value.
    io::Error::from_raw_os_error(unsafe { GetLastError() } as i32)
}

fn win32(code: u32) -> io::Result<()> {
    if code == 0 {
        Ok(())
    } else {
        Err(io::Error::from_raw_os_error(code as i32))
    }
}

/// Is process `pid` running? `OpenProcess` + `WaitForSingleObject(h, 0)`.
pub(crate) fn probe_process(pid: u32) -> Probe {
    // SAFETY: plain calls; the handle is closed before returning.
    unsafe {
        let h = OpenProcess(
            PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_SYNCHRONIZE,
            0,
            pid,
        );
        if h.is_null() {
            return windows_probe(Some(GetLastError()), None);
        }
        let waited = WaitForSingleObject(h, 0);
        CloseHandle(h);
        windows_probe(None, Some(waited))
    }
}

/// The owner-only security descriptor, built once per process and kept.
struct Descriptor(PSECURITY_DESCRIPTOR);
// SAFETY: the descriptor is created once, never changed and never freed; the
// APIs that read it take it by pointer from any thread.
unsafe impl Send for Descriptor {}
// SAFETY: as for `Send`: nothing writes the descriptor after it is built, so
// shared reads from several threads cannot race.
unsafe impl Sync for Descriptor {}

static PRIVATE: OnceLock<Result<Descriptor, i32>> = OnceLock::new();

/// The SID of the user this process runs as, as a string (`S-1-5-21-…`).
fn current_user_sid() -> io::Result<String> {
    // SAFETY: the token handle is closed; the buffer is sized by the first
    // call and 8-aligned for TOKEN_USER; the string is LocalFree'd.
    unsafe {
        let mut token: HANDLE = null_mut();
        if OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) == 0 {
            return Err(last_error());
        }
        let mut len = 0u32;
        GetTokenInformation(token, TokenUser, null_mut(), 0, &mut len);
        let mut buf = vec![0u64; (len as usize).div_ceil(8).max(1)];
        let ok = GetTokenInformation(token, TokenUser, buf.as_mut_ptr().cast(), len, &mut len);
        let err = last_error();
        CloseHandle(token);
        if ok == 0 {
            return Err(err);
        }
        let user = &*(buf.as_ptr() as *const TOKEN_USER);
        let mut text: PWSTR = null_mut();
        if ConvertSidToStringSidW(user.User.Sid, &mut text) == 0 {
            return Err(last_error());
        }
        let mut n = 0;
        while *text.add(n) != 0 {
            n += 1;
        }
        let sid = String::from_utf16_lossy(std::slice::from_raw_parts(text, n));
        LocalFree(text as HLOCAL);
        Ok(sid)
    }
}

fn private_descriptor() -> io::Result<PSECURITY_DESCRIPTOR> {
    let d = PRIVATE.get_or_init(|| {
        let build = || -> io::Result<Descriptor> {
            let sddl = owner_only_sddl(&current_user_sid()?);
            let wide: Vec<u16> = sddl.encode_utf16().chain(std::iter::once(0)).collect();
            let mut sd: PSECURITY_DESCRIPTOR = null_mut();
            // SAFETY: a NUL-terminated string; the descriptor is allocated by
            // the call and kept for the life of the process.
            let ok = unsafe {
                ConvertStringSecurityDescriptorToSecurityDescriptorW(
                    wide.as_ptr(),
                    SDDL_REVISION_1,
                    &mut sd,
                    null_mut(),
                )
            };
            if ok == 0 {
                return Err(last_error());
            }
            Ok(Descriptor(sd))
        };
        build().map_err(|e| e.raw_os_error().unwrap_or(0))
    });
    match d {
        Ok(d) => Ok(d.0),
        Err(code) => Err(io::Error::from_raw_os_error(*code)),
    }
}

fn dacl_of(sd: PSECURITY_DESCRIPTOR) -> io::Result<*mut ACL> {
    let mut present = 0;
    let mut defaulted = 0;
    let mut dacl: *mut ACL = null_mut();
    // SAFETY: `sd` is a valid self-relative descriptor; out-pointers are ours.
    if unsafe { GetSecurityDescriptorDacl(sd, &mut present, &mut dacl, &mut defaulted) } == 0 {
        return Err(last_error());
    }
    Ok(dacl)
}

/// `CreateFileW` for reading and writing, shared for reading, writing and
/// deleting (as std opens files). `new`: `CREATE_NEW` (not following a link
/// at `path`, with `WRITE_DAC` so the ACL can be loosened afterwards), else
/// `OPEN_ALWAYS`. `private`: a file it creates gets the owner-only descriptor
/// at creation, so no other user can open it in between.
pub(crate) fn create_file(path: PCWSTR, new: bool, private: bool) -> io::Result<HANDLE> {
    let sa = if private {
        Some(SECURITY_ATTRIBUTES {
            nLength: size_of::<SECURITY_ATTRIBUTES>() as u32,
            lpSecurityDescriptor: private_descriptor()?,
            bInheritHandle: 0,
        })
    } else {
        None
    };
    let access = GENERIC_READ | GENERIC_WRITE | if new { READ_CONTROL | WRITE_DAC } else { 0 };
    let (disposition, flags) = if new {
        (
            CREATE_NEW,
            FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT,
        )
    } else {
        (OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL)
    };
    // SAFETY: `path` is NUL-terminated; `sa` outlives the call.
    let h = unsafe {
        CreateFileW(
            path,
            access,
            FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
            sa.as_ref()
                .map_or(null(), |s| s as *const SECURITY_ATTRIBUTES),
            disposition,
            flags,
            null_mut(),
        )
    };
    if h == INVALID_HANDLE_VALUE {
        Err(last_error())
    } else {
        Ok(h)
    }
}

/// `CreateDirectoryW`, with the owner-only descriptor when `private`.
pub(crate) fn create_dir(path: PCWSTR, private: bool) -> io::Result<()> {
    let sa = if private {
        Some(SECURITY_ATTRIBUTES {
            nLength: size_of::<SECURITY_ATTRIBUTES>() as u32,
            lpSecurityDescriptor: private_descriptor()?,
            bInheritHandle: 0,
        })
    } else {
        None
    };
    // SAFETY: `path` is NUL-terminated; `sa` outlives the call.
    let ok = unsafe {
        CreateDirectoryW(
            path,
            sa.as_ref()
                .map_or(null(), |s| s as *const SECURITY_ATTRIBUTES),
        )
    };
    if ok == 0 {
        Err(last_error())
    } else {
        Ok(())
    }
}

/// The ACL of an open file: owner-only (`private`), or inherited from its
/// directory (an explicit empty DACL, unprotected).
pub(crate) fn set_handle_acl(h: HANDLE, private: bool) -> io::Result<()> {
    // SAFETY: `h` is an open handle with WRITE_DAC; the ACLs outlive the call.
    unsafe {
        if private {
            let dacl = dacl_of(private_descriptor()?)?;
            win32(SetSecurityInfo(
                h,
                SE_FILE_OBJECT,
                DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                null_mut(),
                null_mut(),
                dacl,
                null(),
            ))
        } else {
            let mut empty = ACL::default();
            if InitializeAcl(&mut empty, size_of::<ACL>() as u32, ACL_REVISION) == 0 {
                return Err(last_error());
            }
            win32(SetSecurityInfo(
                h,
                SE_FILE_OBJECT,
                DACL_SECURITY_INFORMATION | UNPROTECTED_DACL_SECURITY_INFORMATION,
                null_mut(),
                null_mut(),
                &empty,
                null(),
            ))
        }
    }
}

/// Gives an existing file or directory the owner-only ACL, unless its DACL is
/// already protected (ours, or one its owner set on purpose).
pub(crate) fn make_private(path: PCWSTR) -> io::Result<()> {
    // SAFETY: `path` is NUL-terminated; the descriptor GetNamedSecurityInfoW
    // allocates is LocalFree'd.
    unsafe {
        let mut sd: PSECURITY_DESCRIPTOR = null_mut();
        win32(GetNamedSecurityInfoW(
            path,
            SE_FILE_OBJECT,
            DACL_SECURITY_INFORMATION,
            null_mut(),
            null_mut(),
            null_mut(),
            null_mut(),
            &mut sd,
        ))?;
        let mut control = 0u16;
        let mut revision = 0u32;
        let ok = GetSecurityDescriptorControl(sd, &mut control, &mut revision);
        LocalFree(sd as HLOCAL);
        if ok != 0 && control & SE_DACL_PROTECTED != 0 {
            return Ok(());
        }
        let dacl = dacl_of(private_descriptor()?)?;
        win32(SetNamedSecurityInfoW(
            path,
            SE_FILE_OBJECT,
            DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
            null_mut(),
            null_mut(),
            dacl,
            null(),
        ))
    }
}
