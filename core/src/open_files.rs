//! The table of store files open in this process: one [`Core`] per file
//! (keyed by its identity, see `registry`), with the number of `Store`
//! instances on it. `registry` finds and adds files here when an instance
//! opens; an instance's `close` lets go of its file here ([`release`]). It
//! knows neither (`registry` imports `handle`; neither is imported here).

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::Result;
use crate::store::Core;

pub(crate) struct Entry {
    pub(crate) key: PathBuf,
    pub(crate) core: Arc<Core>,
    pub(crate) handles: usize,
}

static OPEN: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

pub(crate) fn open_list() -> MutexGuard<'static, Vec<Entry>> {
    OPEN.lock().unwrap_or_else(|p| p.into_inner())
}

/// One instance on `core` closes (see `Handle::close`): the file stays open
/// for the other instances on it (this instance's changes are flushed), or,
/// for the last one, is closed and leaves the table. On an error (changes
/// that cannot be written, unless `force`) nothing is released.
pub(crate) fn release(core: &Arc<Core>, force: bool) -> Result<()> {
    let mut list = open_list();
    let Some(i) = list.iter().position(|e| Arc::ptr_eq(&e.core, core)) else {
        // unshared (or already gone): this handle is the only one
        drop(list);
        return core.close(force);
    };
    if list[i].handles > 1 {
        drop(list);
        // the file stays open for the others; this instance's changes are flushed
        if let Err(e) = core.flush() {
            if !force {
                return Err(e);
            }
        }
        let mut list = open_list();
        if let Some(e) = list.iter_mut().find(|e| Arc::ptr_eq(&e.core, core)) {
            e.handles -= 1;
        }
        return Ok(());
    }
    core.close(force)?;
    list.remove(i);
    Ok(())
}
