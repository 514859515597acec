//! `update()` and `transaction()` of one `Store` instance: atomic sections
//! (see `store::atomic`) opened and ended by its handle.

use crate::error::{Error, Result};
use crate::handle::{Call, Handle};
use crate::ops::KeyChange;
use crate::store::Author;
use crate::value::{to_json, Value};

impl Handle {
    fn atomic_author(&self) -> Author {
        Author {
            handle: self.id(),
            env: self.env(),
        }
    }

    /// Opens this instance's atomic section: the latest state of every
    /// process is in the live document, and no other process writes until
    /// what the section changes is written. Returns the top-level keys other
    /// processes' changes changed. `atomic_end` must follow.
    pub fn atomic_begin(&self) -> Result<Vec<KeyChange>> {
        if self.is_closed() {
            return Err(Error::Closed);
        }
        self.core().atomic_begin(self.atomic_author())
    }

    /// Ends this instance's atomic section (nothing when none is open).
    pub fn atomic_end(&self) {
        self.core().atomic_end(self.atomic_author())
    }

    /// Sets `key` to what `f` makes of its current value (the JSON text of
    /// the new value; `None`: nothing is changed), on the latest state of
    /// every process, as one history entry named `update`. Returns the other
    /// processes' changes caught up with and the change made.
    pub fn update(
        &self,
        key: &str,
        call: Call,
        f: impl FnOnce(Option<&Value>) -> Option<Vec<u8>>,
    ) -> Result<(Vec<KeyChange>, Option<Vec<KeyChange>>)> {
        let remote = self.atomic_begin()?;
        let r = (|| {
            let next = self.get_with(key, f)?;
            let Some(json) = next else {
                return Ok(None);
            };
            Ok(self.set_as("update", key, &json, call)?.map(|(c, _)| c))
        })();
        self.atomic_end();
        Ok((remote, r?))
    }

    /// Runs `f` as one transaction on the latest state of every process: its
    /// changes through this handle are written as one history entry named
    /// `transaction`, or — when `f` fails — undone. Returns the other
    /// processes' changes caught up with and `f`'s result.
    pub fn transaction<R>(
        &self,
        f: impl FnOnce(&Handle) -> Result<R>,
    ) -> Result<(Vec<KeyChange>, R)> {
        let remote = self.atomic_begin()?;
        let r = (|| {
            self.begin()?;
            match f(self) {
                Ok(v) => {
                    self.commit_txn("transaction")?;
                    Ok(v)
                }
                Err(e) => {
                    self.abort_txn()?;
                    Err(e)
                }
            }
        })();
        self.atomic_end();
        Ok((remote, r?))
    }
}

/// The JSON text of `v` (for `update` functions written in Rust).
pub fn json_text(v: &Value) -> Vec<u8> {
    to_json(v, false)
}
