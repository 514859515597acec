//! The file-system seam. Every file operation of the store goes through a
//! [`FileSystem`], so tests can run the real store on a file system that fails
//! the k-th write, fsync or rename with `ENOSPC` or `EIO` ([`FaultFs`]), or
//! that behaves as Windows or a macOS network volume does ([`sim::SimFs`]).
//!
//! Also here: the one atomic-replace function every file the store writes goes
//! through ([`atomic_write`]), directory creation (0700), stale temp-file
//! cleanup, symlink resolution, the retrying wrapper that waits out another
//! program's hold on a file ([`Patient`]), and the real file system's
//! platform specifics. Those are thin: each platform's syscalls live in
//! `fs::macos` (`F_FULLFSYNC`) and `fs::windows` (ACLs, process probe), and
//! every decision about their results — fallbacks, retries, what is
//! transient, what a timestamp can hide — in the portable `fs::platform`.

pub mod platform;
pub mod sim;

#[cfg(unix)]
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
mod macos;
mod windows;

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::error::{Error, Result};
pub use platform::{Access, Semantics};

/// What `stat` reports.
#[derive(Clone, Debug)]
pub struct Stat {
    pub len: u64,
    pub is_file: bool,
    pub is_dir: bool,
    pub is_symlink: bool,
    /// Permission bits (0 on Windows).
    pub mode: u32,
    pub modified: Option<SystemTime>,
    /// Inode number (0 where the platform has none): tells a replaced file
    /// from a rewritten one.
    pub ino: u64,
}

/// An open file.
pub trait FileHandle: Send {
    /// Writes all of `data` at `offset` (positioned write: a failed earlier write
    /// past `offset` is simply overwritten).
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()>;
    /// Writes all of `data` at the current position (new files).
    fn write_all(&mut self, data: &[u8]) -> io::Result<()>;
    /// Reads `len` bytes (fewer at the end of the file) from `offset`.
    fn read_at(&mut self, offset: u64, len: usize) -> io::Result<Vec<u8>>;
    fn sync_data(&mut self) -> io::Result<()>;
    fn sync_all(&mut self) -> io::Result<()>;
    fn set_len(&mut self, len: u64) -> io::Result<()>;
    fn len(&self) -> io::Result<u64>;
    fn is_empty(&self) -> io::Result<bool> {
        self.len().map(|n| n == 0)
    }
    fn set_mode(&mut self, mode: u32) -> io::Result<()>;
    /// Takes the OS advisory lock (exclusive) if it is free; `false` when another
    /// holder has it. The OS releases it when the holder's process dies.
    fn try_lock(&self) -> io::Result<bool>;
    fn unlock(&self) -> io::Result<()>;
    /// Another handle on the same open file whose `lock` blocks until the OS
    /// lock is free (`flock(LOCK_EX)`, `LockFileEx` without
    /// `LOCKFILE_FAIL_IMMEDIATELY`), for a thread that waits for it
    /// (`crate::lockwait`): taking or releasing the lock through either handle
    /// is the same lock. `None` where the file system has no such wait (the
    /// waiter then tries again and again).
    fn blocking_lock(&self) -> io::Result<Option<Box<dyn BlockingLock>>> {
        Ok(None)
    }
    /// Whether this open file is the file now found at `path` (it is not when
    /// another process replaced the file since it was opened).
    fn is_at(&self, path: &Path) -> io::Result<bool>;
}

/// A handle that can wait for the OS lock (see `FileHandle::blocking_lock`).
pub trait BlockingLock: Send + 'static {
    fn lock(&self) -> io::Result<()>;
    fn unlock(&self) -> io::Result<()>;
}

impl BlockingLock for File {
    fn lock(&self) -> io::Result<()> {
        File::lock(self)
    }
    fn unlock(&self) -> io::Result<()> {
        File::unlock(self)
    }
}

/// The operations the store performs on files.
pub trait FileSystem: Send + Sync + 'static {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Creates a new file (fails if it exists), mode 0600 on Unix.
    fn create_new(&self, path: &Path) -> io::Result<Box<dyn FileHandle>>;
    /// Opens a file for reading and writing, creating it with `mode` if missing.
    fn open_rw(&self, path: &Path, mode: u32) -> io::Result<Box<dyn FileHandle>>;
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Atomically swaps two existing names (Linux `renameat2(RENAME_EXCHANGE)`):
    /// after it `a` holds what `b` held at that instant. `Unsupported` where the
    /// platform or file system cannot (callers fall back to `rename`).
    fn exchange(&self, _a: &Path, _b: &Path) -> io::Result<()> {
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    /// Creates one directory level with `mode`.
    fn create_dir(&self, path: &Path, mode: u32) -> io::Result<()>;
    /// Makes creates and renames in a directory durable (a no-op on Windows).
    fn sync_dir(&self, path: &Path) -> io::Result<()>;
    /// `follow`: stat the link's target instead of the link.
    fn stat(&self, path: &Path, follow: bool) -> io::Result<Stat>;
    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>>;
    fn set_mode(&self, path: &Path, mode: u32) -> io::Result<()>;
    fn read_link(&self, path: &Path) -> io::Result<PathBuf>;
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf>;
    /// What this file system does that the store must adapt to.
    fn semantics(&self) -> Semantics {
        Semantics::native()
    }
}

