//! Every platform *decision* of the file layer, in portable code: which
//! errors are a transient hold by another program (retried), which mean "this
//! volume cannot do that" (a fallback), how long a file's stamp can hide a
//! rewrite, whether a probed process is alive, how a Windows path is spelled
//! for the wide APIs, which ACL makes a file private. The code behind
//! `cfg(windows)` / `cfg(target_os = "macos")` (`fs::windows`, `fs::macos`)
//! only makes the syscalls and hands their raw results here, so all of this
//! runs — and is tested — on every platform, and the simulated file systems
//! (`fs::sim`) go through the same functions as the real ones.

use std::cell::Cell;
use std::io;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

// ---------------------------------------------------------------------------
// What a file system does
// ---------------------------------------------------------------------------

/// How permissions are expressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Unix mode bits (`configFileMode` as given; directories 0700).
    UnixModes,
    /// Windows ACLs: a mode without group/other bits (0600, 0700) becomes a
    /// protected DACL for the current user and SYSTEM; any other mode keeps
    /// the ACL inherited from the directory.
    Acl,
}

/// What the store's portable code must know about the file system it runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Semantics {
    /// A file that is open can be replaced by a rename. POSIX: yes. Windows:
    /// `MoveFileExW` refuses to replace a file any handle holds open; std's
    /// fallback (`FileRenameInfoEx` with POSIX semantics) exists on NTFS only,
    /// not on FAT/exFAT, SMB-redirected folders or ReFS/Dev Drive. Where this
    /// is `false` the store keeps its journal open only while it holds the
    /// lock, and closes its own handle before replacing the journal.
    pub replace_open_files: bool,
    /// Names that differ only in case are one file (Windows, macOS' default
    /// APFS/HFS+).
    pub case_insensitive: bool,
    pub access: Access,
}

impl Semantics {
    /// Linux and the BSDs.
    pub const POSIX: Semantics = Semantics {
        replace_open_files: true,
        case_insensitive: false,
        access: Access::UnixModes,
    };
    /// macOS (APFS and HFS+ are case-insensitive by default; a case-sensitive
    /// volume only makes the watcher look at a file it did not need to).
    pub const MACOS: Semantics = Semantics {
        replace_open_files: true,
        case_insensitive: true,
        access: Access::UnixModes,
    };
    /// Windows, whatever the volume (NTFS, FAT/exFAT, SMB, ReFS).
    pub const WINDOWS: Semantics = Semantics {
        replace_open_files: false,
        case_insensitive: true,
        access: Access::Acl,
    };

    /// The platform this build runs on.
    pub const fn native() -> Semantics {
        if cfg!(windows) {
            Semantics::WINDOWS
        } else if cfg!(target_os = "macos") {
            Semantics::MACOS
        } else {
            Semantics::POSIX
        }
    }
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// Windows error codes the store acts on.
pub mod win {
    pub const ERROR_INVALID_FUNCTION: u32 = 1;
    pub const ERROR_FILE_NOT_FOUND: u32 = 2;
    pub const ERROR_ACCESS_DENIED: u32 = 5;
    pub const ERROR_SHARING_VIOLATION: u32 = 32;
    pub const ERROR_LOCK_VIOLATION: u32 = 33;
    pub const ERROR_NOT_SUPPORTED: u32 = 50;
    pub const ERROR_INVALID_PARAMETER: u32 = 87;
    pub const ERROR_USER_MAPPED_FILE: u32 = 1224;
}

/// A Windows error produced by a simulated file system ([`crate::fs::sim`]) on
/// a platform whose raw OS error numbers mean something else: classified by
/// the same functions as a real Windows error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WinError(pub u32);

impl std::fmt::Display for WinError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self.0 {
            win::ERROR_ACCESS_DENIED => "Access is denied.",
            win::ERROR_SHARING_VIOLATION => {
                "The process cannot access the file because it is being used by another process."
            }
            win::ERROR_LOCK_VIOLATION => {
                "The process cannot access the file because another process has locked a portion of the file."
            }
            win::ERROR_USER_MAPPED_FILE => {
                "The requested operation cannot be performed on a file with a user-mapped section open."
            }
            win::ERROR_INVALID_FUNCTION => "Incorrect function.",
            _ => "Windows error",
        };
        write!(f, "{text} (os error {}, simulated)", self.0)
    }
}

