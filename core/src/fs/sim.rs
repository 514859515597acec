//! Other platforms' file-system semantics, simulated over the real file
//! system, so the store's tests run against them on Linux:
//!
//! - **Windows** ([`Profile::windows_fat`], [`Profile::windows_ntfs`]): a file
//!   that is open cannot be renamed over or deleted (FAT/exFAT, SMB, ReFS —
//!   where std's POSIX-rename fallback does not exist), another program's
//!   hold ([`SimFs::hold`]: antivirus, backup, indexer) makes rename, delete
//!   and truncate fail with `ERROR_SHARING_VIOLATION` /
//!   `ERROR_USER_MAPPED_FILE` for as long as it lasts (an exclusive hold makes
//!   opens and reads fail too), directories cannot be fsynced, there are no
//!   inode numbers and no mode bits (ACLs are recorded instead:
//!   [`SimFs::is_private`]), timestamps have FAT's 2 s granularity, and names
//!   are case-insensitive;
//! - **a macOS network volume** ([`Profile::macos_network`]: SMB, NFS, FUSE):
//!   `F_FULLFSYNC` is not supported (every flush goes through the fallback
//!   real macOS flushes take), directory fsync fails with `EINVAL`, names are
//!   case-insensitive;
//! - **a volume that bypasses the mount manager** (`canonicalize_fails`).
//!
//! Errors carry Windows codes as [`platform::WinError`], so the store
//! classifies them with the same functions as real Windows errors. Files are
//! tracked by name (the simulated rules keep a name on its file while it is
//! open). One `SimFs` is one machine: every store opened on it — as in
//! several processes — shares its open files and holds.
//!
//! Stricter than Windows in one place: deleting a file that is open (shared
//! for delete) on a non-POSIX volume is refused with `ERROR_ACCESS_DENIED`,
//! where Windows would mark it delete-pending.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::platform::{self, win, win_error, Access, Semantics};
use super::{FileHandle, FileSystem, RealFs, Stat};

/// What `fsync` on a directory does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirSync {
    Works,
    /// Windows: there is no directory fsync.
    Unsupported,
    /// Some SMB/NFS/FUSE volumes: `EINVAL`.
    Einval,
}

/// The platform a [`SimFs`] behaves as.
#[derive(Clone, Debug)]
pub struct Profile {
    pub name: &'static str,
    /// Windows' rules for open and held files, ACLs instead of modes.
    pub windows: bool,
    /// NTFS: a rename may replace a file that handles hold open (std falls back
    /// to `FileRenameInfoEx` with POSIX semantics), and a delete of an open
    /// file succeeds. `false` (FAT/exFAT, SMB, ReFS): both are refused with
    /// `ERROR_ACCESS_DENIED` while any handle is open.
    pub posix_rename: bool,
    pub case_insensitive: bool,
    /// `stat` reports inode numbers (Windows: none).
    pub inode: bool,
    /// Timestamp granularity (FAT: 2 s); zero keeps the real file system's.
    pub mtime_step: Duration,
    pub dir_sync: DirSync,
    /// `F_FULLFSYNC` works; `false`: it answers `ENOTSUP` and every flush
    /// falls back to `fsync` through `platform::sync_with_fallback`.
    pub full_fsync: bool,
    /// `canonicalize` fails (a RAM disk that bypasses the mount manager).
    pub canonicalize_fails: bool,
    /// What the store is told about this file system.
    pub semantics: Semantics,
}

impl Profile {
    /// Windows on FAT/exFAT, an SMB-redirected folder or ReFS: the strictest
    /// Windows there is.
    pub fn windows_fat() -> Profile {
        Profile {
            name: "windows-fat",
            windows: true,
            posix_rename: false,
            case_insensitive: true,
            inode: false,
            mtime_step: Duration::from_secs(2),
            dir_sync: DirSync::Unsupported,
            full_fsync: true,
            canonicalize_fails: false,
            semantics: Semantics::WINDOWS,
        }
    }

    /// Windows on NTFS (POSIX rename and delete available).
    pub fn windows_ntfs() -> Profile {
        Profile {
            name: "windows-ntfs",
            posix_rename: true,
            mtime_step: Duration::ZERO,
            ..Profile::windows_fat()
        }
    }