// ---------------------------------------------------------------------------
// The real file system
// ---------------------------------------------------------------------------

/// The operating system's file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct RealFs;

struct RealFile(File);

/// Flushes a file (or a directory opened as one). macOS: `F_FULLFSYNC`,
/// falling back to `fsync` on a volume without it.
#[cfg(target_os = "macos")]
fn flush_file(f: &File, _data_only: bool) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = f.as_raw_fd();
    platform::sync_with_fallback(|| macos::full_fsync(fd), || macos::fsync(fd)).map(|_| ())
}

/// Flushes a file: `fdatasync`/`fsync` (Linux), `FlushFileBuffers` (Windows).
#[cfg(not(target_os = "macos"))]
fn flush_file(f: &File, data_only: bool) -> io::Result<()> {
    if data_only {
        f.sync_data()
    } else {
        f.sync_all()
    }
}

/// Opens a file for reading and writing: created new (0600), or opened and
/// created with `mode` if missing.
#[cfg(not(windows))]
fn open_file(path: &Path, new: bool, _mode: u32) -> io::Result<File> {
    let mut o = std::fs::OpenOptions::new();
    if new {
        o.write(true).create_new(true);
    } else {
        o.read(true).write(true).create(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, if new { 0o600 } else { _mode });
    o.open(path)
}

/// Windows: created with an owner-only ACL when the mode is private.
#[cfg(windows)]
fn open_file(path: &Path, new: bool, mode: u32) -> io::Result<File> {
    win_glue::open(path, new, if new { 0o600 } else { mode })
}

#[cfg(not(windows))]
fn make_dir(path: &Path, _mode: u32) -> io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, _mode);
    b.create(path)
}

#[cfg(windows)]
fn make_dir(path: &Path, mode: u32) -> io::Result<()> {
    win_glue::create_dir(path, mode)
}

#[cfg(unix)]
fn flush_dir(path: &Path) -> io::Result<()> {
    flush_file(&File::open(path)?, false)
}

/// Windows has no directory fsync (a directory handle cannot be flushed
/// without backup semantics; NTFS journals the rename itself): `sync_dir`
/// treats this as "nothing to do here".
#[cfg(not(unix))]
fn flush_dir(_path: &Path) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "no directory fsync on this platform",
    ))
}

/// Windows: what the wide APIs take, and the files they open.
#[cfg(windows)]
mod win_glue {
    use super::{platform, windows};
    use std::fs::File;
    use std::io;
    use std::os::windows::ffi::OsStrExt;
    use std::os::windows::io::{AsRawHandle, FromRawHandle};
    use std::path::Path;

    pub fn wide(path: &Path) -> Vec<u16> {
        platform::windows_wide_path(&path.as_os_str().encode_wide().collect::<Vec<u16>>())
    }

    /// Creates (`new`) or opens-or-creates a file; created owner-only when
    /// `mode` is private.
    pub fn open(path: &Path, new: bool, mode: u32) -> io::Result<File> {
        let w = wide(path);
        let h = windows::create_file(w.as_ptr(), new, platform::mode_is_private(mode))?;
        // SAFETY: a handle CreateFileW just returned, owned by the File now.
        Ok(unsafe { File::from_raw_handle(h) })
    }

    pub fn create_dir(path: &Path, mode: u32) -> io::Result<()> {
        windows::create_dir(wide(path).as_ptr(), platform::mode_is_private(mode))
    }

    pub fn set_file_acl(f: &File, mode: u32) -> io::Result<()> {
        windows::set_handle_acl(f.as_raw_handle(), platform::mode_is_private(mode))
    }

    /// Tightening: a private mode makes the path owner-only (a looser one is
    /// left as it is, as chmod never loosens in `tighten_mode`).
    pub fn tighten(path: &Path, mode: u32) -> io::Result<()> {
        if platform::mode_is_private(mode) {
            windows::make_private(wide(path).as_ptr())
        } else {
            Ok(())
        }
    }
}

#[cfg(unix)]
fn positioned_write(f: &File, offset: u64, data: &[u8]) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(f, data, offset)
}

#[cfg(windows)]
fn positioned_write(f: &File, mut offset: u64, mut data: &[u8]) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !data.is_empty() {
        let n = f.seek_write(data, offset)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::WriteZero, "wrote 0 bytes"));
        }
        data = &data[n..];
        offset += n as u64;
    }
    Ok(())
}

#[cfg(unix)]
fn positioned_read(f: &File, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(f, buf, offset)
}

#[cfg(windows)]
fn positioned_read(f: &File, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(f, buf, offset)
}