impl std::error::Error for WinError {}

/// An `io::Error` carrying a simulated Windows error code.
pub fn win_error(code: u32) -> io::Error {
    let kind = match code {
        win::ERROR_ACCESS_DENIED => io::ErrorKind::PermissionDenied,
        win::ERROR_SHARING_VIOLATION | win::ERROR_LOCK_VIOLATION | win::ERROR_USER_MAPPED_FILE => {
            io::ErrorKind::ResourceBusy
        }
        win::ERROR_FILE_NOT_FOUND => io::ErrorKind::NotFound,
        win::ERROR_INVALID_FUNCTION | win::ERROR_NOT_SUPPORTED => io::ErrorKind::Unsupported,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, WinError(code))
}

/// The Windows error code of an I/O error: its raw code on Windows; the
/// [`WinError`] a simulated file system put in it elsewhere.
pub fn windows_code(e: &io::Error) -> Option<u32> {
    #[cfg(windows)]
    if let Some(n) = e.raw_os_error() {
        return Some(n as u32);
    }
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<WinError>())
        .map(|w| w.0)
}

/// Whether an error is another program holding the file for a moment:
/// antivirus, backup and indexing software open files they see change, and
/// while they do Windows refuses to rename, delete or truncate them
/// (`ERROR_SHARING_VIOLATION`, `ERROR_LOCK_VIOLATION`, `ERROR_USER_MAPPED_FILE`,
/// and `ERROR_ACCESS_DENIED` for a file being deleted or held without
/// `FILE_SHARE_DELETE`). SQLite's `winRetryIoerr` retries the same codes.
/// POSIX systems have no such holds: nothing there is transient.
pub fn is_transient(e: &io::Error) -> bool {
    matches!(
        windows_code(e),
        Some(
            win::ERROR_ACCESS_DENIED
                | win::ERROR_SHARING_VIOLATION
                | win::ERROR_LOCK_VIOLATION
                | win::ERROR_USER_MAPPED_FILE
        )
    )
}

/// Whether a flush failed because the volume does not implement it (not
/// because the data did not reach the disk): `F_FULLFSYNC` on SMB, NFS, FUSE
/// and some external drives answers `ENOTSUP`/`ENOTTY`/`EINVAL`, and several
/// file systems refuse `fsync` on a directory with `EINVAL`. An `EIO` is never
/// "unsupported".
pub fn sync_unsupported(e: &io::Error) -> bool {
    if e.kind() == io::ErrorKind::Unsupported {
        return true;
    }
    #[cfg(unix)]
    if let Some(n) = e.raw_os_error() {
        return [libc::EINVAL, libc::ENOTSUP, libc::EOPNOTSUPP, libc::ENOTTY].contains(&n);
    }
    matches!(
        windows_code(e),
        Some(win::ERROR_INVALID_FUNCTION | win::ERROR_NOT_SUPPORTED | win::ERROR_INVALID_PARAMETER)
    )
}

/// The strongest flush with its fallback: `full` (macOS: `F_FULLFSYNC`, which
/// also flushes the drive's cache) and, only when the volume does not support
/// it, `plain` (`fsync`) — what SQLite's `full_fsync`, libuv's `uv__fs_fsync`
/// and Go since golang/go#64215 do. Any other error of `full` is returned: a
/// real I/O error is never hidden behind a second flush that reports success
/// after the kernel may have dropped the pages that failed. Returns whether the
/// fallback was used.
pub fn sync_with_fallback(
    full: impl FnOnce() -> io::Result<()>,
    plain: impl FnOnce() -> io::Result<()>,
) -> io::Result<bool> {
    match full() {
        Ok(()) => Ok(false),
        Err(e) if sync_unsupported(&e) => plain().map(|()| true),
        Err(e) => Err(e),
    }
}

/// An atomic exchange of two names that failed because the kernel or the
/// volume cannot do it (`ENOSYS`, `EINVAL`, `ENOTSUP`): `Unsupported`, so the
/// caller falls back to a rename. Other errors are returned as they are.
pub fn exchange_error(e: io::Error) -> io::Error {
    #[cfg(unix)]
    if let Some(n) = e.raw_os_error() {
        if [libc::ENOSYS, libc::EINVAL, libc::ENOTSUP, libc::EOPNOTSUPP].contains(&n) {
            return io::Error::from(io::ErrorKind::Unsupported);
        }
    }
    e
}

