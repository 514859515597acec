//! Names made durable: a file or directory survives a power cut only if its
//! name does, and a name lives in its parent directory, which must be fsynced
//! after the name is created or changed. Every file-system call of the store
//! is recorded through the fs seam; each acknowledged call (a 'sync' set, a
//! flush, a backup, a migration snapshot, a key rotation) must return only
//! after every directory it created and every rename it made had its parent
//! fsynced. (The power-cut suite, `__test__/powercut.spec.js`, checks the same
//! on a real file system through FUSE, with crash states built from the
//! recording; this test runs everywhere `cargo test` does.)

mod common;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use common::*;
use tad_store_core::fs::{FileHandle, FileSystem, RealFs, Stat};

#[derive(Clone, Debug, PartialEq)]
enum Call {
    /// A name appeared or changed in this directory.
    Named(PathBuf, &'static str, PathBuf),
    SyncDir(PathBuf),
}

/// The real file system, recording which names change and which directories
/// are fsynced, in order.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Call>>>);

impl Recorder {
    fn named(&self, what: &'static str, path: &Path) {
        let parent = path.parent().unwrap().to_path_buf();
        self.0
            .lock()
            .unwrap()
            .push(Call::Named(parent, what, path.to_path_buf()));
    }

    /// The names changed since call `from` whose parent was not fsynced after
    /// the change.
    fn not_durable(&self, from: usize) -> Vec<String> {
        let calls = self.0.lock().unwrap();
        let mut out = Vec::new();
        for (i, c) in calls.iter().enumerate().skip(from) {
            if let Call::Named(dir, what, path) = c {
                let synced = calls[i + 1..]
                    .iter()
                    .any(|l| *l == Call::SyncDir(dir.clone()));
                if !synced {
                    out.push(format!("{what} {}", path.display()));
                }
            }
        }
        out
    }

    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

impl FileSystem for Recorder {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        RealFs.read(path)
    }
    fn create_new(&self, path: &Path) -> io::Result<Box<dyn FileHandle>> {
        // a temp file: durable only through the rename that follows
        RealFs.create_new(path)
    }
    fn open_rw(&self, path: &Path, mode: u32) -> io::Result<Box<dyn FileHandle>> {
        let existed = RealFs.stat(path, false).is_ok();
        let f = RealFs.open_rw(path, mode)?;
        // the lock file is exempt: it holds nothing, and is made again at open
        if !existed && !path.to_string_lossy().ends_with(".lock") {
            self.named("create", path);
        }
        Ok(f)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        RealFs.rename(from, to)?;
        self.named("rename to", to);
        Ok(())
    }
    fn exchange(&self, a: &Path, b: &Path) -> io::Result<()> {
        RealFs.exchange(a, b)?;
        self.named("exchange with", b);
        Ok(())
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        RealFs.remove_file(path)
    }
    fn create_dir(&self, path: &Path, mode: u32) -> io::Result<()> {
        RealFs.create_dir(path, mode)?;
        self.named("mkdir", path);
        Ok(())
    }
    fn sync_dir(&self, path: &Path) -> io::Result<()> {
        RealFs.sync_dir(path)?;
        self.0
            .lock()
            .unwrap()
            .push(Call::SyncDir(path.to_path_buf()));
        Ok(())
    }
    fn stat(&self, path: &Path, follow: bool) -> io::Result<Stat> {
        RealFs.stat(path, follow)
    }
    fn read_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        RealFs.read_dir(path)
    }
    fn set_mode(&self, path: &Path, mode: u32) -> io::Result<()> {
        RealFs.set_mode(path, mode)
    }
    fn read_link(&self, path: &Path) -> io::Result<PathBuf> {
        RealFs.read_link(path)
    }
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        RealFs.canonicalize(path)
    }
}

#[test]
fn a_new_store_three_levels_deep_makes_every_new_name_durable_before_acknowledging() {
    let root = tmp();
    let rec = Recorder::default();
    let dir = root.path().join("home/user/.config/App");
    let mut o = sync(opts_fs(&dir, Arc::new(rec.clone())));
    o.history_max = 2;
    let h = open(o);
    assert_eq!(
        rec.not_durable(0),
        Vec::<String>::new(),
        "names not durable after open"
    );
    for i in 0..40 {
        let from = rec.len();
        set(&h, &format!("k{}", i % 3), &i.to_string());
        assert_eq!(rec.not_durable(from), Vec::<String>::new(), "after set {i}");
        if i % 10 == 9 {
            // a document write; past 32 changes, a journal trim too
            let from = rec.len();
            h.flush().unwrap();
            assert_eq!(
                rec.not_durable(from),
                Vec::<String>::new(),
                "after flush {i}"
            );
        }
    }
    let from = rec.len();
    let b = h.create_backup("manual", false).unwrap().unwrap();
    assert_eq!(rec.not_durable(from), Vec::<String>::new(), "after backup");
    assert!(b.path.parent().unwrap().ends_with("App/backups"));
    let from = rec.len();
    h.migration_snapshot("migration 1.0.0 -> 2.0.0")
        .unwrap()
        .unwrap();
    assert_eq!(
        rec.not_durable(from),
        Vec::<String>::new(),
        "after migration snapshot"
    );
    h.close(false).unwrap();
    // every level created had its parent fsynced (matched by their last
    // components: the store may spell its directory canonically, e.g.
    // /private/var/... on macOS)
    let calls = rec.0.lock().unwrap();
    for level in [
        "home",
        "home/user",
        "home/user/.config",
        "home/user/.config/App",
        "home/user/.config/App/storeHistory",
        "home/user/.config/App/backups",
        "home/user/.config/App/storeHistory/migrations",
    ] {
        let made = calls
            .iter()
            .position(|c| matches!(c, Call::Named(_, "mkdir", p) if p.ends_with(level)))
            .unwrap_or_else(|| panic!("{level} was not created"));
        let Call::Named(parent, _, _) = &calls[made] else {
            unreachable!()
        };
        assert!(
            calls[made..].contains(&Call::SyncDir(parent.clone())),
            "{level} created, {} never fsynced after",
            parent.display()
        );
    }
    drop(calls);
    drop(root);
}

#[test]
fn ensure_dir_fsyncs_each_new_level_s_parent_up_to_the_first_that_existed() {
    let root = tmp();
    let rec = Recorder::default();
    let d = root.path().join("a/b/c");
    tad_store_core::fs::ensure_dir(&rec, &d).unwrap();
    let calls = rec.0.lock().unwrap().clone();
    let (a, b) = (root.path().join("a"), root.path().join("a/b"));
    assert_eq!(
        calls,
        vec![
            Call::Named(root.path().to_path_buf(), "mkdir", a.clone()),
            Call::SyncDir(root.path().to_path_buf()),
            Call::Named(a.clone(), "mkdir", b.clone()),
            Call::SyncDir(a.clone()),
            Call::Named(b.clone(), "mkdir", d.clone()),
            Call::SyncDir(b.clone()),
        ]
    );
    // nothing to do when it exists: no fsync
    tad_store_core::fs::ensure_private_dir(&rec, &d).unwrap();
    assert_eq!(rec.len(), calls.len());
}