    /// A macOS SMB/NFS/FUSE volume: no `F_FULLFSYNC`, directory fsync `EINVAL`.
    pub fn macos_network() -> Profile {
        Profile {
            name: "macos-network",
            windows: false,
            posix_rename: true,
            case_insensitive: true,
            inode: true,
            mtime_step: Duration::ZERO,
            dir_sync: DirSync::Einval,
            full_fsync: false,
            canonicalize_fails: false,
            semantics: Semantics::MACOS,
        }
    }
}

/// How another program holds a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoldKind {
    /// Open without `FILE_SHARE_DELETE`, with a section mapped (what antivirus,
    /// backup and indexing software do): the file cannot be renamed (from or
    /// over), deleted or truncated; it can be opened, read and written.
    Scan,
    /// Open without any sharing: it cannot even be opened or read.
    Exclusive,
}

/// A hold, for [`SimFs::release`].
#[derive(Debug, PartialEq, Eq)]
pub struct HoldId(u64);

/// What the simulation refused or changed, so far.
#[derive(Clone, Debug, Default)]
pub struct Counts {
    /// `ERROR_SHARING_VIOLATION` returned (a hold).
    pub sharing_violations: u64,
    /// `ERROR_ACCESS_DENIED` returned (replace or delete of an open file).
    pub access_denied: u64,
    /// `ERROR_USER_MAPPED_FILE` returned (truncate under a hold).
    pub mapped_section: u64,
    /// Flushes that fell back from `F_FULLFSYNC` to `fsync`.
    pub full_fsync_fallbacks: u64,
    /// Directory fsyncs refused.
    pub dir_syncs_refused: u64,
    pub canonicalize_failures: u64,
    /// Renames that replaced an existing file.
    pub replaces: u64,
}

struct Hold {
    id: u64,
    key: String,
    kind: HoldKind,
    until: Option<Instant>,
}

#[derive(Default)]
struct State {
    /// Open handles: (id, file key).
    opens: Vec<(u64, String)>,
    holds: Vec<Hold>,
    next: u64,
    /// Explicit ACLs by file key: `true` owner-only (protected), `false`
    /// inherited. No entry: inherited.
    acl: HashMap<String, bool>,
    counts: Counts,
}

impl State {
    /// The kind of the first active hold on any of `keys` (expired ones go).
    fn held(&mut self, keys: &[&str]) -> Option<HoldKind> {
        let now = Instant::now();
        self.holds.retain(|h| h.until.is_none_or(|u| now < u));
        self.holds
            .iter()
            .find(|h| keys.contains(&h.key.as_str()))
            .map(|h| h.kind)
    }

    fn is_open(&self, key: &str) -> bool {
        self.opens.iter().any(|(_, k)| k == key)
    }
}

/// A file system with another platform's semantics (see the module docs).
#[derive(Clone)]
pub struct SimFs {
    profile: Arc<Profile>,
    st: Arc<Mutex<State>>,
}