// ---------------------------------------------------------------------------
// Retrying transient holds
// ---------------------------------------------------------------------------

/// How a transient hold is retried: `attempts` more tries, the k-th after
/// `step * k` (SQLite's `winIoerrRetry`: 10 tries, 25 ms more each, 1.4 s in
/// all; Chromium's `ImportantFileWriter` tries 5 × 100 ms).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub step: Duration,
}

impl RetryPolicy {
    /// What the store uses.
    pub const DEFAULT: RetryPolicy = RetryPolicy {
        attempts: 10,
        step: Duration::from_millis(25),
    };

    /// The pause before retry `n` (0-based).
    pub fn delay(&self, n: u32) -> Duration {
        self.step * (n + 1)
    }

    /// The longest one operation waits in all.
    pub fn budget(&self) -> Duration {
        (0..self.attempts).map(|n| self.delay(n)).sum()
    }
}

thread_local! {
    /// This thread may sleep between retries (the store's writer, watcher and
    /// backup threads; never the JS thread).
    static PATIENT: Cell<bool> = const { Cell::new(false) };
}

/// While alive, the current thread retries transient holds (sleeping between
/// tries); dropped, it goes back to what it was.
pub struct Patience(bool);

impl Drop for Patience {
    fn drop(&mut self) {
        PATIENT.with(|p| p.set(self.0));
    }
}

/// Lets the current thread wait out transient holds until the guard drops.
/// Only background threads take it: the thread that calls `set` never sleeps.
pub fn patient() -> Patience {
    Patience(PATIENT.with(|p| p.replace(true)))
}

/// Whether the current thread may wait out a transient hold.
pub fn is_patient() -> bool {
    PATIENT.with(|p| p.get())
}

/// While alive, the current thread does not wait out holds (one try), even if
/// it is patient: for a caller that retries by itself, looking again between
/// tries.
pub fn impatient() -> Patience {
    Patience(PATIENT.with(|p| p.replace(false)))
}

/// Runs `op`, retrying it under `policy` while it fails with a transient hold
/// and the thread is patient; otherwise (and after the last try) its result as
/// it is, so a persistent hold is reported with its own error code.
pub fn retry_transient<T>(
    policy: &RetryPolicy,
    mut op: impl FnMut() -> io::Result<T>,
) -> io::Result<T> {
    let mut n = 0;
    loop {
        match op() {
            Err(e) if n < policy.attempts && is_transient(&e) && is_patient() => {
                std::thread::sleep(policy.delay(n));
                n += 1;
            }
            r => return r,
        }
    }
}

// ---------------------------------------------------------------------------
// Timestamps
// ---------------------------------------------------------------------------

/// The timestamp granularity a modification time shows: FAT's 2 s and HFS+'s
/// 1 s timestamps have no fraction of a second (2 s assumed for both); exFAT
/// (10 ms), NTFS (100 ns), ext4 and APFS (1 ns) have one. A fine-grained time
/// that happens to fall on a whole second is taken as coarse, which only costs
/// one more content check.
pub fn mtime_granularity(mtime: SystemTime) -> Duration {
    match mtime.duration_since(UNIX_EPOCH) {
        Ok(d) if d.subsec_nanos() != 0 => Duration::ZERO,
        _ => Duration::from_secs(2),
    }
}

/// Slack for the file system's clock against ours.
pub const CLOCK_MARGIN: Duration = Duration::from_millis(100);

/// Whether a file whose stamp (length, mtime, inode) was last confirmed by its
/// content at `verified` can since have been rewritten to the same length
/// without the stamp changing: true while `verified` falls inside the mtime's
/// timestamp tick (plus a margin). Where inodes do not exist (Windows) and
/// timestamps are coarse (FAT 2 s, HFS+ 1 s), the content must be checked then;
/// once the tick has passed at verification, the stamp alone tells.
pub fn stamp_needs_content_check(mtime: Option<SystemTime>, verified: SystemTime) -> bool {
    let Some(m) = mtime else {
        return true;
    };
    match m.checked_add(mtime_granularity(m) + CLOCK_MARGIN) {
        Some(end) => verified < end,
        None => true,
    }
}

