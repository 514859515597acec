//! The two macOS flushes, as syscalls only (which one to use, and when to
//! fall back, is decided by `platform::sync_with_fallback`).
//!
//! `fsync(2)` on macOS hands the data to the drive but does not make the
//! drive write its cache; `fcntl(F_FULLFSYNC)` does (Apple's fsync(2) and
//! fcntl(2) pages). Rust's `File::sync_all`/`sync_data` issue `F_FULLFSYNC`
//! with no fallback, so on SMB, NFS, FUSE and some external drives, which
//! answer `ENOTSUP`/`ENOTTY`, every flush would fail; the store calls both
//! itself. `F_BARRIERFSYNC` (`fsync` plus an I/O barrier: ordering, not
//! durability) is not used: see the README's "Durability per platform".
//!
//! Compiled on every Unix (the constant is spelled out, so Linux type-checks
//! this file too); called only on macOS.
#![cfg(unix)]

use std::io;
use std::os::fd::RawFd;
#[cfg(target_os = "macos")]
use std::path::Path;

/// `<sys/fcntl.h>`: `#define F_FULLFSYNC 51`.
const F_FULLFSYNC: libc::c_int = 51;

fn check(r: libc::c_int) -> io::Result<()> {
    if r == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// `fcntl(fd, F_FULLFSYNC)`: the data, and the drive's cache, on stable storage.
pub fn full_fsync(fd: RawFd) -> io::Result<()> {
    loop {
        // SAFETY: fcntl on a descriptor the caller owns; F_FULLFSYNC takes no
        // argument.
        let r = unsafe { libc::fcntl(fd, F_FULLFSYNC) };
        match check(r) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// `fsync(fd)`: the data handed to the drive.
pub fn fsync(fd: RawFd) -> io::Result<()> {
    loop {
        // SAFETY: fsync on a descriptor the caller owns.
        let r = unsafe { libc::fsync(fd) };
        match check(r) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// `renamex_np(a, b, RENAME_SWAP)`: the two names swap their files
/// atomically (as Linux's `renameat2(RENAME_EXCHANGE)`).
#[cfg(target_os = "macos")]
pub fn swap(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let ca = CString::new(a.as_os_str().as_bytes())?;
    let cb = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: two valid NUL-terminated paths; the call only reads them.
    check(unsafe { libc::renamex_np(ca.as_ptr(), cb.as_ptr(), libc::RENAME_SWAP) })
}