impl FileHandle for RealFile {
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        positioned_write(&self.0, offset, data)
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.0.write_all(data)
    }

    fn read_at(&mut self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; len];
        let mut got = 0;
        while got < len {
            let n = positioned_read(&self.0, offset + got as u64, &mut buf[got..])?;
            if n == 0 {
                break;
            }
            got += n;
        }
        buf.truncate(got);
        Ok(buf)
    }

    fn sync_data(&mut self) -> io::Result<()> {
        flush_file(&self.0, true)
    }

    fn sync_all(&mut self) -> io::Result<()> {
        flush_file(&self.0, false)
    }

    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.0.set_len(len)
    }

    fn len(&self) -> io::Result<u64> {
        self.0.metadata().map(|m| m.len())
    }

    fn set_mode(&mut self, _mode: u32) -> io::Result<()> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            self.0
                .set_permissions(std::fs::Permissions::from_mode(_mode))?;
        }
        #[cfg(windows)]
        win_glue::set_file_acl(&self.0, _mode)?;
        Ok(())
    }

    fn try_lock(&self) -> io::Result<bool> {
        match self.0.try_lock() {
            Ok(()) => Ok(true),
            Err(std::fs::TryLockError::WouldBlock) => Ok(false),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }

    fn unlock(&self) -> io::Result<()> {
        self.0.unlock()
    }

    fn blocking_lock(&self) -> io::Result<Option<Box<dyn BlockingLock>>> {
        Ok(Some(Box::new(self.0.try_clone()?)))
    }

    fn is_at(&self, path: &Path) -> io::Result<bool> {
        let here = same_file::Handle::from_file(self.0.try_clone()?)?;
        match same_file::Handle::from_path(path) {
            Ok(there) => Ok(here == there),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }
}

fn to_stat(m: std::fs::Metadata, is_symlink: bool) -> Stat {
    #[cfg(unix)]
    let mode = std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777;
    #[cfg(not(unix))]
    let mode = 0;
    Stat {
        len: m.len(),
        is_file: m.is_file(),
        is_dir: m.is_dir(),
        is_symlink,
        mode,
        modified: m.modified().ok(),
        #[cfg(unix)]
        ino: std::os::unix::fs::MetadataExt::ino(&m),
        #[cfg(not(unix))]
        ino: 0,
    }
}

impl FileSystem for RealFs {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn create_new(&self, path: &Path) -> io::Result<Box<dyn FileHandle>> {
        Ok(Box::new(RealFile(open_file(path, true, 0o600)?)))
    }

    fn open_rw(&self, path: &Path, mode: u32) -> io::Result<Box<dyn FileHandle>> {
        Ok(Box::new(RealFile(open_file(path, false, mode)?)))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        // Windows: std calls MoveFileExW(MOVEFILE_REPLACE_EXISTING), and on
        // ERROR_ACCESS_DENIED (a handle holds the target open) retries with
        // FileRenameInfoEx + POSIX semantics, which NTFS has and FAT/exFAT,
        // SMB and ReFS lack: there the store never renames over a file it
        // holds open (see `Semantics::replace_open_files`), and another
        // program's hold is waited out by `Patient`.
        if let Some(e) = crate::testing::rename_refusal(to) {
            return Err(e);
        }
        std::fs::rename(from, to)
    }

    #[cfg(target_os = "linux")]
    fn exchange(&self, a: &Path, b: &Path) -> io::Result<()> {
        use std::ffi::CString;
        if let Some(e) = crate::testing::rename_refusal(b) {
            return Err(e);
        }
        use std::os::unix::ffi::OsStrExt;
        let ca = CString::new(a.as_os_str().as_bytes())?;
        let cb = CString::new(b.as_os_str().as_bytes())?;
        const RENAME_EXCHANGE: libc::c_uint = 2;
        // SAFETY: two valid NUL-terminated paths; the syscall reads them only.
        let r = unsafe {
            libc::syscall(
                libc::SYS_renameat2,
                libc::AT_FDCWD,
                ca.as_ptr(),
                libc::AT_FDCWD,
                cb.as_ptr(),
                RENAME_EXCHANGE,
            )
        };
        if r == 0 {
            return Ok(());
        }
        // an old kernel, or a file system without exchange
        Err(platform::exchange_error(io::Error::last_os_error()))
    }

    /// macOS: `renamex_np(RENAME_SWAP)` (APFS, HFS+; 10.12+).
    #[cfg(target_os = "macos")]
    fn exchange(&self, a: &Path, b: &Path) -> io::Result<()> {
        if let Some(e) = crate::testing::rename_refusal(b) {
            return Err(e);
        }
        macos::swap(a, b).map_err(platform::exchange_error)
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path)
    }

    fn create_dir(&self, path: &Path, mode: u32) -> io::Result<()> {
        make_dir(path, mode)
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        flush_dir(path)
    }

    fn stat(&self, path: &Path, follow: bool) -> io::Result<Stat> {
        if follow {
            let m = std::fs::metadata(path)?;
            Ok(to_stat(m, false))
        } else {
            let m = std::fs::symlink_metadata(path)?;
            let link = m.file_type().is_symlink();
            Ok(to_stat(m, link))
        }
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(path)? {
            let e = e?;
            if let Some(name) = e.file_name().to_str() {
                out.push(name.to_string());
            }
        }
        Ok(out)
    }

    fn set_mode(&self, _path: &Path, _mode: u32) -> io::Result<()> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(_path, std::fs::Permissions::from_mode(_mode))?;
        }
        #[cfg(windows)]
        win_glue::tighten(_path, _mode)?;
        Ok(())
    }

    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        std::fs::read_link(path)
    }

    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        std::fs::canonicalize(path)
    }
}