// ---------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------

/// What probing a process id found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    Running,
    Exited,
    NoSuchProcess,
    /// The probe failed otherwise: treated as running (its temp files stay
    /// until they are an hour old).
    Unknown,
}

/// The Windows probe: `OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION |
/// SYNCHRONIZE)` either failed with `open_error`, or gave a handle that
/// `WaitForSingleObject(h, 0)` answered with `wait` (libuv's `uv_kill(pid, 0)`
/// asks the same question with `GetExitCodeProcess`).
pub fn windows_probe(open_error: Option<u32>, wait: Option<u32>) -> Probe {
    const WAIT_OBJECT_0: u32 = 0;
    const WAIT_TIMEOUT: u32 = 258;
    match (open_error, wait) {
        // no process has that id
        (Some(win::ERROR_INVALID_PARAMETER), _) => Probe::NoSuchProcess,
        // it exists, owned by someone we may not query
        (Some(win::ERROR_ACCESS_DENIED), _) => Probe::Running,
        (Some(_), _) => Probe::Unknown,
        (None, Some(WAIT_TIMEOUT)) => Probe::Running,
        // signalled: it has exited (a handle somewhere keeps the id reserved)
        (None, Some(WAIT_OBJECT_0)) => Probe::Exited,
        (None, _) => Probe::Unknown,
    }
}

/// Whether a probed process counts as alive (its temp files are kept).
pub fn alive(p: Probe) -> bool {
    !matches!(p, Probe::Exited | Probe::NoSuchProcess)
}

// ---------------------------------------------------------------------------
// Windows paths and ACLs
// ---------------------------------------------------------------------------

/// Paths at least this long get the `\\?\` prefix (std's `maybe_verbatim`
/// uses the same bound: `CreateDirectoryW` fails above `MAX_PATH - 12`).
pub const WIN_LEGACY_MAX_PATH: usize = 248;