impl SimFs {
    pub fn new(profile: Profile) -> SimFs {
        SimFs {
            profile: Arc::new(profile),
            st: Arc::new(Mutex::new(State::default())),
        }
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.st.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Another program holds `path` (as its name resolves now) for `length`
    /// (`None`: until [`SimFs::release`]).
    pub fn hold(&self, path: &Path, kind: HoldKind, length: Option<Duration>) -> HoldId {
        let key = self.key(&self.resolve(path));
        let mut st = self.lock();
        st.next += 1;
        let id = st.next;
        st.holds.push(Hold {
            id,
            key,
            kind,
            until: length.map(|d| Instant::now() + d),
        });
        HoldId(id)
    }

    /// Ends a hold.
    pub fn release(&self, hold: HoldId) {
        self.lock().holds.retain(|h| h.id != hold.0);
    }

    /// Whether a hold is still in force.
    pub fn is_held(&self, hold: &HoldId) -> bool {
        let mut st = self.lock();
        let now = Instant::now();
        st.holds.retain(|h| h.until.is_none_or(|u| now < u));
        st.holds.iter().any(|h| h.id == hold.0)
    }

    pub fn counts(&self) -> Counts {
        self.lock().counts.clone()
    }

    /// How many handles hold `path` open.
    pub fn open_handles(&self, path: &Path) -> usize {
        let key = self.key(&self.resolve(path));
        self.lock().opens.iter().filter(|(_, k)| *k == key).count()
    }

    /// Windows: whether only the owner (and SYSTEM) can open `path`: its own
    /// ACL is the owner-only one, or it inherits from a directory that is
    /// private. Elsewhere: its mode has no group/other bits.
    pub fn is_private(&self, path: &Path) -> bool {
        let path = self.resolve(path);
        if !self.profile.windows {
            return RealFs
                .stat(&path, true)
                .is_ok_and(|s| platform::mode_is_private(s.mode));
        }
        let explicit = self.lock().acl.get(&self.key(&path)).copied();
        match explicit {
            Some(true) => true,
            _ => path
                .parent()
                .is_some_and(|p| p != path && !p.as_os_str().is_empty() && self.is_private(p)),
        }
    }

    /// The name a path has on disk: with case-insensitive names, an existing
    /// entry whose name differs only in case.
    fn resolve(&self, p: &Path) -> PathBuf {
        if !self.profile.case_insensitive || std::fs::symlink_metadata(p).is_ok() {
            return p.to_path_buf();
        }
        let (Some(parent), Some(name)) = (p.parent(), p.file_name()) else {
            return p.to_path_buf();
        };
        let parent = if parent.as_os_str().is_empty() {
            parent.to_path_buf()
        } else {
            self.resolve(parent)
        };
        let want = name.to_string_lossy().to_lowercase();
        if let Ok(entries) = std::fs::read_dir(if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &parent
        }) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().to_lowercase() == want {
                    return parent.join(e.file_name());
                }
            }
        }
        parent.join(name)
    }

    /// The identity of a (resolved) path.
    fn key(&self, p: &Path) -> String {
        let s = p.to_string_lossy().into_owned();
        if self.profile.case_insensitive {
            s.to_lowercase()
        } else {
            s
        }
    }

    fn refuse(&self, st: &mut State, code: u32) -> io::Error {
        match code {
            win::ERROR_SHARING_VIOLATION => st.counts.sharing_violations += 1,
            win::ERROR_ACCESS_DENIED => st.counts.access_denied += 1,
            win::ERROR_USER_MAPPED_FILE => st.counts.mapped_section += 1,
            _ => {}
        }
        win_error(code)
    }

    /// An open is refused by an exclusive hold.
    fn check_open(&self, key: &str) -> io::Result<()> {
        if !self.profile.windows {
            return Ok(());
        }
        let mut st = self.lock();
        if st.held(&[key]) == Some(HoldKind::Exclusive) {
            return Err(self.refuse(&mut st, win::ERROR_SHARING_VIOLATION));
        }
        Ok(())
    }

    fn register(&self, inner: Box<dyn FileHandle>, key: String) -> Box<dyn FileHandle> {
        let mut st = self.lock();
        st.next += 1;
        let id = st.next;
        st.opens.push((id, key.clone()));
        Box::new(SimFile {
            inner,
            id,
            key,
            fs: self.clone(),
        })
    }
}

#[cfg(unix)]
fn enotsup() -> io::Error {
    io::Error::from_raw_os_error(libc::ENOTSUP)
}

#[cfg(not(unix))]
fn enotsup() -> io::Error {
    io::Error::from(io::ErrorKind::Unsupported)
}

#[cfg(unix)]
fn einval() -> io::Error {
    io::Error::from_raw_os_error(libc::EINVAL)
}

#[cfg(not(unix))]
fn einval() -> io::Error {
    io::Error::from(io::ErrorKind::Unsupported)
}

struct SimFile {
    inner: Box<dyn FileHandle>,
    id: u64,
    key: String,
    fs: SimFs,
}

impl Drop for SimFile {
    fn drop(&mut self) {
        self.fs.lock().opens.retain(|(id, _)| *id != self.id);
    }
}

