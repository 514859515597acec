//! File primitives: the one atomic-replace function every file the store writes
//! goes through, plus directory fsync and mode handling.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Temp-file name beside `target` (same directory, so the rename is atomic).
fn temp_path(target: &Path) -> PathBuf {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = target
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    target.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

/// fsyncs a directory so a rename or create in it is durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::io("fsync directory", dir))
}

/// Atomically replaces `target` with `data`: a temp file (mode 0600) in the same
/// directory, write, fsync, chmod to `mode`, rename over the target, fsync the
/// directory. The target is never truncated in place; on any error the old
/// content is untouched and the temp file is removed.
pub fn atomic_write(target: &Path, data: &[u8], mode: u32) -> Result<()> {
    let tmp = temp_path(target);
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(Error::io("create temp file", &tmp))?;
        f.write_all(data).map_err(Error::io("write", &tmp))?;
        if mode != 0o600 {
            f.set_permissions(fs::Permissions::from_mode(mode))
                .map_err(Error::io("chmod", &tmp))?;
        }
        f.sync_all().map_err(Error::io("fsync", &tmp))?;
        drop(f);
        fs::rename(&tmp, target).map_err(Error::io("rename over", target))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
        return result;
    }
    sync_dir(target.parent().unwrap_or(Path::new(".")))
}

/// Removes temp files that a crashed process left beside `target` (written by
/// `atomic_write`, named `.<file>.<pid>.<n>.tmp`). Files of a live process are
/// left alone. Returns how many were removed.
pub fn remove_stale_temps(target: &Path) -> usize {
    let (Some(dir), Some(name)) = (target.parent(), target.file_name()) else {
        return 0;
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let fname = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = fname
            .strip_prefix(&prefix)
            .and_then(|r| r.strip_suffix(".tmp"))
        else {
            continue;
        };
        let Some(pid) = rest.split('.').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        let alive = pid == std::process::id() || Path::new("/proc").join(pid.to_string()).exists();
        if !alive && fs::remove_file(e.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Creates `dir` (and parents) if missing.
pub fn ensure_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(Error::io("create directory", dir))
}

/// Tightens a file's mode to `mode` if it has any permission bit beyond it.
pub fn tighten_mode(path: &Path, mode: u32) -> Result<()> {
    match fs::metadata(path) {
        Ok(meta) => {
            let cur = meta.permissions().mode() & 0o777;
            if cur & !mode != 0 {
                fs::set_permissions(path, fs::Permissions::from_mode(cur & mode))
                    .map_err(Error::io("chmod", path))?;
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("stat", path)(e)),
    }
}

/// Reads a file; `Ok(None)` when it does not exist.
pub fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_sets_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.json");
        atomic_write(&p, b"one", 0o600).unwrap();
        atomic_write(&p, b"two", 0o640).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o640
        );
        // no temp files left behind
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        tighten_mode(&p, 0o600).unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn stale_temps_of_dead_processes_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.json");
        fs::write(dir.path().join(".f.json.999999999.3.tmp"), b"x").unwrap();
        let mine = dir
            .path()
            .join(format!(".f.json.{}.0.tmp", std::process::id()));
        fs::write(&mine, b"x").unwrap();
        fs::write(dir.path().join(".other.json.999999999.3.tmp"), b"x").unwrap();
        assert_eq!(remove_stale_temps(&p), 1);
        assert!(mine.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn failed_write_keeps_old_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.json");
        atomic_write(&p, b"keep", 0o600).unwrap();
        // target is a non-empty directory: rename must fail
        let d = dir.path().join("sub");
        fs::create_dir(&d).unwrap();
        fs::write(d.join("x"), b"x").unwrap();
        assert!(atomic_write(&d, b"data", 0o600).is_err());
        assert_eq!(fs::read(&p).unwrap(), b"keep");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }
}
