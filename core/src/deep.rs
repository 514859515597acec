//! Work that recurses on a value's nesting in code tad-store does not own.
//!
//! The core's own walks over values are iterative (see `value`): parsing,
//! serializing, hashing, comparing, diffing and dropping a document nested
//! [`MAX_DEPTH`] levels deep take constant native stack. The schema validator
//! (`jsonschema`, the `serde_json` values it reads, Ajv's error walk) recurses
//! once or more per level of the instance. An instance nested more than
//! [`INLINE_DEPTH`] levels is therefore validated on a short-lived thread
//! whose stack is sized for [`MAX_DEPTH`] ([`DEEP_STACK`]), so validation at
//! the limit is safe whichever thread asks: Node's main thread, a worker
//! thread (whose native stack may be small), the writer or watcher thread.
//! Shallower instances — every real settings value — are checked in place.
//!
//! [`MAX_DEPTH`]: crate::value::MAX_DEPTH

/// Instances nested at most this deep are validated on the calling thread
/// (a few KB of stack per level at most: well inside any thread's stack).
pub const INLINE_DEPTH: usize = 64;

/// Stack of the thread that validates a deeper instance. Measured need at
/// [`crate::value::MAX_DEPTH`] in a debug build (larger frames than release):
/// 12 MB for a valid instance (recursive `$ref` schema, `const`, `enum`,
/// `uniqueItems` of two deep items), 20 MB for one whose deepest leaf fails
/// a recursive `$ref` schema (the validator's error walk) — this is six times
/// that. Reserved, not committed: pages are touched only as deep as the
/// validation goes.
pub const DEEP_STACK: usize = 128 << 20;

/// Runs `f`, on the calling thread when `depth` ≤ [`INLINE_DEPTH`], else on a
/// thread with a [`DEEP_STACK`] stack (waited for; a panic in `f` goes on in
/// the caller, as if `f` had run there).
pub fn run<T: Send>(depth: usize, f: impl FnOnce() -> T + Send) -> T {
    if depth <= INLINE_DEPTH {
        return f();
    }
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("tad-store-deep".into())
            .stack_size(DEEP_STACK)
            .spawn_scoped(scope, f)
            .unwrap_or_else(|e| {
                panic!("could not start a thread to validate a deeply nested value: {e}")
            });
        match worker.join() {
            Ok(v) => v,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}