impl SimFile {
    fn flush(&mut self, data_only: bool) -> io::Result<()> {
        if self.fs.profile.full_fsync {
            return if data_only {
                self.inner.sync_data()
            } else {
                self.inner.sync_all()
            };
        }
        let inner = &mut self.inner;
        let fell_back = platform::sync_with_fallback(
            || Err(enotsup()),
            || {
                if data_only {
                    inner.sync_data()
                } else {
                    inner.sync_all()
                }
            },
        )?;
        if fell_back {
            self.fs.lock().counts.full_fsync_fallbacks += 1;
        }
        Ok(())
    }
}

impl FileHandle for SimFile {
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
        self.flush(true)
    }
    fn sync_all(&mut self) -> io::Result<()> {
        self.flush(false)
    }
    fn set_len(&mut self, len: u64) -> io::Result<()> {
        if self.fs.profile.windows {
            let mut st = self.fs.lock();
            match st.held(&[&self.key]) {
                Some(HoldKind::Scan) => {
                    return Err(self.fs.refuse(&mut st, win::ERROR_USER_MAPPED_FILE))
                }
                Some(HoldKind::Exclusive) => {
                    return Err(self.fs.refuse(&mut st, win::ERROR_SHARING_VIOLATION))
                }
                None => {}
            }
        }
        self.inner.set_len(len)
    }
    fn len(&self) -> io::Result<u64> {
        self.inner.len()
    }
    fn set_mode(&mut self, mode: u32) -> io::Result<()> {
        if self.fs.profile.windows {
            let private = platform::mode_is_private(mode);
            self.fs.lock().acl.insert(self.key.clone(), private);
            return Ok(());
        }
        self.inner.set_mode(mode)
    }
    fn try_lock(&self) -> io::Result<bool> {
        self.inner.try_lock()
    }
    fn unlock(&self) -> io::Result<()> {
        self.inner.unlock()
    }
    fn is_at(&self, path: &Path) -> io::Result<bool> {
        self.inner.is_at(&self.fs.resolve(path))
    }
}