/// Whether a process with this id is running (temp files of a running process
/// are not touched).
pub fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    #[cfg(unix)]
    {
        // kill(pid, 0) checks existence; EPERM means it exists (another user's)
        // SAFETY: signal 0 sends nothing (only the existence and permission
        // checks run); the call takes two integers and touches no memory.
        let r = unsafe { libc::kill(pid as libc::pid_t, 0) };
        r == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(windows)]
    {
        platform::alive(windows::probe_process(pid))
    }
    #[cfg(not(any(unix, windows)))]
    {
        // No cheap check here: treat it as alive, and let the age rule decide.
        true
    }
}

// ---------------------------------------------------------------------------
// Fault injection (tests)
// ---------------------------------------------------------------------------

/// The operations a [`FaultFs`] counts and can fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// `write_at` / `write_all`.
    Write,
    /// `sync_data` / `sync_all` / `sync_dir`.
    Sync,
    Rename,
    /// `set_len`.
    Truncate,
}

/// When and how a [`FaultFs`] fails.
#[derive(Clone, Debug)]
pub struct FaultPlan {
    pub kind: FaultKind,
    /// Fail the k-th operation of `kind` (1-based).
    pub at: u64,
    /// The OS error number (`ENOSPC`, `EIO`, ...).
    pub errno: i32,
    /// Fail every later operation of every kind too (a crash: nothing after it
    /// reaches the disk), instead of only the k-th one.
    pub sticky: bool,
}

#[derive(Default, Debug)]
struct FaultState {
    plan: Option<FaultPlan>,
    /// Refuse every create, open for writing and rename (`EROFS`).
    read_only: bool,
    counts: std::collections::HashMap<FaultKind, u64>,
    tripped: bool,
    injected: u64,
}

/// A file system that passes everything to another one (the real one, or a
/// simulated Windows), counting writes, fsyncs, renames and truncations, and
/// fails the one its plan names.
#[derive(Clone)]
pub struct FaultFs {
    state: Arc<Mutex<FaultState>>,
    inner: Arc<dyn FileSystem>,
}

impl Default for FaultFs {
    fn default() -> FaultFs {
        FaultFs::over(Arc::new(RealFs), None)
    }
}

impl FaultFs {
    pub fn new(plan: Option<FaultPlan>) -> FaultFs {
        FaultFs::over(Arc::new(RealFs), plan)
    }

    /// Faults injected on top of `inner`.
    pub fn over(inner: Arc<dyn FileSystem>, plan: Option<FaultPlan>) -> FaultFs {
        FaultFs {
            state: Arc::new(Mutex::new(FaultState {
                plan,
                ..FaultState::default()
            })),
            inner,
        }
    }

    /// A file system on which nothing can be created or written (as a
    /// read-only mount).
    pub fn read_only() -> FaultFs {
        let fs = FaultFs::default();
        fs.state.lock().unwrap().read_only = true;
        fs
    }

    fn refuse_writes(&self) -> io::Result<()> {
        if self.state.lock().unwrap().read_only {
            #[cfg(unix)]
            return Err(io::Error::from_raw_os_error(libc::EROFS));
            #[cfg(not(unix))]
            return Err(io::Error::from(io::ErrorKind::ReadOnlyFilesystem));
        }
        Ok(())
    }

    /// How many operations of `kind` ran (failed ones included).
    pub fn count(&self, kind: FaultKind) -> u64 {
        self.state
            .lock()
            .unwrap()
            .counts
            .get(&kind)
            .copied()
            .unwrap_or(0)
    }

    /// How many failures were injected.
    pub fn injected(&self) -> u64 {
        self.state.lock().unwrap().injected
    }

    /// Sets a plan whose `at` counts from now (operations so far do not count).
    pub fn arm(&self, mut plan: FaultPlan) {
        let mut s = self.state.lock().unwrap();
        plan.at += s.counts.get(&plan.kind).copied().unwrap_or(0);
        s.plan = Some(plan);
        s.tripped = false;
    }

    /// Stops failing (the disk has room again).
    pub fn heal(&self) {
        let mut s = self.state.lock().unwrap();
        s.plan = None;
        s.tripped = false;
    }

    fn check(&self, kind: FaultKind) -> io::Result<()> {
        let mut s = self.state.lock().unwrap();
        let n = {
            let c = s.counts.entry(kind).or_insert(0);
            *c += 1;
            *c
        };
        let Some(plan) = s.plan.clone() else {
            return Ok(());
        };
        if s.tripped || (plan.kind == kind && n == plan.at) {
            s.tripped = plan.sticky;
            s.injected += 1;
            return Err(io::Error::from_raw_os_error(plan.errno));
        }
        Ok(())
    }
}

struct FaultFile {
    inner: Box<dyn FileHandle>,
    fs: FaultFs,
}

impl FileHandle for FaultFile {
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.fs.check(FaultKind::Write)?;
        self.inner.write_at(offset, data)
    }
    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.fs.check(FaultKind::Write)?;
        self.inner.write_all(data)
    }
    fn read_at(&mut self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        self.inner.read_at(offset, len)
    }
    fn sync_data(&mut self) -> io::Result<()> {
        self.fs.check(FaultKind::Sync)?;
        self.inner.sync_data()
    }
    fn sync_all(&mut self) -> io::Result<()> {
        self.fs.check(FaultKind::Sync)?;
        self.inner.sync_all()
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.fs.check(FaultKind::Truncate)?;
        self.inner.set_len(len)
    }
    fn len(&self) -> io::Result<u64> {
        self.inner.len()
    }
    fn set_mode(&mut self, mode: u32) -> io::Result<()> {
        self.inner.set_mode(mode)
    }
    fn try_lock(&self) -> io::Result<bool> {
        self.inner.try_lock()
    }
    fn unlock(&self) -> io::Result<()> {
        self.inner.unlock()
    }
    fn blocking_lock(&self) -> io::Result<Option<Box<dyn BlockingLock>>> {
        self.inner.blocking_lock()
    }
    fn is_at(&self, path: &Path) -> io::Result<bool> {
        self.inner.is_at(path)
    }
}