/// A path (UTF-16 code units, no NUL) as Windows' wide APIs should get it:
/// `/` written `\`, an absolute path of 248 units or more given the verbatim
/// prefix (`C:\…` → `\\?\C:\…`, `\\server\share\…` → `\\?\UNC\server\share\…`)
/// so `MAX_PATH` does not apply, and a NUL at the end. The store's paths are
/// absolute and normalized (no `.` or `..`), which verbatim paths require.
pub fn windows_wide_path(path: &[u16]) -> Vec<u16> {
    let slash = u16::from(b'/');
    let back = u16::from(b'\\');
    let mut p: Vec<u16> = path
        .iter()
        .map(|&c| if c == slash { back } else { c })
        .collect();
    let units = |s: &str| s.encode_utf16().collect::<Vec<u16>>();
    let verbatim = p.starts_with(&units(r"\\?\")) || p.starts_with(&units(r"\\.\"));
    let drive = p.len() >= 3
        && p[1] == u16::from(b':')
        && p[2] == back
        && char::from_u32(u32::from(p[0])).is_some_and(|c| c.is_ascii_alphabetic());
    let unc = p.starts_with(&[back, back]);
    if p.len() >= WIN_LEGACY_MAX_PATH && !verbatim {
        if drive {
            let mut out = units(r"\\?\");
            out.append(&mut p);
            p = out;
        } else if unc {
            let mut out = units(r"\\?\UNC\");
            out.extend_from_slice(&p[2..]);
            p = out;
        }
    }
    p.push(0);
    p
}

/// Whether `mode` keeps group and others out (0600, 0700): on Windows such a
/// file or directory gets an owner-only ACL.
pub fn mode_is_private(mode: u32) -> bool {
    mode & 0o077 == 0
}

/// The security descriptor (SDDL) of what the store creates privately on
/// Windows: a protected DACL (`P`: nothing inherited from the directory, so a
/// `cwd` where Users may read does not open the files to them) that gives full
/// access to the current user and to SYSTEM (as root can read a 0600 file),
/// inherited by files and directories created inside (`OICI`).
pub fn owner_only_sddl(user_sid: &str) -> String {
    format!("D:P(A;OICI;FA;;;{user_sid})(A;OICI;FA;;;SY)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_windows_holds_are_transient() {
        for code in [5, 32, 33, 1224] {
            assert!(is_transient(&win_error(code)), "{code}");
        }
        for code in [2, 3, 87, 112] {
            assert!(!is_transient(&win_error(code)), "{code}");
        }
        // POSIX errors are never a hold (a Linux EBUSY is a mount point)
        assert!(!is_transient(&io::Error::from(io::ErrorKind::ResourceBusy)));
        #[cfg(unix)]
        for n in [libc::EBUSY, libc::EACCES, libc::EPERM, libc::EIO] {
            assert!(!is_transient(&io::Error::from_raw_os_error(n)), "{n}");
        }
    }

    #[test]
    fn unsupported_flushes_fall_back_and_real_errors_do_not() {
        #[cfg(unix)]
        let unsupported = [libc::ENOTSUP, libc::ENOTTY, libc::EINVAL, libc::EOPNOTSUPP];
        #[cfg(not(unix))]
        let unsupported: [i32; 0] = [];
        for n in unsupported {
            let plain_ran = Cell::new(false);
            let r = sync_with_fallback(
                || Err(io::Error::from_raw_os_error(n)),
                || {
                    plain_ran.set(true);
                    Ok(())
                },
            );
            assert!(r.unwrap(), "{n}: fallback used");
            assert!(plain_ran.get());
        }
        // a plain flush that fails after the fallback reports its own error
        #[cfg(unix)]
        {
            let r = sync_with_fallback(
                || Err(io::Error::from_raw_os_error(libc::ENOTSUP)),
                || Err(io::Error::from_raw_os_error(libc::EIO)),
            );
            assert_eq!(r.unwrap_err().raw_os_error(), Some(libc::EIO));
            // EIO and ENOSPC from the full flush are never retried with fsync
            for n in [libc::EIO, libc::ENOSPC] {
                let r = sync_with_fallback(
                    || Err(io::Error::from_raw_os_error(n)),
                    || panic!("fsync after a failed F_FULLFSYNC would hide the error"),
                );
                assert_eq!(r.unwrap_err().raw_os_error(), Some(n));
            }
        }
        assert!(!sync_with_fallback(|| Ok(()), || panic!("not needed")).unwrap());
        assert!(sync_unsupported(&io::Error::from(
            io::ErrorKind::Unsupported
        )));
        assert!(sync_unsupported(&win_error(win::ERROR_INVALID_FUNCTION)));
        assert!(!sync_unsupported(&win_error(win::ERROR_SHARING_VIOLATION)));
    }

    #[test]
    fn transient_holds_are_retried_only_on_patient_threads_and_only_so_often() {
        let policy = RetryPolicy {
            attempts: 4,
            step: Duration::from_millis(1),
        };
        assert_eq!(RetryPolicy::DEFAULT.budget(), Duration::from_millis(1375));
        let calls = Cell::new(0u32);
        let failing = |fail_first: u32| {
            calls.set(0);
            let calls = &calls;
            move || {
                calls.set(calls.get() + 1);
                if calls.get() <= fail_first {
                    Err(win_error(win::ERROR_SHARING_VIOLATION))
                } else {
                    Ok(7)
                }
            }
        };
        // the calling (JS) thread never waits: one try, the hold reported
        assert!(!is_patient());
        let e = retry_transient(&policy, failing(1)).unwrap_err();
        assert_eq!(windows_code(&e), Some(32));
        assert_eq!(calls.get(), 1);
        {
            let _p = patient();
            assert_eq!(retry_transient(&policy, failing(3)).unwrap(), 7);
            assert_eq!(calls.get(), 4);
            // bounded: 1 + 4 tries, then the hold's own error
            let e = retry_transient(&policy, failing(100)).unwrap_err();
            assert_eq!(windows_code(&e), Some(32));
            assert_eq!(calls.get(), 5);
            // a non-transient error is returned at once
            calls.set(0);
            let r: io::Result<()> = retry_transient(&policy, || {
                calls.set(calls.get() + 1);
                Err(io::Error::from(io::ErrorKind::StorageFull))
            });
            assert!(r.is_err());
            assert_eq!(calls.get(), 1);
            {
                let _nested = patient();
            }
            assert!(is_patient(), "a nested guard restores, not clears");
        }
        assert!(!is_patient());
    }

    #[test]
    fn coarse_timestamps_need_a_content_check_until_their_tick_has_passed() {
        let at = |s: u64, ns: u32| UNIX_EPOCH + Duration::new(s, ns);
        // fine-grained (ext4, APFS, NTFS): 100 ms of slack, as before
        let m = at(1_000, 123_456_789);
        assert_eq!(mtime_granularity(m), Duration::ZERO);
        assert!(stamp_needs_content_check(
            Some(m),
            m + Duration::from_millis(50)
        ));
        assert!(!stamp_needs_content_check(
            Some(m),
            m + Duration::from_millis(150)
        ));
        // FAT (2 s) and HFS+ (1 s): no fraction; the whole tick counts, from
        // the time the content was confirmed, however late the check runs
        for m in [at(1_000, 0), at(1_001, 0)] {
            assert_eq!(mtime_granularity(m), Duration::from_secs(2));
            assert!(stamp_needs_content_check(
                Some(m),
                m + Duration::from_millis(1_900)
            ));
            assert!(!stamp_needs_content_check(
                Some(m),
                m + Duration::from_millis(2_200)
            ));
        }
        // an mtime ahead of our clock (FAT rounds up) or none at all
        assert!(stamp_needs_content_check(Some(at(2_000, 0)), at(1_999, 0)));
        assert!(stamp_needs_content_check(None, at(5_000, 0)));
    }

    #[test]
    fn the_windows_process_probe_decides_liveness() {
        assert_eq!(windows_probe(Some(87), None), Probe::NoSuchProcess);
        assert_eq!(windows_probe(Some(5), None), Probe::Running);
        assert_eq!(windows_probe(None, Some(258)), Probe::Running);
        assert_eq!(windows_probe(None, Some(0)), Probe::Exited);
        assert_eq!(windows_probe(None, Some(0xFFFF_FFFF)), Probe::Unknown);
        assert_eq!(windows_probe(Some(1450), None), Probe::Unknown);
        assert!(!alive(Probe::NoSuchProcess));
        assert!(!alive(Probe::Exited));
        assert!(alive(Probe::Running));
        assert!(alive(Probe::Unknown));
    }

    #[test]
    fn windows_wide_paths_get_the_verbatim_prefix_when_long() {
        let w = |s: &str| s.encode_utf16().collect::<Vec<u16>>();
        let text = |v: Vec<u16>| String::from_utf16(&v[..v.len() - 1]).unwrap();
        assert_eq!(
            text(windows_wide_path(&w(r"C:\Users\a\config.json"))),
            r"C:\Users\a\config.json"
        );
        assert_eq!(
            text(windows_wide_path(&w("C:/Users/a/config.json"))),
            r"C:\Users\a\config.json"
        );
        let long = format!(r"C:\{}\config.json", "d".repeat(250));
        assert_eq!(text(windows_wide_path(&w(&long))), format!(r"\\?\{long}"));
        let unc = format!(r"\\server\share\{}\f.json", "d".repeat(250));
        assert_eq!(
            text(windows_wide_path(&w(&unc))),
            format!(r"\\?\UNC\server\share\{}\f.json", "d".repeat(250))
        );
        let already = format!(r"\\?\C:\{}", "d".repeat(300));
        assert_eq!(text(windows_wide_path(&w(&already))), already);
        assert_eq!(*windows_wide_path(&w("x")).last().unwrap(), 0);
    }

    #[test]
    fn private_modes_become_an_owner_only_protected_dacl() {
        assert!(mode_is_private(0o600));
        assert!(mode_is_private(0o700));
        assert!(mode_is_private(0o400));
        assert!(!mode_is_private(0o640));
        assert!(!mode_is_private(0o666));
        let sddl = owner_only_sddl("S-1-5-21-1-2-3-1001");
        // protected: nothing inherited from a cwd where others may read
        assert!(sddl.starts_with("D:P("), "{sddl}");
        assert!(sddl.contains("(A;OICI;FA;;;S-1-5-21-1-2-3-1001)"));
        assert!(sddl.contains("(A;OICI;FA;;;SY)"));
        // nobody else: no Everyone, Users, Authenticated Users, Administrators
        for other in [";WD)", ";BU)", ";AU)", ";BA)", ";IU)"] {
            assert!(!sddl.contains(other), "{sddl}");
        }
        assert_eq!(sddl.matches("(A;").count(), 2);
    }
}