impl FileSystem for SimFs {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let p = self.resolve(path);
        let key = self.key(&p);
        self.check_open(&key)?;
        // open for the duration of the read: a rename over it meanwhile is
        // refused, as on Windows
        let id = {
            let mut st = self.lock();
            st.next += 1;
            let id = st.next;
            st.opens.push((id, key));
            id
        };
        let r = RealFs.read(&p);
        self.lock().opens.retain(|(i, _)| *i != id);
        r
    }

    fn create_new(&self, path: &Path) -> io::Result<Box<dyn FileHandle>> {
        let p = self.resolve(path);
        let key = self.key(&p);
        self.check_open(&key)?;
        let f = RealFs.create_new(&p)?;
        if self.profile.windows {
            // created 0600: the owner-only ACL
            self.lock().acl.insert(key.clone(), true);
        }
        Ok(self.register(f, key))
    }

    fn open_rw(&self, path: &Path, mode: u32) -> io::Result<Box<dyn FileHandle>> {
        let p = self.resolve(path);
        let key = self.key(&p);
        self.check_open(&key)?;
        let existed = std::fs::symlink_metadata(&p).is_ok();
        let f = RealFs.open_rw(&p, mode)?;
        if self.profile.windows && !existed {
            self.lock()
                .acl
                .insert(key.clone(), platform::mode_is_private(mode));
        }
        Ok(self.register(f, key))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let (f, t) = (self.resolve(from), self.resolve(to));
        if !self.profile.windows {
            return RealFs.rename(&f, &t);
        }
        let (kf, kt) = (self.key(&f), self.key(&t));
        let mut st = self.lock();
        if st.held(&[&kf, &kt]).is_some() {
            return Err(self.refuse(&mut st, win::ERROR_SHARING_VIOLATION));
        }
        let replaces = std::fs::symlink_metadata(&t).is_ok();
        if replaces && !self.profile.posix_rename && st.is_open(&kt) {
            return Err(self.refuse(&mut st, win::ERROR_ACCESS_DENIED));
        }
        // with the state locked: no open slips in between
        RealFs.rename(&f, &t)?;
        if replaces {
            st.counts.replaces += 1;
        }
        let acl = st.acl.remove(&kf);
        st.acl.remove(&kt);
        if let Some(a) = acl {
            st.acl.insert(kt, a);
        }
        Ok(())
    }

    fn exchange(&self, _a: &Path, _b: &Path) -> io::Result<()> {
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let p = self.resolve(path);
        if !self.profile.windows {
            return RealFs.remove_file(&p);
        }
        let key = self.key(&p);
        let mut st = self.lock();
        if st.held(&[&key]).is_some() {
            return Err(self.refuse(&mut st, win::ERROR_SHARING_VIOLATION));
        }
        if !self.profile.posix_rename && st.is_open(&key) {
            return Err(self.refuse(&mut st, win::ERROR_ACCESS_DENIED));
        }
        RealFs.remove_file(&p)?;
        st.acl.remove(&key);
        Ok(())
    }

    fn create_dir(&self, path: &Path, mode: u32) -> io::Result<()> {
        let p = self.resolve(path);
        RealFs.create_dir(&p, mode)?;
        if self.profile.windows {
            let key = self.key(&p);
            self.lock().acl.insert(key, platform::mode_is_private(mode));
        }
        Ok(())
    }

    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        match self.profile.dir_sync {
            DirSync::Works => RealFs.sync_dir(&self.resolve(path)),
            DirSync::Unsupported => {
                self.lock().counts.dir_syncs_refused += 1;
                Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "no directory fsync on Windows (simulated)",
                ))
            }
            DirSync::Einval => {
                self.lock().counts.dir_syncs_refused += 1;
                Err(einval())
            }
        }
    }

    fn stat(&self, path: &Path, follow: bool) -> io::Result<Stat> {
        let mut s = RealFs.stat(&self.resolve(path), follow)?;
        if !self.profile.inode {
            s.ino = 0;
        }
        if self.profile.windows {
            s.mode = 0;
        }
        s.modified = s.modified.map(|m| round_down(m, self.profile.mtime_step));
        Ok(s)
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        RealFs.read_dir(&self.resolve(path))
    }

    fn set_mode(&self, path: &Path, mode: u32) -> io::Result<()> {
        let p = self.resolve(path);
        if !self.profile.windows {
            return RealFs.set_mode(&p, mode);
        }
        // as the real Windows file system: a private mode makes an existing
        // path owner-only (unless protected already); others leave it
        std::fs::symlink_metadata(&p)?;
        if platform::mode_is_private(mode) {
            let key = self.key(&p);
            self.lock().acl.insert(key, true);
        }
        Ok(())
    }

    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        RealFs.read_link(&self.resolve(path))
    }

    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        let p = self.resolve(path);
        if self.profile.canonicalize_fails {
            // the path must exist for the failure to be the volume's
            std::fs::symlink_metadata(&p)?;
            self.lock().counts.canonicalize_failures += 1;
            return Err(win_error(win::ERROR_INVALID_FUNCTION));
        }
        RealFs.canonicalize(&p)
    }

    fn semantics(&self) -> Semantics {
        self.profile.semantics
    }
}

fn round_down(t: SystemTime, step: Duration) -> SystemTime {
    if step.is_zero() {
        return t;
    }
    let Ok(d) = t.duration_since(UNIX_EPOCH) else {
        return t;
    };
    let step_ns = step.as_nanos();
    let ns = d.as_nanos() / step_ns * step_ns;
    UNIX_EPOCH + Duration::new((ns / 1_000_000_000) as u64, (ns % 1_000_000_000) as u32)
}