impl FileSystem for FaultFs {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.inner.read(path)
    }
    fn create_new(&self, path: &Path) -> io::Result<Box<dyn FileHandle>> {
        self.refuse_writes()?;
        Ok(Box::new(FaultFile {
            inner: self.inner.create_new(path)?,
            fs: self.clone(),
        }))
    }
    fn open_rw(&self, path: &Path, mode: u32) -> io::Result<Box<dyn FileHandle>> {
        self.refuse_writes()?;
        Ok(Box::new(FaultFile {
            inner: self.inner.open_rw(path, mode)?,
            fs: self.clone(),
        }))
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.refuse_writes()?;
        self.check(FaultKind::Rename)?;
        self.inner.rename(from, to)
    }
    fn exchange(&self, a: &Path, b: &Path) -> io::Result<()> {
        self.refuse_writes()?;
        self.check(FaultKind::Rename)?;
        self.inner.exchange(a, b)
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.inner.remove_file(path)
    }
    fn create_dir(&self, path: &Path, mode: u32) -> io::Result<()> {
        self.refuse_writes()?;
        self.inner.create_dir(path, mode)
    }
    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        self.check(FaultKind::Sync)?;
        self.inner.sync_dir(path)
    }
    fn stat(&self, path: &Path, follow: bool) -> io::Result<Stat> {
        self.inner.stat(path, follow)
    }
    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        self.inner.read_dir(path)
    }
    fn set_mode(&self, path: &Path, mode: u32) -> io::Result<()> {
        self.inner.set_mode(path, mode)
    }
    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        self.inner.read_link(path)
    }
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        self.inner.canonicalize(path)
    }
    fn semantics(&self) -> Semantics {
        self.inner.semantics()
    }
}

// ---------------------------------------------------------------------------
// Waiting out another program's hold
// ---------------------------------------------------------------------------

/// A file system that retries an operation another program holds up for a
/// moment (Windows: antivirus, backup and indexing software opening what they
/// see change; see [`platform::is_transient`]) — on the store's own background
/// threads only, which take [`platform::patient`]; the thread that calls `set`
/// never sleeps and gets the hold's error at once. Bounded
/// ([`platform::RetryPolicy::DEFAULT`], 1.4 s per operation): a hold that
/// outlasts it fails the operation with its own OS error, which the writer
/// reports and retries in its turn. Every store file system is wrapped in one.
#[derive(Clone)]
pub struct Patient {
    inner: Arc<dyn FileSystem>,
    policy: platform::RetryPolicy,
}

impl Patient {
    pub fn new(inner: Arc<dyn FileSystem>) -> Patient {
        Patient {
            inner,
            policy: platform::RetryPolicy::DEFAULT,
        }
    }
}

/// `fs` wrapped in a [`Patient`] (once).
pub fn patient_fs(fs: Arc<dyn FileSystem>) -> Arc<dyn FileSystem> {
    Arc::new(Patient::new(fs))
}

struct PatientFile {
    inner: Box<dyn FileHandle>,
    policy: platform::RetryPolicy,
}

impl FileHandle for PatientFile {
    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.inner.write_at(offset, data)
    }
    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.inner.write_all(data)
    }
    fn read_at(&mut self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        self.inner.read_at(offset, len)
    }
    fn sync_data(&mut self) -> io::Result<()> {
        self.inner.sync_data()
    }
    fn sync_all(&mut self) -> io::Result<()> {
        self.inner.sync_all()
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        // a section another program maps (ERROR_USER_MAPPED_FILE) blocks it
        let inner = &mut self.inner;
        platform::retry_transient(&self.policy, || inner.set_len(len))
    }
    fn len(&self) -> io::Result<u64> {
        self.inner.len()
    }
    fn set_mode(&mut self, mode: u32) -> io::Result<()> {
        self.inner.set_mode(mode)
    }
    fn try_lock(&self) -> io::Result<bool> {
        self.inner.try_lock()
    }
    fn unlock(&self) -> io::Result<()> {
        self.inner.unlock()
    }
    fn blocking_lock(&self) -> io::Result<Option<Box<dyn BlockingLock>>> {
        self.inner.blocking_lock()
    }
    fn is_at(&self, path: &Path) -> io::Result<bool> {
        platform::retry_transient(&self.policy, || self.inner.is_at(path))
    }
}

impl Patient {
    fn wrap(&self, f: Box<dyn FileHandle>) -> Box<dyn FileHandle> {
        Box::new(PatientFile {
            inner: f,
            policy: self.policy,
        })
    }
    fn retry<T>(&self, op: impl FnMut() -> io::Result<T>) -> io::Result<T> {
        platform::retry_transient(&self.policy, op)
    }
}

