//! Store files open in this process: one [`Core`] per file (found by its real
//! path, so two `cwd`s reaching one directory through a link share it; and by
//! the file itself when the path differs only in letter case, which is one
//! file on Windows and macOS volumes), shared by every `Store` instance on it.
//! Names the platform would refuse or alter are refused first
//! ([`crate::names`]). An instance keeps its own schema,
//! durability, dot notation and backup options; options the file's one journal
//! shares (history directory and size, file mode, codec) must agree, or the
//! second instance is refused with an error naming the option.

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::fs::{canonical_or_absolute, ensure_dir, parent_of, patient_fs, resolve_links};
use crate::handle::{Handle, HandleOptions};
use crate::log::LogConfig;
use crate::names;
use crate::open_files::{open_list, Entry};
use crate::store::{Core, StoreOptions};

/// Where a store file is: `path`, the file the store opens and writes — the
/// path it was given, with links followed (writes go through them to the
/// target) and made absolute, never rewritten into a canonical spelling that
/// the app did not ask for (Windows' `\\?\C:\…`, macOS' `/private/var/…`);
/// `key`, its identity in this process — the canonical path of the file when
/// it exists (its name as the volume spells it), else of its directory, with
/// `path::absolute` where the volume cannot canonicalize.
struct Located {
    path: PathBuf,
    key: PathBuf,
}

fn locate(opts: &StoreOptions) -> Result<Located> {
    let fs = &*opts.fs;
    let target = resolve_links(fs, &opts.path)?;
    let path = std::path::absolute(&target).map_err(Error::io("resolve", &target))?;
    let dir = parent_of(&path).to_path_buf();
    if let Err(e) = ensure_dir(fs, &dir) {
        if fs.stat(&dir, true).is_err() {
            return Err(e);
        }
    }
    let key = match canonical_or_absolute(fs, &path) {
        Ok(k) => k,
        Err(_) => {
            let dir =
                canonical_or_absolute(fs, &dir).map_err(Error::io("resolve directory", &dir))?;
            match path.file_name() {
                Some(name) => dir.join(name),
                None => dir,
            }
        }
    };
    Ok(Located { path, key })
}

/// The platform's naming rules for the store file and its directories.
fn check_names(opts: &StoreOptions) -> Result<()> {
    names::check_store_paths(
        &opts.path,
        &opts.history_dir,
        &opts.backup_dir,
        names::Rules::current(),
    )
}

/// A path with its letters in one case (a cheap first look before asking the
/// file system).
fn fold(p: &std::path::Path) -> String {
    p.to_string_lossy().to_lowercase()
}

fn canonical_or_given(fs: &dyn crate::fs::FileSystem, p: &std::path::Path) -> PathBuf {
    canonical_or_absolute(fs, p).unwrap_or_else(|_| p.to_path_buf())
}

/// The log configuration of a store file. Its file system waits out another
/// program's brief hold on a file (on the store's background threads).
pub fn log_config(opts: &StoreOptions, doc_path: PathBuf) -> LogConfig {
    LogConfig {
        fs: patient_fs(opts.fs.clone()),
        codec: opts.codec.clone(),
        doc_path,
        history_dir: opts.history_dir.clone(),
        backup_dir: opts.backup_dir.clone(),
        mode: opts.mode,
        history_max: opts.history_max,
        clear_invalid_config: opts.clear_invalid_config,
        compact: opts.compact,
        busy_patience: opts.busy_patience,
    }
}

fn handle_options(opts: &StoreOptions) -> HandleOptions {
    let layer = opts.defaults_layer.then(|| {
        let layer = Arc::new(crate::layer::Layer::new(opts.defaults.clone()));
        if let Some(schema) = &opts.schema {
            schema.set_layer(layer.clone());
        }
        layer
    });
    HandleOptions {
        layer,
        durability: opts.durability,
        dot_notation: opts.dot_notation,
        schema: opts.schema.clone(),
        defaults: opts.defaults.clone(),
        backup_dir: opts.backup_dir.clone(),
        max_backups: opts.max_backups,
        env: opts.env,
    }
}