/// The access model a profile reports (for tests that check modes).
pub fn has_modes(fs: &dyn FileSystem) -> bool {
    fs.semantics().access == Access::UnixModes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::platform::windows_code;

    fn fat() -> (tempfile::TempDir, SimFs) {
        (
            tempfile::tempdir().unwrap(),
            SimFs::new(Profile::windows_fat()),
        )
    }

    #[test]
    fn an_open_file_cannot_be_replaced_or_deleted_on_fat_but_can_on_ntfs() {
        for (profile, posix) in [
            (Profile::windows_fat(), false),
            (Profile::windows_ntfs(), true),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let fs = SimFs::new(profile);
            let target = dir.path().join("journal");
            let tmp = dir.path().join("tmp");
            std::fs::write(&tmp, b"new").unwrap();
            let held = fs.open_rw(&target, 0o600).unwrap();
            assert_eq!(fs.open_handles(&target), 1);
            let r = fs.rename(&tmp, &target);
            let d = fs.remove_file(&target);
            if posix {
                r.unwrap();
                d.unwrap();
            } else {
                assert_eq!(windows_code(&r.unwrap_err()), Some(5));
                assert_eq!(windows_code(&d.unwrap_err()), Some(5));
                drop(held);
                assert_eq!(fs.open_handles(&target), 0);
                fs.rename(&tmp, &target).unwrap();
                assert_eq!(std::fs::read(&target).unwrap(), b"new");
                assert_eq!(fs.counts().replaces, 1);
            }
        }
    }

    #[test]
    fn a_hold_refuses_rename_delete_and_truncate_until_it_ends() {
        let (dir, fs) = fat();
        let p = dir.path().join("config.json");
        std::fs::write(&p, b"{}").unwrap();
        std::fs::write(dir.path().join("t"), b"x").unwrap();
        let mut f = fs.open_rw(&p, 0o600).unwrap();
        let h = fs.hold(&p, HoldKind::Scan, None);
        assert!(fs.is_held(&h));
        let code = |r: io::Result<()>| windows_code(&r.unwrap_err());
        assert_eq!(code(fs.rename(&dir.path().join("t"), &p)), Some(32));
        assert_eq!(code(fs.rename(&p, &dir.path().join("u"))), Some(32));
        assert_eq!(code(fs.remove_file(&p)), Some(32));
        assert_eq!(code(f.set_len(0)), Some(1224));
        // a scan still lets others open and read
        assert_eq!(fs.read(&p).unwrap(), b"{}");
        fs.release(h);
        f.set_len(1).unwrap();
        drop(f);
        fs.rename(&dir.path().join("t"), &p).unwrap();
        // an exclusive hold refuses opens too
        let h = fs.hold(&p, HoldKind::Exclusive, None);
        let e = fs.read(&p).unwrap_err();
        assert_eq!(windows_code(&e), Some(32));
        assert!(platform::is_transient(&e));
        assert!(fs.open_rw(&p, 0o600).is_err());
        fs.release(h);
        assert_eq!(fs.read(&p).unwrap(), b"x");
        // a hold of chosen length ends by itself
        let h = fs.hold(&p, HoldKind::Scan, Some(Duration::from_millis(1)));
        let deadline = Instant::now() + Duration::from_secs(30);
        while fs.is_held(&h) {
            assert!(Instant::now() < deadline, "the hold never ended");
            std::thread::yield_now();
        }
        fs.remove_file(&p).unwrap();
        let c = fs.counts();
        assert!(c.sharing_violations >= 5 && c.mapped_section == 1, "{c:?}");
    }

    #[test]
    fn names_are_case_insensitive_timestamps_coarse_and_inodes_absent() {
        let (dir, fs) = fat();
        let p = dir.path().join("Config.JSON");
        fs.create_new(&p).unwrap().write_all(b"abc").unwrap();
        assert_eq!(fs.read(&dir.path().join("config.json")).unwrap(), b"abc");
        assert_eq!(
            fs.create_new(&dir.path().join("CONFIG.json"))
                .err()
                .map(|e| e.kind()),
            Some(io::ErrorKind::AlreadyExists)
        );
        let s = fs.stat(&dir.path().join("config.json"), true).unwrap();
        assert_eq!(s.ino, 0);
        assert_eq!(s.mode, 0);
        let m = s.modified.unwrap().duration_since(UNIX_EPOCH).unwrap();
        assert_eq!((m.subsec_nanos(), m.as_secs() % 2), (0, 0));
        assert_eq!(
            fs.canonicalize(&dir.path().join("CONFIG.json"))
                .unwrap()
                .file_name()
                .unwrap(),
            "Config.JSON"
        );
        assert!(fs.sync_dir(dir.path()).is_err());
        assert!(
            crate::fs::sync_dir(&fs, dir.path()).is_ok(),
            "no directory fsync: nothing to do"
        );
        assert!(!has_modes(&fs));
    }

    #[test]
    fn acls_follow_modes_and_inheritance() {
        let (dir, fs) = fat();
        let private_dir = dir.path().join("storeHistory");
        fs.create_dir(&private_dir, 0o700).unwrap();
        assert!(fs.is_private(&private_dir));
        assert!(
            !fs.is_private(dir.path()),
            "a directory the store did not create"
        );
        // a file created loose in the private directory inherits its ACL
        drop(fs.open_rw(&private_dir.join("j"), 0o644).unwrap());
        assert!(fs.is_private(&private_dir.join("j")));
        // beside it: only what asks for a private mode
        drop(fs.open_rw(&dir.path().join("loose"), 0o644).unwrap());
        assert!(!fs.is_private(&dir.path().join("loose")));
        let mut t = fs.create_new(&dir.path().join("t")).unwrap();
        assert!(
            fs.is_private(&dir.path().join("t")),
            "temp files start owner-only"
        );
        t.set_mode(0o644).unwrap();
        assert!(!fs.is_private(&dir.path().join("t")));
        drop(t);
        // tightening makes an existing file owner-only; the ACL moves with a rename
        crate::fs::tighten_mode(&fs, &dir.path().join("loose"), 0o600).unwrap();
        assert!(fs.is_private(&dir.path().join("loose")));
        fs.rename(&dir.path().join("loose"), &dir.path().join("moved"))
            .unwrap();
        assert!(fs.is_private(&dir.path().join("moved")));
    }

    #[test]
    fn atomic_write_waits_out_a_hold_on_patient_threads_only() {
        let (dir, sim) = fat();
        let fs = crate::fs::patient_fs(Arc::new(sim.clone()));
        let p = dir.path().join("config.json");
        crate::fs::atomic_write(&*fs, &p, b"old", 0o600).unwrap();
        let temps = || {
            std::fs::read_dir(dir.path())
                .unwrap()
                .filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .file_name()
                        .to_string_lossy()
                        .ends_with(".tmp")
                })
                .count()
        };
        // the calling thread: one try, the hold's error, nothing changed
        let h = sim.hold(&p, HoldKind::Scan, None);
        let e = crate::fs::atomic_write(&*fs, &p, b"new", 0o600).unwrap_err();
        assert_eq!(e.code(), "E_IO");
        assert_eq!(e.os_cause().unwrap().0, Some("EBUSY"));
        assert!(e.is_transient());
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        assert_eq!(temps(), 0);
        assert_eq!(sim.counts().sharing_violations, 1);
        sim.release(h);
        // a patient thread: a short hold is waited out
        let h = sim.hold(&p, HoldKind::Scan, Some(Duration::from_millis(50)));
        {
            let _patient = platform::patient();
            // (a stall longer than the 1.4 s budget would fail a try: then try
            // again while the hold lasts)
            while let Err(e) = crate::fs::atomic_write(&*fs, &p, b"new", 0o600) {
                assert!(e.is_transient() && sim.is_held(&h), "{e}");
            }
        }
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        assert!(sim.counts().sharing_violations > 1);
        assert_eq!(temps(), 0);
    }

    #[test]
    fn directory_fsync_that_is_unsupported_is_skipped_but_eio_fails() {
        #[cfg(unix)]
        {
            use crate::fs::{FaultFs, FaultKind, FaultPlan};
            let dir = tempfile::tempdir().unwrap();
            for (errno, ok) in [
                (libc::EINVAL, true),
                (libc::ENOTSUP, true),
                (libc::EIO, false),
            ] {
                let fs = FaultFs::new(Some(FaultPlan {
                    kind: FaultKind::Sync,
                    at: 1,
                    errno,
                    sticky: false,
                }));
                assert_eq!(crate::fs::sync_dir(&fs, dir.path()).is_ok(), ok, "{errno}");
            }
        }
    }

    #[test]
    fn a_macos_network_volume_falls_back_from_full_fsync() {
        let dir = tempfile::tempdir().unwrap();
        let fs = SimFs::new(Profile::macos_network());
        let p = dir.path().join("f");
        let mut f = fs.create_new(&p).unwrap();
        f.write_all(b"x").unwrap();
        f.sync_all().unwrap();
        f.sync_data().unwrap();
        assert_eq!(fs.counts().full_fsync_fallbacks, 2);
        crate::fs::atomic_write(&fs, &p, b"y", 0o600).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"y");
        assert!(fs.counts().dir_syncs_refused >= 1);
    }
}