impl FileSystem for Patient {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.retry(|| self.inner.read(path))
    }
    fn create_new(&self, path: &Path) -> io::Result<Box<dyn FileHandle>> {
        self.retry(|| self.inner.create_new(path))
            .map(|f| self.wrap(f))
    }
    fn open_rw(&self, path: &Path, mode: u32) -> io::Result<Box<dyn FileHandle>> {
        self.retry(|| self.inner.open_rw(path, mode))
            .map(|f| self.wrap(f))
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.retry(|| self.inner.rename(from, to))
    }
    fn exchange(&self, a: &Path, b: &Path) -> io::Result<()> {
        self.retry(|| self.inner.exchange(a, b))
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.retry(|| self.inner.remove_file(path))
    }
    fn create_dir(&self, path: &Path, mode: u32) -> io::Result<()> {
        self.retry(|| self.inner.create_dir(path, mode))
    }
    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        self.inner.sync_dir(path)
    }
    fn stat(&self, path: &Path, follow: bool) -> io::Result<Stat> {
        self.inner.stat(path, follow)
    }
    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        self.inner.read_dir(path)
    }
    fn set_mode(&self, path: &Path, mode: u32) -> io::Result<()> {
        self.retry(|| self.inner.set_mode(path, mode))
    }
    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        self.inner.read_link(path)
    }
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        self.inner.canonicalize(path)
    }
    fn semantics(&self) -> Semantics {
        self.inner.semantics()
    }
}

// ---------------------------------------------------------------------------
// Helpers every writer uses
// ---------------------------------------------------------------------------

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Temp files older than this are removed at open even when their process
/// still seems alive (a reused pid, or a platform without a cheap pid check).
const STALE_TEMP_AGE: Duration = Duration::from_secs(3600);