/// Options the file's journal shares: a second instance must ask for the same.
fn check_shared(opts: &StoreOptions, core: &Core) -> Result<()> {
    let have = core.config();
    let fs = &*opts.fs;
    let conflict = |option: &str, mine: String, theirs: String| {
        Err(Error::OptionConflict(format!(
            "{} is already open in this process with `{option}` = {theirs}; this Store asks for {mine}. Every Store on one file shares its journal, so `{option}` must be the same (or leave it out)",
            have.doc_path.display()
        )))
    };
    if canonical_or_given(fs, &opts.history_dir) != canonical_or_given(fs, &have.history_dir) {
        return conflict(
            "history.directory",
            opts.history_dir.display().to_string(),
            have.history_dir.display().to_string(),
        );
    }
    if opts.history_max != have.history_max {
        return conflict(
            "history.maxEntries",
            opts.history_max.to_string(),
            have.history_max.to_string(),
        );
    }
    if opts.mode != have.mode {
        return conflict(
            "configFileMode",
            format!("0o{:o}", opts.mode),
            format!("0o{:o}", have.mode),
        );
    }
    if opts.compact != have.compact {
        let name = |c: bool| if c { "JSON.stringify" } else { "the default" }.to_string();
        return conflict("serialize", name(opts.compact), name(have.compact));
    }
    if opts.codec.name() != have.codec.name() {
        return conflict("encryption", opts.codec.name(), have.codec.name());
    }
    if let (Some(mine), Some(theirs)) = (opts.codec.key_id(), have.codec.key_id()) {
        if mine != theirs {
            return Err(Error::SecretKey(format!(
                "{} is already open in this process with another key (key id {theirs}; this Store gives key id {mine})",
                have.doc_path.display()
            )));
        }
    }
    Ok(())
}

fn with_codec(opts: &StoreOptions, codec: Arc<dyn crate::codec::Codec>) -> StoreOptions {
    let mut o = opts.clone();
    o.codec = codec;
    o
}

/// Opens a `Store` instance: the file's core (opened now, or the one already
/// open in this process) and this instance's options.
pub fn open(opts: StoreOptions) -> Result<Handle> {
    check_names(&opts)?;
    let Located { path, key } = locate(&opts)?;
    let lock = log_config(&opts, path.clone()).lock_path();
    let mut list = open_list();
    let at = list
        .iter()
        .position(|e| e.key == key && !e.core.is_closed())
        .or_else(|| {
            // another spelling of an open file: one file on a case-insensitive
            // volume (its lock file is the open store's), two elsewhere
            let folded = fold(&key);
            list.iter().position(|e| {
                !e.core.is_closed() && fold(&e.key) == folded && e.core.locks_at(&lock)
            })
        });
    if let Some(e) = at.map(|i| &mut list[i]) {
        // a file open in clear here, asked for with a key (conf's "encryption
        // upgrade"): every file of it is encrypted now, for every instance
        if opts.codec.key_id().is_some() && e.core.config().codec.key_id().is_none() {
            check_shared(&with_codec(&opts, e.core.config().codec.clone()), &e.core)?;
            e.core.encrypt_with(opts.codec.clone())?;
        }
        check_shared(&opts, &e.core)?;
        e.handles += 1;
        return Ok(Handle::new(e.core.clone(), handle_options(&opts)));
    }
    list.retain(|e| !e.core.is_closed());
    let core = Core::open(log_config(&opts, path))?;
    list.push(Entry {
        key,
        core: core.clone(),
        handles: 1,
    });
    Ok(Handle::new(core, handle_options(&opts)))
}

/// Opens a core that is not shared with other opens (as another process
/// would): for tests of several writers on one file.
pub fn open_unshared(opts: StoreOptions) -> Result<Handle> {
    check_names(&opts)?;
    let Located { path, .. } = locate(&opts)?;
    let core = Core::open(log_config(&opts, path))?;
    Ok(Handle::new(core, handle_options(&opts)))
}

/// `open_unshared` with the clock the writer's timing reads (tests: a
/// `ManualClock` that never moves starts no idle checkpoint).
pub fn open_unshared_with_clock(
    opts: StoreOptions,
    clock: Arc<dyn crate::clock::Clock>,
) -> Result<Handle> {
    check_names(&opts)?;
    let Located { path, .. } = locate(&opts)?;
    let core = Core::open_with_clock(log_config(&opts, path), clock)?;
    Ok(Handle::new(core, handle_options(&opts)))
}

/// Writes every file open in this process (every JS environment's: the
/// process is about to end without their cleanup, e.g. by a signal): each
/// one's changes made so far, durable and in its file. Returns the failures.
pub fn flush_all() -> Vec<(PathBuf, Error)> {
    let cores: Vec<Arc<Core>> = open_list().iter().map(|e| e.core.clone()).collect();
    cores
        .iter()
        .filter_map(|c| c.flush().err().map(|e| (c.config().doc_path.clone(), e)))
        .collect()
}