/// Temp-file name beside `target` (same directory, so the rename is atomic):
/// `.<file>.<pid>.<n>.tmp`.
pub fn temp_path(target: &Path) -> PathBuf {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = target
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

/// The parent directory of a path (`.` for a bare name).
pub fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// fsyncs a directory so a rename or create in it is durable. Where the
/// platform or volume has no directory fsync (Windows; `EINVAL`/`ENOTSUP` from
/// SMB, NFS and FUSE volumes on macOS and Linux) there is nothing more to do:
/// the entry is as durable as that file system makes it (SQLite ignores
/// directory-fsync errors for the same reason). A real error (`EIO`) fails.
pub fn sync_dir(fs: &dyn FileSystem, dir: &Path) -> Result<()> {
    match fs.sync_dir(dir) {
        Err(e) if platform::sync_unsupported(&e) => Ok(()),
        r => r.map_err(Error::io("fsync directory", dir)),
    }
}

/// Atomically replaces `target` with `data`: a temp file (mode 0600) in the same
/// directory, write, chmod to `mode`, fsync, rename over the target, fsync the
/// directory. The target is never truncated in place; on an error before the
/// rename the old content is untouched and the temp file is removed. (An error
/// from the final directory fsync means the new content is in place but may not
/// be durable yet; callers treat it as a failed write.)
pub fn atomic_write(fs: &dyn FileSystem, target: &Path, data: &[u8], mode: u32) -> Result<()> {
    atomic_write_with(fs, target, data, mode, |_| {})
}

/// What [`atomic_write_with`] tells its caller around the replace.
pub enum ReplaceStep<'a> {
    /// The temp file (our new content) is about to replace the target.
    Before(&'a Path),
    /// The target was swapped atomically with the temp file: this path now
    /// holds what the target held at that instant (removed after the call).
    Displaced(&'a Path),
}

/// `atomic_write`, telling `hook` about the replace: where the platform can
/// swap the two names atomically (Linux), the file that was displaced is shown
/// to the hook before it is removed, so an edit another program saved an
/// instant before the replace is never lost unseen; elsewhere the hook gets
/// `Before` right before the rename (a window of microseconds).
pub fn atomic_write_with(
    fs: &dyn FileSystem,
    target: &Path,
    data: &[u8],
    mode: u32,
    hook: impl FnMut(ReplaceStep<'_>),
) -> Result<()> {
    let tmp = write_temp(fs, target, data, mode)?;
    replace_with_temp(fs, &tmp, target, hook)
}

/// The first half of [`atomic_write_with`]: `data` durably in a new temp file
/// beside `target` (mode `mode`), its path returned; on an error the temp file
/// is removed. The second half, [`replace_with_temp`], may run later (a
/// checkpoint prepared off the writer thread is put in place by it).
pub fn write_temp(fs: &dyn FileSystem, target: &Path, data: &[u8], mode: u32) -> Result<PathBuf> {
    let tmp = temp_path(target);
    let result = (|| {
        let mut f = fs
            .create_new(&tmp)
            .map_err(Error::io("create temp file", &tmp))?;
        f.write_all(data).map_err(Error::io("write", &tmp))?;
        if mode != 0o600 {
            f.set_mode(mode).map_err(Error::io("chmod", &tmp))?;
        }
        f.sync_all().map_err(Error::io("fsync", &tmp))?;
        Ok(())
    })();
    match result {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = fs.remove_file(&tmp);
            Err(e)
        }
    }
}

/// The second half of [`atomic_write_with`]: the durable temp file `tmp`
/// (from [`write_temp`]) replaces `target`, then the directory is fsynced.
/// On an error before the replace the temp file is removed.
pub fn replace_with_temp(
    fs: &dyn FileSystem,
    tmp: &Path,
    target: &Path,
    mut hook: impl FnMut(ReplaceStep<'_>),
) -> Result<()> {
    let tmp = tmp.to_path_buf();
    let result = {
        // Another program's hold on the target (Windows) is waited out here,
        // not inside `fs.rename`, so the look before the replace is taken
        // again right before each try: an edit saved while we waited is seen.
        let policy = platform::RetryPolicy::DEFAULT;
        let mut tries = 0;
        loop {
            hook(ReplaceStep::Before(&tmp));
            let r = {
                let _once = platform::impatient();
                match fs.exchange(&tmp, target) {
                    Ok(()) => {
                        hook(ReplaceStep::Displaced(&tmp));
                        let _ = fs.remove_file(&tmp);
                        Ok(())
                    }
                    Err(e)
                        if e.kind() == io::ErrorKind::Unsupported
                            || e.kind() == io::ErrorKind::NotFound =>
                    {
                        fs.rename(&tmp, target)
                    }
                    Err(e) => Err(e),
                }
            };
            match r {
                Err(e)
                    if platform::is_transient(&e)
                        && platform::is_patient()
                        && tries < policy.attempts =>
                {
                    std::thread::sleep(policy.delay(tries));
                    tries += 1;
                }
                r => break r.map_err(Error::io("rename over", target)),
            }
        }
    };
    if result.is_err() {
        let _ = fs.remove_file(&tmp);
        return result;
    }
    sync_dir(fs, parent_of(target))
}

/// Writes a new file that must not exist yet (a quarantine copy, a damaged
/// journal kept aside), durably: same steps as `atomic_write`.
pub fn write_new(fs: &dyn FileSystem, target: &Path, data: &[u8], mode: u32) -> Result<()> {
    atomic_write(fs, target, data, mode)
}

/// Removes temp files (`.<name>.<pid>.<n>.tmp`) that crashed processes left in
/// `dir`. With `only_for`, just the temps of files with that name prefix. Temps
/// of a running process are kept unless they are over an hour old. Returns how
/// many were removed.
pub fn remove_stale_temps(fs: &dyn FileSystem, dir: &Path, only_for: Option<&str>) -> usize {
    let Ok(names) = fs.read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for fname in names {
        let Some(rest) = fname.strip_prefix('.').and_then(|r| r.strip_suffix(".tmp")) else {
            continue;
        };
        if let Some(prefix) = only_for {
            if !rest.starts_with(prefix) {
                continue;
            }
        }
        // <name>.<pid>.<n>
        let mut parts = rest.rsplitn(3, '.');
        let (Some(n), Some(pid), Some(_name)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let (Ok(_), Ok(pid)) = (n.parse::<u64>(), pid.parse::<u32>()) else {
            continue;
        };
        let path = dir.join(&fname);
        let old = fs
            .stat(&path, false)
            .ok()
            .and_then(|s| s.modified)
            .and_then(|m| m.elapsed().ok())
            .is_some_and(|age| age > STALE_TEMP_AGE);
        let ours_now = pid == std::process::id();
        if (!ours_now && (!process_alive(pid) || old)) && fs.remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Creates `dir` and any missing parents, each with mode 0700, durably: after
/// each directory it creates, its parent is fsynced (up to the first
/// directory that already existed). A new directory's name lives in its
/// parent, and fsyncing the files made inside it does not make that name
/// durable (POSIX; file systems that persist each directory on its own), so
/// without this a power cut could take a new store's `cwd`, `storeHistory/`
/// or `backups/` away with every acknowledged change written into them
/// (`__test__/powercut.spec.js`).
pub fn ensure_dir(fs: &dyn FileSystem, dir: &Path) -> Result<()> {
    match fs.stat(dir, true) {
        Ok(s) if s.is_dir => return Ok(()),
        Ok(_) => {
            return Err(Error::io("create directory", dir)(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "a file of that name is in the way",
            )))
        }
        Err(_) => {}
    }
    let parent = parent_of(dir);
    if dir.parent().is_some_and(|p| !p.as_os_str().is_empty()) {
        ensure_dir(fs, parent)?;
    }
    match fs.create_dir(dir, 0o700) {
        Ok(()) => {}
        // another process created it an instant ago and may not have made its
        // name durable yet: the fsync below does
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(Error::io("create directory", dir)(e)),
    }
    sync_dir(fs, parent)
}

/// `ensure_dir` for a directory only the store uses (`storeHistory/`,
/// `backups/`, migration snapshots): created 0700, and an existing one with
/// looser permissions is tightened to 0700.
pub fn ensure_private_dir(fs: &dyn FileSystem, dir: &Path) -> Result<()> {
    ensure_dir(fs, dir)?;
    tighten_mode(fs, dir, 0o700)
}

/// Tightens a file's mode to `mode` if it has any permission bit beyond it.
/// With ACLs (Windows), a private `mode` gives the file an owner-only ACL
/// unless its ACL is protected already; a looser one leaves it as it is.
pub fn tighten_mode(fs: &dyn FileSystem, path: &Path, mode: u32) -> Result<()> {
    if fs.semantics().access == Access::Acl {
        if !platform::mode_is_private(mode) {
            return Ok(());
        }
        return match fs.set_mode(path, mode) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            r => r.map_err(Error::io("set the ACL of", path)),
        };
    }
    match fs.stat(path, true) {
        Ok(s) => {
            let cur = s.mode & 0o777;
            if cur & !mode != 0 {
                fs.set_mode(path, cur & mode)
                    .map_err(Error::io("chmod", path))?;
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("stat", path)(e)),
    }
}

/// Reads a file; `Ok(None)` when it does not exist.
pub fn read_if_exists(fs: &dyn FileSystem, path: &Path) -> Result<Option<Vec<u8>>> {
    match fs.read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path)(e)),
    }
}

/// The file a path finally names: a symlink (or a chain of them) is followed to
/// its target, which may not exist yet (conf writes through a link, creating the
/// target). A path that is not a link is returned as it is.
pub fn resolve_links(fs: &dyn FileSystem, path: &Path) -> Result<PathBuf> {
    let mut cur = path.to_path_buf();
    for _ in 0..40 {
        match fs.stat(&cur, false) {
            Ok(s) if s.is_symlink => {
                let target = fs.read_link(&cur).map_err(Error::io("read link", &cur))?;
                cur = if target.is_absolute() {
                    target
                } else {
                    parent_of(&cur).join(target)
                };
            }
            _ => return Ok(cur),
        }
    }
    Err(Error::io("resolve link", path)(io::Error::other(
        "too many levels of symbolic links",
    )))
}

/// The path that identifies a file or directory: its canonical form, or —
/// where `canonicalize` fails although the path exists (Windows volumes that
/// bypass the mount manager, such as RAM disks: rust-lang/rust#79449) — the
/// absolute path, as rustc's own `try_canonicalize` falls back. Used for
/// identity only; the store keeps the path it was given for everything it
/// shows and opens.
pub fn canonical_or_absolute(fs: &dyn FileSystem, path: &Path) -> io::Result<PathBuf> {
    match fs.canonicalize(path) {
        Ok(p) => Ok(p),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(e),
        Err(_) => std::path::absolute(path),
    }
}

/// Whether an I/O error means "this place cannot be written" (a read-only
/// directory or file system).
pub fn is_read_only_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem
    ) || {
        #[cfg(unix)]
        {
            matches!(
                e.raw_os_error(),
                Some(libc::EROFS) | Some(libc::EACCES) | Some(libc::EPERM)
            )
        }
        #[cfg(not(unix))]
        {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode_of(p: &Path) -> u32 {
        RealFs.stat(p, true).unwrap().mode & 0o777
    }

    #[test]
    fn atomic_write_replaces_and_sets_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.json");
        atomic_write(&RealFs, &p, b"one", 0o600).unwrap();
        atomic_write(&RealFs, &p, b"two", 0o640).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        if cfg!(unix) {
            assert_eq!(mode_of(&p), 0o640);
        }
        // no temp files left behind
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        tighten_mode(&RealFs, &p, 0o600).unwrap();
        if cfg!(unix) {
            assert_eq!(mode_of(&p), 0o600);
        }
    }

    #[test]
    fn stale_temps_of_dead_processes_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".f.json.999999999.3.tmp"), b"x").unwrap();
        let mine = dir
            .path()
            .join(format!(".f.json.{}.0.tmp", std::process::id()));
        std::fs::write(&mine, b"x").unwrap();
        std::fs::write(dir.path().join(".other.json.999999999.3.tmp"), b"x").unwrap();
        std::fs::write(dir.path().join(".not-ours.tmp"), b"x").unwrap();
        assert_eq!(remove_stale_temps(&RealFs, dir.path(), Some("f.json")), 1);
        assert!(mine.exists());
        assert_eq!(remove_stale_temps(&RealFs, dir.path(), None), 1);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn failed_write_keeps_old_content_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.json");
        atomic_write(&RealFs, &p, b"keep", 0o600).unwrap();
        for kind in [FaultKind::Write, FaultKind::Sync, FaultKind::Rename] {
            let fs = FaultFs::new(Some(FaultPlan {
                kind,
                at: 1,
                errno: crate::error::raw::NO_SPACE,
                sticky: false,
            }));
            let err = atomic_write(&fs, &p, b"new", 0o600).unwrap_err();
            assert_eq!(err.code(), "E_NOSPC", "{kind:?}");
            assert_eq!(std::fs::read(&p).unwrap(), b"keep");
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        }
    }

    #[test]
    fn directories_are_created_0700_and_links_resolved() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("a/b/c");
        ensure_dir(&RealFs, &d).unwrap();
        if cfg!(unix) {
            assert_eq!(mode_of(&d), 0o700);
            assert_eq!(mode_of(&dir.path().join("a")), 0o700);
        }
        #[cfg(unix)]
        {
            let target = dir.path().join("real.json");
            let link = dir.path().join("link.json");
            std::os::unix::fs::symlink("real.json", &link).unwrap();
            assert_eq!(resolve_links(&RealFs, &link).unwrap(), target);
            atomic_write(
                &RealFs,
                &resolve_links(&RealFs, &link).unwrap(),
                b"x",
                0o600,
            )
            .unwrap();
            assert!(RealFs.stat(&link, false).unwrap().is_symlink);
            assert_eq!(std::fs::read(&link).unwrap(), b"x");
        }
    }
}
