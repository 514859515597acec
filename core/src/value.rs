//! The JSON document tree.
//!
//! Values are shared with `Arc` so that a snapshot of the whole document is an
//! O(1) clone: the background writer serializes a snapshot while the JS thread
//! keeps mutating its own copy (`Arc::make_mut` copies only the nodes along the
//! changed path, and only while a snapshot is alive).
//!
//! Objects keep insertion order, like JS objects, and serialization emits keys
//! the way `JSON.stringify` does (array-index-like keys first, ascending, then
//! the rest in insertion order), with JS number formatting, so the bytes match
//! what electron-store writes.
//!
//! Nothing here recurses on a value's nesting: parsing, serializing, hashing,
//! comparing, measuring and dropping walk with explicit stacks on the heap, so
//! a document nested [`MAX_DEPTH`] levels deep is handled in constant native
//! stack on any thread (Node's main thread, a worker thread, the writer and
//! watcher threads).

use std::hash::Hasher;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, OnceLock};

use sha2::{Digest, Sha256};

use hashbrown::HashTable;
use rustc_hash::FxHasher;

/// Shared immutable string (keys and string values).
pub type Str = Arc<str>;

/// A JSON value.
#[derive(Clone, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(f64),
    /// A string, in the JS-string encoding of [`MARK`] (so unpaired surrogates
    /// are kept exactly).
    String(Str),
    Array(Arc<Array>),
    Object(Arc<Map>),
}

impl Value {
    /// An empty object.
    pub fn object() -> Value {
        Value::Object(Arc::new(Map::new()))
    }

    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    pub fn is_container(&self) -> bool {
        matches!(self, Value::Object(_) | Value::Array(_))
    }

    /// Exact structural equality, including object key order.
    /// (Two values that are equal here serialize to the same bytes.)
    pub fn eq_exact(&self, other: &Value) -> bool {
        // containers still to compare, pairwise (shared subtrees are skipped)
        let mut todo: Vec<(&Value, &Value)> = Vec::new();
        let (mut a, mut b) = (self, other);
        loop {
            let same = match (a, b) {
                (Value::Null, Value::Null) => true,
                (Value::Bool(x), Value::Bool(y)) => x == y,
                (Value::Number(x), Value::Number(y)) => x == y || (x.is_nan() && y.is_nan()),
                (Value::String(x), Value::String(y)) => x == y,
                (Value::Array(x), Value::Array(y)) => {
                    if !Arc::ptr_eq(x, y) {
                        if x.len() != y.len() {
                            return false;
                        }
                        todo.extend(x.iter().zip(y.iter()));
                    }
                    true
                }
                (Value::Object(x), Value::Object(y)) => {
                    if !Arc::ptr_eq(x, y) {
                        if x.len() != y.len() {
                            return false;
                        }
                        for ((ka, va), (kb, vb)) in x.iter().zip(y.iter()) {
                            if ka != kb {
                                return false;
                            }
                            todo.push((va, vb));
                        }
                    }
                    true
                }
                _ => false,
            };
            if !same {
                return false;
            }
            match todo.pop() {
                Some((x, y)) => (a, b) = (x, y),
                None => return true,
            }
        }
    }
}

/// Values print as their JSON text (a derived `Debug` would recurse).
impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from_utf8_lossy(&to_json(self, false)))
    }
}

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// A JSON array: a `Vec` that caches its Merkle hash (reset on any mutable access).
#[derive(Clone, Debug, Default)]
pub struct Array {
    items: Vec<Value>,
    hash: OnceLock<Hash>,
}

impl From<Vec<Value>> for Array {
    fn from(items: Vec<Value>) -> Array {
        Array {
            items,
            hash: OnceLock::new(),
        }
    }
}

impl Deref for Array {
    type Target = Vec<Value>;
    fn deref(&self) -> &Vec<Value> {
        &self.items
    }
}

impl DerefMut for Array {
    fn deref_mut(&mut self) -> &mut Vec<Value> {
        self.hash = OnceLock::new();
        &mut self.items
    }
}

impl Drop for Array {
    fn drop(&mut self) {
        if self.items.len() > DROP_INLINE || self.items.iter().any(Value::is_container) {
            drop_iteratively(std::mem::take(&mut self.items));
        }
    }
}

/// Drops a tree of values without recursing: each container this is the last
/// owner of gives its children to the work list before it goes (the derived
/// drop would recurse once per level and could overflow a thread's stack).
///
/// A big tree (a 10 MB document going away when its store closes, or when
/// `restore`, `store =` or an external edit replaces it) takes as long to free
/// as to parse: past about [`DROP_INLINE`] entries, what is left of the work is
/// handed to the [`dropper`] thread, so the thread that let go of the tree
/// (Node's main thread, usually) frees a bounded amount itself.
fn drop_iteratively(mut work: Vec<Value>) {
    // values (keys count as values) freed here before the rest is handed over
    let dropper = dropper::on_dropper();
    let mut budget = if dropper { usize::MAX } else { 2 * DROP_INLINE };
    let mut freed = 0usize;
    while let Some(v) = work.pop() {
        budget = budget.saturating_sub(1);
        freed += 1;
        if dropper && freed.is_multiple_of(1024) {
            // out of the way of a big parse (see `dropper::yield_to_parse`)
            dropper::yield_to_parse();
        }
        match v {
            Value::Array(a) => {
                if let Some(mut a) = Arc::into_inner(a) {
                    work.append(&mut a.items);
                }
            }
            Value::Object(m) => {
                if let Some(mut m) = Arc::into_inner(m) {
                    work.reserve(2 * m.entries.len());
                    for (k, v) in m.entries.drain(..) {
                        work.push(Value::String(k));
                        work.push(v);
                    }
                }
            }
            _ => {}
        }
        if budget == 0 && !work.is_empty() {
            match dropper::hand_over(work) {
                Ok(()) => return,
                // no dropper (it could not start, or too much is waiting)
                Err(back) => {
                    work = back;
                    budget = usize::MAX;
                }
            }
        }
    }
}

/// About how many entries (an object's key and value, or an array item) a
/// thread frees itself before it hands the rest of a tree to the [`dropper`]
/// (well under a millisecond of work; a settings object of a few thousand
/// entries is freed where it is dropped, as before). A map or array with more
/// entries than this goes through [`drop_iteratively`] even when flat.
const DROP_INLINE: usize = 4096;

/// The thread that frees big trees for the others (see [`drop_iteratively`]):
/// one long-lived thread, started on first use, freeing batches in the order
/// they arrive. At most [`dropper::MAX_WAITING`] batches wait; past that (a
/// program replacing big documents faster than they can be freed) the thread
/// that drops a tree frees it itself, which bounds the memory waiting to be
/// freed. Handing over never blocks.
pub mod dropper {
    use std::cell::Cell;
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    use std::sync::mpsc::{channel, Sender};
    use std::sync::{Condvar, Mutex, OnceLock};
    use std::time::{Duration, Instant};

    use super::Value;

    /// Batches that may wait for the dropper (each may be a whole document:
    /// this bounds the memory not yet freed).
    pub const MAX_WAITING: usize = 2;

    /// Big parses in progress (see [`yield_to_parse`]).
    static PARSING: Mutex<usize> = Mutex::new(0);
    static PARSED: Condvar = Condvar::new();

    /// Held while a big document is parsed: the dropper pauses meanwhile.
    pub(super) struct Parsing(());

    impl Parsing {
        pub(super) fn begin() -> Parsing {
            *PARSING.lock().unwrap_or_else(|p| p.into_inner()) += 1;
            Parsing(())
        }
    }

    impl Drop for Parsing {
        fn drop(&mut self) {
            let mut n = PARSING.lock().unwrap_or_else(|p| p.into_inner());
            *n -= 1;
            if *n == 0 {
                PARSED.notify_all();
            }
        }
    }

    /// On the dropper, between runs of frees: waits while a big document is
    /// parsed (a store opening right after another closed — a freeing
    /// thread and a parsing one contend for the allocator and the cores, and
    /// the open is what a program waits for). A parse ends; the wait is
    /// bounded anyway.
    pub(super) fn yield_to_parse() {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut n = PARSING.lock().unwrap_or_else(|p| p.into_inner());
        while *n > 0 {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            n = PARSED
                .wait_timeout(n, deadline - now)
                .map(|r| r.0)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    thread_local! {
        static IS_DROPPER: Cell<bool> = const { Cell::new(false) };
        /// The ticket of the last batch this thread handed over (tests).
        static LAST_TICKET: Cell<u64> = const { Cell::new(0) };
    }

    /// A batch of work for the dropper, with its ticket.
    type Batch = (u64, Vec<Value>);

    static SENDER: OnceLock<Option<Mutex<Sender<Batch>>>> = OnceLock::new();
    static NEXT_TICKET: AtomicU64 = AtomicU64::new(1);
    static WAITING: AtomicUsize = AtomicUsize::new(0);
    /// Every batch up to this ticket is freed.
    static FREED: Mutex<u64> = Mutex::new(0);
    static FREED_CHANGED: Condvar = Condvar::new();

    pub(super) fn on_dropper() -> bool {
        IS_DROPPER.with(Cell::get)
    }

    fn sender() -> Option<&'static Mutex<Sender<Batch>>> {
        SENDER
            .get_or_init(|| {
                let (tx, rx) = channel::<Batch>();
                let started = std::thread::Builder::new()
                    .name("tad-store-dropper".into())
                    .spawn(move || {
                        IS_DROPPER.with(|d| d.set(true));
                        while let Ok((ticket, work)) = rx.recv() {
                            // freeing memory does not panic; if it ever did,
                            // the thread goes on with the next batch
                            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                super::drop_iteratively(work)
                            }));
                            WAITING.fetch_sub(1, Ordering::AcqRel);
                            let mut freed = FREED.lock().unwrap_or_else(|p| p.into_inner());
                            *freed = ticket;
                            FREED_CHANGED.notify_all();
                        }
                    });
                started.ok().map(|_| Mutex::new(tx))
            })
            .as_ref()
    }

    /// Hands `work` to the dropper; gives it back when the dropper cannot
    /// take it (it could not start, or [`MAX_WAITING`] batches wait).
    pub(super) fn hand_over(work: Vec<Value>) -> Result<(), Vec<Value>> {
        let Some(tx) = sender() else {
            return Err(work);
        };
        if WAITING.fetch_add(1, Ordering::AcqRel) >= MAX_WAITING {
            WAITING.fetch_sub(1, Ordering::AcqRel);
            return Err(work);
        }
        let tx = tx.lock().unwrap_or_else(|p| p.into_inner());
        // tickets in the order of the channel
        let ticket = NEXT_TICKET.fetch_add(1, Ordering::AcqRel);
        match tx.send((ticket, work)) {
            Ok(()) => {
                LAST_TICKET.with(|t| t.set(ticket));
                Ok(())
            }
            Err(e) => {
                WAITING.fetch_sub(1, Ordering::AcqRel);
                Err(e.0 .1)
            }
        }
    }

    /// Waits until every batch handed over so far is freed; false when
    /// `timeout` passed first.
    pub fn wait_idle(timeout: Duration) -> bool {
        wait_freed(NEXT_TICKET.load(Ordering::Acquire) - 1, timeout)
    }

    /// The ticket of the last batch the calling thread handed over (0: none).
    pub fn last_handed_over() -> u64 {
        LAST_TICKET.with(Cell::get)
    }

    /// Waits until the batch `ticket` (and every one before it) is freed;
    /// false when `timeout` passed first.
    pub fn wait_freed(ticket: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut freed = FREED.lock().unwrap_or_else(|p| p.into_inner());
        while *freed < ticket {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            freed = FREED_CHANGED
                .wait_timeout(freed, deadline - now)
                .map(|r| r.0)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        true
    }
}

/// Wraps items as an array value.
pub fn array(items: Vec<Value>) -> Value {
    Value::Array(Arc::new(Array::from(items)))
}

/// The document's Merkle hash: SHA-256 over each container's entries, where a
/// nested container contributes its own (cached) hash. Containers cache their
/// hash until they are changed, and unchanged subtrees are shared between
/// versions of the document, so after a small change only the nodes on the
/// changed path are hashed again. Key order counts (two values with the same
/// hash serialize to the same bytes).
pub fn merkle(v: &Value) -> Hash {
    /// A container being hashed: its entries are fed in order; `next` is the
    /// entry whose (uncached) hash is being computed below it.
    struct Open<'a> {
        v: &'a Value,
        next: usize,
        h: Sha256,
    }
    fn open(v: &Value) -> Open<'_> {
        let mut h = Sha256::new();
        h.update(if matches!(v, Value::Object(_)) {
            b"{"
        } else {
            b"["
        });
        Open { v, next: 0, h }
    }
    fn cached(v: &Value) -> Option<Hash> {
        match v {
            Value::Object(m) => m.hash.get().copied(),
            Value::Array(a) => a.hash.get().copied(),
            _ => None,
        }
    }
    if !v.is_container() {
        let mut h = Sha256::new();
        feed(&mut h, v, None);
        return h.finalize().into();
    }
    if let Some(h) = cached(v) {
        return h;
    }
    let mut stack = vec![open(v)];
    loop {
        let top = stack.last_mut().expect("a container is open");
        let mut descend = None;
        loop {
            let (key, child) = match top.v {
                Value::Object(m) => match m.entries.get(top.next) {
                    Some((k, c)) => (Some(k), c),
                    None => break,
                },
                Value::Array(a) => match a.items.get(top.next) {
                    Some(c) => (None, c),
                    None => break,
                },
                _ => unreachable!("only containers are opened"),
            };
            let known = cached(child);
            if child.is_container() && known.is_none() {
                descend = Some(child);
                break;
            }
            feed_entry(&mut top.h, key, child, known);
            top.next += 1;
        }
        if let Some(child) = descend {
            stack.push(open(child));
            continue;
        }
        // every entry fed: this container's hash is known
        let done = stack.pop().expect("a container is open");
        let hash: Hash = done.h.finalize().into();
        match done.v {
            Value::Object(m) => {
                let _ = m.hash.set(hash);
            }
            Value::Array(a) => {
                let _ = a.hash.set(hash);
            }
            _ => {}
        }
        let Some(parent) = stack.last_mut() else {
            return hash;
        };
        let (key, child) = match parent.v {
            Value::Object(m) => {
                let (k, c) = &m.entries[parent.next];
                (Some(k), c)
            }
            Value::Array(a) => (None, &a.items[parent.next]),
            _ => unreachable!("only containers are opened"),
        };
        feed_entry(&mut parent.h, key, child, Some(hash));
        parent.next += 1;
    }
}

/// Feeds one entry of a container: an object's key, then the child.
fn feed_entry(h: &mut Sha256, key: Option<&Str>, child: &Value, hash: Option<Hash>) {
    if let Some(k) = key {
        let k = wtf8(k);
        h.update((k.len() as u64).to_le_bytes());
        h.update(&k);
    }
    feed(h, child, hash);
}

/// Feeds one child into a container's hasher: scalars by their JSON text,
/// containers by their hash (`hash`, known by the caller).
fn feed(h: &mut Sha256, v: &Value, hash: Option<Hash>) {
    if v.is_container() {
        h.update(b"h");
        h.update(hash.unwrap_or_else(|| merkle(v)));
    } else {
        let mut buf = Vec::with_capacity(16);
        write_json(&mut buf, v, false);
        h.update(b"s");
        h.update((buf.len() as u64).to_le_bytes());
        h.update(&buf);
    }
}

/// SHA-256 of `bytes`, as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes).into())
}

/// Writes `[item,item,...]`, each item by `write`.
pub fn write_list<T>(
    out: &mut Vec<u8>,
    items: impl IntoIterator<Item = T>,
    mut write: impl FnMut(&mut Vec<u8>, T),
) {
    out.push(b'[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(out, item);
    }
    out.push(b']');
}

/// Lowercase hex of a hash.
pub fn hex(h: &Hash) -> String {
    let mut s = String::with_capacity(64);
    for b in h {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Objects up to this size are searched linearly; larger ones get a hash index.
const INDEX_MIN: usize = 16;

fn hash_key(k: &str) -> u64 {
    let mut h = FxHasher::default();
    h.write(k.as_bytes());
    h.finish()
}

/// An insertion-ordered string map (a JS object's own enumerable properties).
///
/// Small maps (up to [`INDEX_MIN`] entries, most of a settings document) have
/// no index: a linear scan is faster than hashing at that size, and the map
/// costs no allocation beyond its entries. A larger map's index is boxed (a
/// small map pays one pointer for it) and holds `u32` positions.
#[derive(Clone, Debug, Default)]
pub struct Map {
    entries: Vec<(Str, Value)>,
    index: Option<Box<HashTable<u32>>>,
    /// Cached Merkle hash, reset by every mutable access.
    hash: OnceLock<Hash>,
}

impl Map {
    pub fn new() -> Map {
        Map::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Str, &Value)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The entry at position `i` in insertion order.
    pub fn get_index(&self, i: usize) -> Option<(&Str, &Value)> {
        self.entries.get(i).map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &Str> {
        self.entries.iter().map(|(k, _)| k)
    }

    /// Position of `key` in insertion order.
    pub fn position(&self, key: &str) -> Option<usize> {
        match &self.index {
            Some(table) => table
                .find(hash_key(key), |&i| &*self.entries[i as usize].0 == key)
                .map(|&i| i as usize),
            None => self.entries.iter().position(|(k, _)| &**k == key),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.position(key).map(|i| &self.entries[i].1)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.hash = OnceLock::new();
        self.position(key).map(move |i| &mut self.entries[i].1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Sets `key`; an existing key keeps its position (as in JS). Returns the old value.
    ///
    /// New keys go where JS puts them: array-index keys ("0", "17") in ascending
    /// order before all other keys, other keys at the end. So insertion order here
    /// always equals JS property order, and it survives a trip through JSON text.
    pub fn insert(&mut self, key: Str, value: Value) -> Option<Value> {
        self.hash = OnceLock::new();
        if let Some(i) = self.position(&key) {
            return Some(std::mem::replace(&mut self.entries[i].1, value));
        }
        match is_array_index(&key) {
            Some(n) => {
                let at = self
                    .entries
                    .iter()
                    .position(|(k, _)| is_array_index(k).is_none_or(|m| m > n))
                    .unwrap_or(self.entries.len());
                self.insert_new_at(at, key, value);
            }
            None => self.push_new(key, value),
        }
        None
    }

    fn insert_new_at(&mut self, at: usize, key: Str, value: Value) {
        if at == self.entries.len() {
            self.push_new(key, value);
        } else {
            self.entries.insert(at, (key, value));
            self.rebuild_index();
        }
    }

    fn push_new(&mut self, key: Str, value: Value) {
        let i = self.entries.len();
        let h = hash_key(&key);
        self.entries.push((key, value));
        let Map { entries, index, .. } = self;
        match index {
            Some(table) => {
                table.insert_unique(h, i as u32, |&j| hash_key(&entries[j as usize].0));
            }
            None if entries.len() > INDEX_MIN => self.rebuild_index(),
            None => {}
        }
    }

    /// Inserts a key that is not present at position `pos` (clamped), or replaces an
    /// existing one in place. Used to undo a delete exactly. Array-index keys
    /// always take their JS position.
    pub fn insert_at(&mut self, pos: usize, key: Str, value: Value) -> Option<Value> {
        self.hash = OnceLock::new();
        if self.position(&key).is_some() || is_array_index(&key).is_some() {
            return self.insert(key, value);
        }
        let first_plain = self
            .entries
            .iter()
            .position(|(k, _)| is_array_index(k).is_none())
            .unwrap_or(self.entries.len());
        let pos = pos.clamp(first_plain, self.entries.len());
        self.insert_new_at(pos, key, value);
        None
    }

    /// Removes `key`, keeping the order of the others. Returns (old position, value).
    pub fn shift_remove(&mut self, key: &str) -> Option<(usize, Value)> {
        self.hash = OnceLock::new();
        let i = self.position(key)?;
        let (_, v) = self.entries.remove(i);
        if self.index.is_some() {
            self.rebuild_index();
        }
        Some((i, v))
    }

    fn rebuild_index(&mut self) {
        if self.entries.len() <= INDEX_MIN {
            self.index = None;
            return;
        }
        let entries = &self.entries;
        let mut table = HashTable::with_capacity(entries.len());
        for (i, (k, _)) in entries.iter().enumerate() {
            table.insert_unique(hash_key(k), i as u32, |&j| hash_key(&entries[j as usize].0));
        }
        self.index = Some(Box::new(table));
    }

    /// The map of an object the parser read: `entries` in the order of the
    /// text, where keys may repeat (the parser removed the repeats among the
    /// first [`INDEX_MIN`] + 1 entries, see `Parser::place`). Gives what
    /// inserting them one by one gives (`JSON.parse`: array-index keys first,
    /// ascending; a repeated key keeps its first position and takes its last
    /// value), with the entries' `Vec` and the index allocated once, at their
    /// final size. `numeric`: some key is an array index.
    fn from_parsed(mut entries: Vec<(Str, Value)>, numeric: bool) -> Map {
        let order = |k: &Str| match is_array_index(k) {
            Some(n) => (false, n),
            None => (true, 0),
        };
        if numeric && !entries.is_sorted_by_key(|(k, _)| order(k)) {
            // stable: plain keys keep their order, a repeated index key its
            // first place among its equals
            entries.sort_by_key(|(k, _)| order(k));
        }
        if entries.len() <= INDEX_MIN {
            return Map {
                entries,
                index: None,
                hash: OnceLock::new(),
            };
        }
        let mut table: HashTable<u32> = HashTable::with_capacity(entries.len());
        // entries that repeat an earlier key (their value moved to it)
        let mut repeats: Vec<usize> = Vec::new();
        for i in 0..entries.len() {
            let h = hash_key(&entries[i].0);
            let first = table
                .find(h, |&j| entries[j as usize].0 == entries[i].0)
                .copied();
            match first {
                Some(j) => {
                    let v = std::mem::take(&mut entries[i].1);
                    entries[j as usize].1 = v;
                    repeats.push(i);
                }
                None => {
                    let at = &entries;
                    table.insert_unique(h, i as u32, |&j| hash_key(&at[j as usize].0));
                }
            }
        }
        if repeats.is_empty() {
            return Map {
                entries,
                index: Some(Box::new(table)),
                hash: OnceLock::new(),
            };
        }
        // rare: a large object with a repeated key
        let mut next = repeats.iter().copied().peekable();
        let mut i = 0;
        entries.retain(|_| {
            let keep = next.next_if_eq(&i).is_none();
            i += 1;
            keep
        });
        entries.shrink_to_fit();
        let mut m = Map {
            entries,
            index: None,
            hash: OnceLock::new(),
        };
        m.rebuild_index();
        m
    }
}

impl Drop for Map {
    fn drop(&mut self) {
        if self.entries.len() > DROP_INLINE {
            drop_iteratively(entries_as_work(&mut self.entries));
        } else if self.entries.iter().any(|(_, v)| v.is_container()) {
            drop_iteratively(self.entries.drain(..).map(|(_, v)| v).collect());
        }
    }
}

/// A map's keys and values as work for [`drop_iteratively`] (a key as a
/// string value, so that a big map's keys are freed with the rest).
fn entries_as_work(entries: &mut Vec<(Str, Value)>) -> Vec<Value> {
    let mut work = Vec::with_capacity(2 * entries.len());
    for (k, v) in entries.drain(..) {
        work.push(Value::String(k));
        work.push(v);
    }
    work
}

impl FromIterator<(Str, Value)> for Map {
    fn from_iter<T: IntoIterator<Item = (Str, Value)>>(iter: T) -> Self {
        let mut m = Map::new();
        for (k, v) in iter {
            m.insert(k, v);
        }
        m
    }
}

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

/// Nesting depth of a value: the most containers on any path into it (a
/// scalar is 0, `[]` and `{}` are 1, `{"a":[1]}` is 2), as `JSON.parse` of
/// `"[".repeat(n) + "]".repeat(n)` nests `n` deep.
pub fn depth(v: &Value) -> usize {
    let mut deepest = 0;
    // containers still to look into, with the depth they sit at
    let mut todo: Vec<(&Value, usize)> = Vec::new();
    let mut cur = (v, 1);
    loop {
        let (v, at) = cur;
        match v {
            Value::Array(a) => {
                deepest = deepest.max(at);
                todo.extend(a.iter().filter(|c| c.is_container()).map(|c| (c, at + 1)));
            }
            Value::Object(m) => {
                deepest = deepest.max(at);
                todo.extend(
                    m.iter()
                        .filter(|(_, c)| c.is_container())
                        .map(|(_, c)| (c, at + 1)),
                );
            }
            _ => {}
        }
        match todo.pop() {
            Some(next) => cur = next,
            None => return deepest,
        }
    }
}

/// The one nesting limit of the store: a document may nest at most this many
/// levels (the top-level object is the first), so a value stored at a path
/// of `p` segments may nest `MAX_DEPTH - p` levels itself. It applies to
/// everything that writes or reads a document: values from JS (`set`,
/// `set(object)`, `setMultiple`, `store =`, `defaults`, IPC), the store file,
/// an external edit, backups and snapshots; a journal line gets
/// [`LINE_OVERHEAD`] more levels for its own wrapping. The JS side checks the
/// same number (the addon exports it).
///
/// It is at least what V8 round-trips: `JSON.parse` has no limit (it is not
/// recursive), and `JSON.stringify(store, undefined, '\t')` — how
/// electron-store writes its file — gives up (RangeError) on Node's main
/// thread past 4,184 levels on Node 20, 4,172 on 22, 4,466 on 24 and 5,673 on
/// 26 (measured; on a worker thread's larger default V8 stack, 16,564 /
/// 16,551 / 17,733 / 22,558).
/// Nothing in the core recurses on nesting (see the module comment, and
/// `deep` for the schema validator), so the limit is a choice, not a stack
/// size: the next power of two above V8's main-thread figures.
pub const MAX_DEPTH: usize = 8192;

/// The message of the error for a value that would nest deeper than
/// [`MAX_DEPTH`] at `key` (the JS side throws the same text).
pub fn too_deep_message(key: &str) -> String {
    format!(
        "Cannot store the value for `{}`: it would nest more than {MAX_DEPTH} levels deep in the store (tad-store's limit; JSON.stringify cannot write much deeper either). Nothing was written",
        display(key)
    )
}

/// Levels a journal line adds around a value (line object, patch array,
/// operation object), plus slack.
pub const LINE_OVERHEAD: usize = 8;

/// Why a JSON text did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub message: &'static str,
    /// Valid JSON as far as it was read, but nested deeper than the limit.
    pub too_deep: bool,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.too_deep {
            write!(
                f,
                "nested more than {MAX_DEPTH} levels deep (tad-store's limit) at byte {}",
                self.offset
            )
        } else {
            write!(f, "{} at byte {}", self.message, self.offset)
        }
    }
}

/// Parses JSON text with `JSON.parse` semantics (duplicate keys: last value wins
/// at the first key's position; numbers are IEEE doubles; strings in the
/// JS-string encoding, see [`MARK`]). A leading UTF-8 BOM is skipped. Invalid
/// UTF-8 is an error: the store's own files (journal, backups) are never
/// repaired silently. For the store file, see [`parse_document`]. Nesting
/// deeper than [`MAX_DEPTH`] is an error (`too_deep`).
pub fn parse(bytes: &[u8]) -> Result<Value, ParseError> {
    parse_nested(bytes, 0)
}

/// Parses the store file as electron-store reads it: `JSON.parse` of the bytes
/// decoded the way Node's `buffer.toString('utf8')` does, where each maximal
/// invalid subpart becomes U+FFFD (the WHATWG decoder; `from_utf8_lossy`
/// implements the same rule). Returns the value and whether the bytes held
/// invalid UTF-8 (a file saved by a Latin-1 editor, say).
pub fn parse_document(bytes: &[u8]) -> Result<(Value, bool), ParseError> {
    // the bytes are checked once (a 10 MB file: a pass saved)
    let bom = |b: &[u8]| if b.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
    match std::str::from_utf8(bytes) {
        Ok(_) => parse_valid(&bytes[bom(bytes)..], 0, MAX_DEPTH).map(|v| (v, false)),
        Err(_) => {
            let text = String::from_utf8_lossy(bytes);
            let t = text.as_bytes();
            parse_valid(&t[bom(t)..], 0, MAX_DEPTH).map(|v| (v, true))
        }
    }
}

/// `parse` for a value that will sit inside `depth` containers of a document
/// (a path of `depth` segments): it may nest at most `MAX_DEPTH - depth`
/// levels itself.
pub fn parse_nested(bytes: &[u8], depth: usize) -> Result<Value, ParseError> {
    parse_limited(bytes, depth, MAX_DEPTH)
}

/// `parse` of a text that sits inside `depth` containers, where at most `max`
/// may enclose any point.
pub fn parse_limited(bytes: &[u8], depth: usize, max: usize) -> Result<Value, ParseError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(ParseError {
            offset: e.valid_up_to(),
            message: "invalid UTF-8",
            too_deep: false,
        });
    }
    parse_valid(bytes, depth, max)
}

/// Documents from this size on are parsed with the dropper paused.
const BIG_PARSE: usize = 1 << 20;

/// `parse_limited` of text already known to be valid UTF-8, without a BOM.
fn parse_valid(bytes: &[u8], depth: usize, max: usize) -> Result<Value, ParseError> {
    let _parsing = (bytes.len() >= BIG_PARSE).then(dropper::Parsing::begin);
    let mut p = Parser {
        b: bytes,
        i: 0,
        // sized for the distinct keys and short values of a settings file
        // (one per ~160 bytes of text), so that it seldom grows while read
        keys: HashTable::with_capacity((bytes.len() / 160).min(1 << 20)),
        items: Vec::new(),
        members: Vec::new(),
    };
    p.ws();
    let v = p.value(depth, max)?;
    p.ws();
    if p.i != p.b.len() {
        return Err(p.err("unexpected data after the JSON value"));
    }
    Ok(v)
}

/// The entries of `stack` from `start` on, in a `Vec` of their exact size
/// (`split_off(0)` would hand over the stack's whole buffer instead).
fn take_from<T>(stack: &mut Vec<T>, start: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(stack.len() - start);
    out.extend(stack.drain(start..));
    out
}

/// A container the parser is inside of: where its entries start on the
/// parser's scratch stack (`Parser::items` for an array, `Parser::members`
/// for an object). Its entries are the top of that stack, since everything
/// nested in it was taken off before its next entry is pushed.
enum Open {
    Array(usize),
    /// `numeric`: some key so far is an array index (the map sorts them).
    Object {
        start: usize,
        numeric: bool,
    },
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
    /// Short keys and short string values read so far: a key that repeats
    /// (the same field in every element of an array of objects) shares one
    /// allocation, and so does a repeated short value.
    keys: HashTable<Str>,
    /// The items of the arrays being read, innermost last: an array's `Vec`
    /// is allocated once, at its exact size, when it closes (no regrowth).
    items: Vec<Value>,
    /// The members of the objects being read, likewise; the last one's value
    /// is a placeholder while that value is being read.
    members: Vec<(Str, Value)>,
}

/// Keys up to this many bytes are shared (see `Parser::keys`).
const SHARED_KEY_MAX: usize = 48;

/// String values up to this many bytes (without escapes) are shared too:
/// short values repeat often, longer ones (paths, ids, text) seldom.
const SHARED_VALUE_MAX: usize = 16;

impl<'a> Parser<'a> {
    fn err(&self, message: &'static str) -> ParseError {
        ParseError {
            offset: self.i,
            message,
            too_deep: false,
        }
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if c == b' ' || c == b'\n' || c == b'\r' || c == b'\t' {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    /// A short key without escapes (taken as it is), shared with the same
    /// key read before; `None` when the key needs the full string reader.
    fn shared_key(&mut self) -> Option<Str> {
        let start = self.i + 1;
        let b = self.b;
        let end = start
            + b.get(start..)?
                .iter()
                .take(SHARED_KEY_MAX + 1)
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20 || c == 0xEF)?;
        if b[end] != b'"' {
            return None;
        }
        // SAFETY: the parser's input was checked to be UTF-8 before parsing,
        // and `start` (after an ASCII quote) and `end` (at one) are char
        // boundaries, so the slice is valid UTF-8.
        let text = unsafe { std::str::from_utf8_unchecked(&b[start..end]) };
        let k = self.shared(text);
        self.i = end + 1;
        Some(k)
    }

    /// `text` as a string shared with every equal one read before (see
    /// `Parser::keys`).
    #[inline]
    fn shared(&mut self, text: &str) -> Str {
        let h = hash_key(text);
        match self.keys.find(h, |k| &**k == text) {
            Some(k) => k.clone(),
            None => {
                let k = Str::from(text);
                self.keys.insert_unique(h, k.clone(), |k| hash_key(k));
                k
            }
        }
    }

    /// At a member: its key and the `:` after it.
    fn member_key(&mut self) -> Result<Str, ParseError> {
        self.ws();
        if self.b.get(self.i) != Some(&b'"') {
            return Err(self.err("expected a string key"));
        }
        let k = match self.shared_key() {
            Some(k) => k,
            None => self.string()?,
        };
        self.ws();
        if self.b.get(self.i) != Some(&b':') {
            return Err(self.err("expected ':'"));
        }
        self.i += 1;
        self.ws();
        Ok(k)
    }

    /// Puts the value just read in its place as the last member of the
    /// object whose members start at `start`. While the object is small
    /// (it may end up without an index) a repeated key is found here by a
    /// linear scan: the first member keeps its place and takes the value;
    /// past [`INDEX_MIN`] members, `Map::from_parsed` finds repeats with the
    /// index it builds anyway.
    #[inline]
    fn place(&mut self, start: usize, v: Value) {
        let m = &mut self.members;
        let last = m.len() - 1;
        if last - start <= INDEX_MIN {
            let (before, rest) = m[start..].split_at_mut(last - start);
            let key = &rest[0].0;
            if let Some(first) = before.iter_mut().find(|(k, _)| k == key) {
                first.1 = v;
                m.pop();
                return;
            }
        }
        m[last].1 = v;
    }

    /// At a member: reads its key (and the `:`) onto `members`, with a
    /// placeholder value; whether the key is an array index.
    #[inline]
    fn push_member(&mut self) -> Result<bool, ParseError> {
        let k = self.member_key()?;
        let numeric =
            k.as_bytes().first().is_some_and(u8::is_ascii_digit) && is_array_index(&k).is_some();
        self.members.push((k, Value::Null));
        Ok(numeric)
    }

    /// One value (with everything nested in it), inside `depth` containers of
    /// at most `max`. The containers being read are on a heap stack, not the
    /// thread's.
    fn value(&mut self, depth: usize, max: usize) -> Result<Value, ParseError> {
        let mut open: Vec<Open> = Vec::new();
        'value: loop {
            let mut done = match self.b.get(self.i) {
                None => return Err(self.err("unexpected end of JSON input")),
                Some(b'{' | b'[') if depth + open.len() >= max => {
                    return Err(ParseError {
                        offset: self.i,
                        message: "nesting too deep",
                        too_deep: true,
                    })
                }
                Some(b'{') => {
                    self.i += 1;
                    self.ws();
                    if self.b.get(self.i) == Some(&b'}') {
                        self.i += 1;
                        Value::Object(Arc::new(Map::new()))
                    } else {
                        let start = self.members.len();
                        let numeric = self.push_member()?;
                        open.push(Open::Object { start, numeric });
                        continue 'value;
                    }
                }
                Some(b'[') => {
                    self.i += 1;
                    self.ws();
                    if self.b.get(self.i) == Some(&b']') {
                        self.i += 1;
                        array(Vec::new())
                    } else {
                        open.push(Open::Array(self.items.len()));
                        continue 'value;
                    }
                }
                Some(b'"') => self.string_value()?,
                Some(b't') => self.lit(b"true", Value::Bool(true))?,
                Some(b'f') => self.lit(b"false", Value::Bool(false))?,
                Some(b'n') => self.lit(b"null", Value::Null)?,
                Some(b'-' | b'0'..=b'9') => self.number()?,
                Some(_) => return Err(self.err("unexpected token")),
            };
            // a whole value: it goes into the container it is in, which may end
            loop {
                let Some(top) = open.last_mut() else {
                    return Ok(done);
                };
                self.ws();
                match top {
                    Open::Array(start) => {
                        let start = *start;
                        self.items.push(done);
                        match self.b.get(self.i) {
                            Some(b',') => {
                                self.i += 1;
                                self.ws();
                                continue 'value;
                            }
                            Some(b']') => {
                                self.i += 1;
                                open.pop();
                                // exact capacity: one allocation
                                done = array(take_from(&mut self.items, start));
                            }
                            None => return Err(self.err("unexpected end of JSON input")),
                            _ => return Err(self.err("expected ',' or ']'")),
                        }
                    }
                    Open::Object { start, numeric } => {
                        let start = *start;
                        self.place(start, done);
                        match self.b.get(self.i) {
                            Some(b',') => {
                                self.i += 1;
                                if self.push_member()? {
                                    *numeric = true;
                                }
                                continue 'value;
                            }
                            Some(b'}') => {
                                self.i += 1;
                                let numeric = *numeric;
                                open.pop();
                                let entries = take_from(&mut self.members, start);
                                done = Value::Object(Arc::new(Map::from_parsed(entries, numeric)));
                            }
                            None => return Err(self.err("unexpected end of JSON input")),
                            _ => return Err(self.err("expected ',' or '}'")),
                        }
                    }
                }
            }
        }
    }

    fn lit(&mut self, word: &[u8], v: Value) -> Result<Value, ParseError> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(v)
        } else {
            Err(self.err("unexpected token"))
        }
    }

    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.i;
        let b = self.b;
        if b.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        match b.get(self.i) {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                while matches!(b.get(self.i), Some(b'0'..=b'9')) {
                    self.i += 1;
                }
            }
            _ => return Err(self.err("invalid number")),
        }
        if b.get(self.i) == Some(&b'.') {
            self.i += 1;
            if !matches!(b.get(self.i), Some(b'0'..=b'9')) {
                return Err(self.err("invalid number"));
            }
            while matches!(b.get(self.i), Some(b'0'..=b'9')) {
                self.i += 1;
            }
        }
        if matches!(b.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(b.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !matches!(b.get(self.i), Some(b'0'..=b'9')) {
                return Err(self.err("invalid number"));
            }
            while matches!(b.get(self.i), Some(b'0'..=b'9')) {
                self.i += 1;
            }
        }
        let text = &b[start..self.i];
        let digits = &text[usize::from(text[0] == b'-')..];
        if digits.len() <= 15 && digits.iter().all(u8::is_ascii_digit) {
            // an integer below 10^15 (ids, counts, timestamps): exact in an
            // f64, so this is what the general parse gives, without it
            let n = digits
                .iter()
                .fold(0u64, |n, &d| n * 10 + u64::from(d - b'0')) as f64;
            return Ok(Value::Number(if text[0] == b'-' { -n } else { n }));
        }
        // SAFETY of unwrap: the slice is ASCII digits/sign/dot/exponent.
        let s = std::str::from_utf8(text).unwrap();
        let f: f64 = s.parse().map_err(|_| self.err("invalid number"))?;
        // JSON.parse gives ±Infinity for huge exponents; JSON.stringify writes null.
        Ok(if f.is_finite() {
            Value::Number(f)
        } else {
            Value::Null
        })
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let mut n = 0u32;
        for _ in 0..4 {
            let c = *self
                .b
                .get(self.i)
                .ok_or_else(|| self.err("bad \\u escape"))?;
            let d = (c as char)
                .to_digit(16)
                .ok_or_else(|| self.err("bad \\u escape"))?;
            n = n * 16 + d;
            self.i += 1;
        }
        Ok(n)
    }

    /// A key (the same encoding as string values: distinct JS keys stay distinct).
    fn string(&mut self) -> Result<Str, ParseError> {
        match self.string_value()? {
            Value::String(s) => Ok(s),
            _ => unreachable!("string_value returns strings"),
        }
    }

    /// A string, in the JS-string encoding (see [`MARK`]).
    fn string_value(&mut self) -> Result<Value, ParseError> {
        // at the opening quote
        self.i += 1;
        let start = self.i;
        let b = self.b;
        // fast path: no escapes and no literal MARK (the text is taken as it is)
        loop {
            match b.get(self.i) {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    // SAFETY: the input is a `&str` (valid UTF-8) and `start` and
                    // `self.i` sit right after/at ASCII quotes, so both are char
                    // boundaries and the slice between them is valid UTF-8.
                    let s = unsafe { std::str::from_utf8_unchecked(&b[start..self.i]) };
                    self.i += 1;
                    // short values repeat (enum-like words: "dark", "open"):
                    // shared, like keys
                    if s.len() <= SHARED_VALUE_MAX {
                        return Ok(Value::String(self.shared(s)));
                    }
                    return Ok(Value::String(Str::from(s)));
                }
                Some(b'\\') => break,
                Some(0xEF) if b[self.i..].starts_with(&MARK_UTF8) => break,
                Some(&c) if c < 0x20 => return Err(self.err("control character in string")),
                Some(_) => self.i += 1,
            }
        }
        let mut out: Vec<u8> = b[start..self.i].to_vec();
        loop {
            match b.get(self.i) {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.i += 1;
                    // escapes and the encoding only produce valid UTF-8
                    let text = String::from_utf8(out).unwrap();
                    return Ok(Value::String(Str::from(text)));
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = *b
                        .get(self.i)
                        .ok_or_else(|| self.err("unterminated string"))?;
                    self.i += 1;
                    match c {
                        b'"' => out.push(b'"'),
                        b'\\' => out.push(b'\\'),
                        b'/' => out.push(b'/'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let mut cp = self.hex4()?;
                            if (0xD800..0xDC00).contains(&cp)
                                && b.get(self.i) == Some(&b'\\')
                                && b.get(self.i + 1) == Some(&b'u')
                            {
                                let save = self.i;
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                                } else {
                                    self.i = save;
                                }
                            }
                            push_unit_or_char(&mut out, cp);
                        }
                        _ => return Err(self.err("bad escape")),
                    }
                }
                Some(&c) if c < 0x20 => return Err(self.err("control character in string")),
                Some(0xEF) if b[self.i..].starts_with(&MARK_UTF8) => {
                    out.extend_from_slice(&MARK_UTF8);
                    out.extend_from_slice(&MARK_UTF8);
                    self.i += MARK_UTF8.len();
                }
                Some(&c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// JS strings
// ---------------------------------------------------------------------------

/// JS strings are UTF-16 and may hold unpaired surrogates (`'\ud800'` is a
/// legal key and value; `JSON.stringify` writes it as `"\ud800"`), which a
/// Rust `str` cannot. Every string of the tree — keys, values, path segments —
/// is kept in one injective encoding into UTF-8: an unpaired surrogate
/// U+D800+n becomes `MARK` followed by the private-use character U+E000+n, and
/// a literal `MARK` is doubled. Any other text is stored as it is, so the
/// common case costs nothing; [`write_string`] writes the JS string back
/// (`\udxxx` escapes, as `JSON.stringify` does). `MARK` is U+FDD0, a
/// noncharacter, "reserved for internal use" by Unicode.
pub const MARK: char = '\u{FDD0}';
const MARK_UTF8: [u8; 3] = [0xEF, 0xB7, 0x90];

/// One UTF-16 code unit or code point of a JS string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsChar {
    Char(char),
    /// An unpaired surrogate (0xD800..=0xDFFF).
    Lone(u16),
}

/// Appends a decoded code point or unpaired surrogate, encoded.
fn push_unit_or_char(out: &mut Vec<u8>, cp: u32) {
    let mut buf = [0u8; 4];
    if (0xD800..0xE000).contains(&cp) {
        out.extend_from_slice(&MARK_UTF8);
        let pua = char::from_u32(0xE000 + (cp - 0xD800)).unwrap_or('\u{FFFD}');
        out.extend_from_slice(pua.encode_utf8(&mut buf).as_bytes());
        return;
    }
    let ch = char::from_u32(cp).unwrap_or('\u{FFFD}');
    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    if ch == MARK {
        out.extend_from_slice(&MARK_UTF8);
    }
}

/// The JS string an encoded `str` stands for, as code points and unpaired
/// surrogates.
pub fn js_chars(s: &str) -> impl Iterator<Item = JsChar> + '_ {
    let mut it = s.chars().peekable();
    std::iter::from_fn(move || {
        let c = it.next()?;
        if c != MARK {
            return Some(JsChar::Char(c));
        }
        match it.peek().copied() {
            Some(MARK) => {
                it.next();
                Some(JsChar::Char(MARK))
            }
            Some(p @ '\u{E000}'..='\u{E7FF}') => {
                it.next();
                Some(JsChar::Lone(0xD800 + (p as u32 - 0xE000) as u16))
            }
            // not produced by the encoding; read as the character itself
            _ => Some(JsChar::Char(MARK)),
        }
    })
}

/// Whether `s` holds no encoding at all (it is the JS string's own text).
#[inline]
pub fn is_plain(s: &str) -> bool {
    !s.as_bytes().windows(3).any(|w| w == MARK_UTF8)
}

/// Encodes text that is valid Unicode (no surrogates possible): doubles `MARK`.
pub fn encode(s: &str) -> std::borrow::Cow<'_, str> {
    if is_plain(s) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 3);
    for c in s.chars() {
        out.push(c);
        if c == MARK {
            out.push(MARK);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Encodes UTF-16 code units (a JS string): the rule by which every key from
/// JS reaches the core (the addon reads keys as UTF-16, so an unpaired
/// surrogate survives the crossing). ASCII, the usual key, is copied as it is.
pub fn encode_utf16(units: &[u16]) -> String {
    let mut out = Vec::with_capacity(units.len());
    // the ASCII prefix (usually the whole key): one byte a unit
    let ascii = units.iter().position(|&u| u >= 0x80).unwrap_or(units.len());
    out.extend(units[..ascii].iter().map(|&u| u as u8));
    for r in char::decode_utf16(units[ascii..].iter().copied()) {
        match r {
            Ok(c) => push_unit_or_char(&mut out, c as u32),
            Err(e) => push_unit_or_char(&mut out, e.unpaired_surrogate() as u32),
        }
    }
    String::from_utf8(out).unwrap_or_default()
}

/// The UTF-16 code units of the JS string `s` stands for.
pub fn utf16_units(s: &str) -> Vec<u16> {
    let mut out = Vec::with_capacity(s.len());
    let mut buf = [0u16; 2];
    for c in js_chars(s) {
        match c {
            JsChar::Char(c) => out.extend_from_slice(c.encode_utf16(&mut buf)),
            JsChar::Lone(u) => out.push(u),
        }
    }
    out
}

/// The JS string's `length` (UTF-16 code units).
pub fn utf16_len(s: &str) -> usize {
    if is_plain(s) {
        return s.encode_utf16().count();
    }
    js_chars(s)
        .map(|c| match c {
            JsChar::Char(c) => c.len_utf16(),
            JsChar::Lone(_) => 1,
        })
        .sum()
}

/// The JS string for display (messages): unpaired surrogates as U+FFFD, as
/// Node-API hands such a string to native code.
pub fn display(s: &str) -> std::borrow::Cow<'_, str> {
    if is_plain(s) {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(
        js_chars(s)
            .map(|c| match c {
                JsChar::Char(c) => c,
                JsChar::Lone(_) => '\u{FFFD}',
            })
            .collect(),
    )
}

/// The JS string as generalized UTF-8 (unpaired surrogates as their 3-byte
/// form): the bytes a key is hashed by. Text without the encoding is its own
/// bytes, so hashes of such keys are what they always were.
pub fn wtf8(s: &str) -> std::borrow::Cow<'_, [u8]> {
    if is_plain(s) {
        return std::borrow::Cow::Borrowed(s.as_bytes());
    }
    let mut out = Vec::with_capacity(s.len());
    let mut buf = [0u8; 4];
    for c in js_chars(s) {
        match c {
            JsChar::Char(c) => out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes()),
            JsChar::Lone(u) => out.extend_from_slice(&[
                0xE0 | (u >> 12) as u8,
                0x80 | ((u >> 6) & 0x3F) as u8,
                0x80 | (u & 0x3F) as u8,
            ]),
        }
    }
    std::borrow::Cow::Owned(out)
}

// ---------------------------------------------------------------------------
// Serialization (JSON.stringify compatible)
// ---------------------------------------------------------------------------

/// Some(index) when `k` is a canonical array index ("0", "17", not "01", ≤ 2^32-2):
/// JS enumerates such keys first, in ascending order.
pub fn is_array_index(k: &str) -> Option<u32> {
    let b = k.as_bytes();
    if b.is_empty() || b.len() > 10 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if b.len() > 1 && b[0] == b'0' {
        return None;
    }
    let n: u64 = k.parse().ok()?;
    if n <= 4_294_967_294 {
        Some(n as u32)
    } else {
        None
    }
}

/// Serializes like `JSON.stringify(v, null, '\t')` (pretty) or `JSON.stringify(v)`.
pub fn to_json(v: &Value, pretty: bool) -> Vec<u8> {
    to_json_sized(v, pretty, 64)
}

/// `to_json` into a buffer of `capacity` bytes to start with (for a large
/// document, the size of its last serialization avoids regrowing the buffer).
pub fn to_json_sized(v: &Value, pretty: bool, capacity: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(capacity);
    write_json(&mut out, v, pretty);
    out
}

/// Appends the serialization of `v` to `out`.
pub fn write_json(out: &mut Vec<u8>, v: &Value, pretty: bool) {
    write_value(out, v, if pretty { Some(0) } else { None });
}

fn newline(out: &mut Vec<u8>, indent: Option<usize>) {
    if let Some(n) = indent {
        out.push(b'\n');
        out.extend(std::iter::repeat_n(b'\t', n));
    }
}

fn write_value(out: &mut Vec<u8>, v: &Value, indent: Option<usize>) {
    /// A non-empty container being written: the entries left, and whether
    /// none was written yet.
    enum Entries<'a> {
        Array(std::slice::Iter<'a, Value>),
        Object(std::slice::Iter<'a, (Str, Value)>),
    }
    struct Open<'a> {
        entries: Entries<'a>,
        first: bool,
    }
    let at = |level: usize| indent.map(|n| n + level);
    let mut open: Vec<Open<'_>> = Vec::new();
    let mut cur = v;
    loop {
        match cur {
            Value::Null => out.extend_from_slice(b"null"),
            Value::Bool(true) => out.extend_from_slice(b"true"),
            Value::Bool(false) => out.extend_from_slice(b"false"),
            Value::Number(f) => write_number(out, *f),
            Value::String(s) => write_string(out, s),
            Value::Array(a) if a.is_empty() => out.extend_from_slice(b"[]"),
            Value::Object(m) if m.is_empty() => out.extend_from_slice(b"{}"),
            Value::Array(a) => {
                out.push(b'[');
                open.push(Open {
                    entries: Entries::Array(a.items.iter()),
                    first: true,
                });
            }
            // maps keep JS property order (see `Map::insert`): written as they are
            Value::Object(m) => {
                out.push(b'{');
                open.push(Open {
                    entries: Entries::Object(m.entries.iter()),
                    first: true,
                });
            }
        }
        // the next entry of the innermost open container, closing those done
        loop {
            let level = open.len();
            let Some(top) = open.last_mut() else {
                return;
            };
            let next = match &mut top.entries {
                Entries::Array(items) => items.next().map(|item| (None, item)),
                Entries::Object(entries) => entries.next().map(|(k, item)| (Some(k), item)),
            };
            let Some((key, item)) = next else {
                let closing = match open.pop() {
                    Some(Open {
                        entries: Entries::Array(_),
                        ..
                    }) => b']',
                    _ => b'}',
                };
                newline(out, at(level - 1));
                out.push(closing);
                continue;
            };
            if !std::mem::replace(&mut top.first, false) {
                out.push(b',');
            }
            newline(out, at(level));
            if let Some(k) = key {
                write_string(out, k);
                out.push(b':');
                if indent.is_some() {
                    out.push(b' ');
                }
            }
            cur = item;
            break;
        }
    }
}

/// Writes a string with `JSON.stringify`'s escaping. `s` is in the JS-string
/// encoding (see [`MARK`]): an unpaired surrogate is written as `\udxxx`.
pub fn write_string(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let b = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            8 => b"\\b",
            12 => b"\\f",
            0..=0x1f => b"",
            0xEF if b[i..].starts_with(&MARK_UTF8) => {
                out.extend_from_slice(&b[start..i]);
                let next = &b[i + 3..];
                if next.starts_with(&MARK_UTF8) {
                    // a literal MARK
                    out.extend_from_slice(&MARK_UTF8);
                    i += 6;
                } else if next.len() >= 3 && next[0] == 0xEE && (0x80..=0x9F).contains(&next[1]) {
                    // U+E000+n: the unpaired surrogate U+D800+n
                    let n = (((next[1] & 0x3F) as u16) << 6) | (next[2] & 0x3F) as u16;
                    let u = 0xD800 + n;
                    out.extend_from_slice(b"\\u");
                    for shift in [12, 8, 4, 0] {
                        out.push(HEX[((u >> shift) & 15) as usize]);
                    }
                    i += 6;
                } else {
                    out.extend_from_slice(&MARK_UTF8);
                    i += 3;
                }
                start = i;
                continue;
            }
            _ => {
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(&b[start..i]);
        if esc.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(c >> 4) as usize]);
            out.push(HEX[(c & 15) as usize]);
        } else {
            out.extend_from_slice(esc);
        }
        i += 1;
        start = i;
    }
    out.extend_from_slice(&b[start..]);
    out.push(b'"');
}

/// Writes a number the way JavaScript's `Number.prototype.toString` does
/// (non-finite numbers become `null`, as in `JSON.stringify`).
pub fn write_number(out: &mut Vec<u8>, f: f64) {
    if !f.is_finite() {
        out.extend_from_slice(b"null");
        return;
    }
    if f == 0.0 {
        out.push(b'0'); // also -0
        return;
    }
    if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
        // integers: no allocation
        let mut n = f as i64;
        if n < 0 {
            out.push(b'-');
            n = -n;
        }
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        loop {
            i -= 1;
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        out.extend_from_slice(&buf[i..]);
        return;
    }
    let mut buf = ryu::Buffer::new();
    let s = buf.format_finite(f);
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (mant, exp) = match s.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (s, 0),
    };
    // digits and position of the decimal point within them
    let (int_part, frac_part) = mant.split_once('.').unwrap_or((mant, ""));
    let mut digits: String = format!("{int_part}{frac_part}");
    let mut point = int_part.len() as i32 + exp;
    let lead = digits.len() - digits.trim_start_matches('0').len();
    digits.drain(..lead);
    point -= lead as i32;
    while digits.ends_with('0') {
        digits.pop();
    }
    let k = digits.len() as i32;
    let n = point; // value = 0.d1d2..dk × 10^n
    if neg {
        out.push(b'-');
    }
    if k <= n && n <= 21 {
        out.extend_from_slice(digits.as_bytes());
        out.extend(std::iter::repeat_n(b'0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        out.extend_from_slice(&digits.as_bytes()[..n as usize]);
        out.push(b'.');
        out.extend_from_slice(&digits.as_bytes()[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-n) as usize));
        out.extend_from_slice(digits.as_bytes());
    } else {
        let e = n - 1;
        out.push(digits.as_bytes()[0]);
        if k > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits.as_bytes()[1..]);
        }
        out.push(b'e');
        out.push(if e >= 0 { b'+' } else { b'-' });
        out.extend_from_slice(e.abs().to_string().as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(f: f64) -> String {
        let mut v = Vec::new();
        write_number(&mut v, f);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn numbers_format_like_javascript() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-42.0, "-42"),
            (0.1, "0.1"),
            (1.5, "1.5"),
            (123.456, "123.456"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123456789012345680000.0, "123456789012345680000"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (1e-7, "1e-7"),
            (9007199254740993.0, "9007199254740992"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (0.1 + 0.2, "0.30000000000000004"),
            (-1.25e-10, "-1.25e-10"),
            (f64::NAN, "null"),
            (f64::INFINITY, "null"),
        ];
        for (f, s) in cases {
            assert_eq!(num(*f), *s, "formatting {f:e}");
        }
    }

    #[test]
    fn parse_and_serialize_round_trip_in_js_key_order() {
        let src = br#"{"b":1,"a":[true,false,null,{"x":"y"}],"10":2,"2":3,"01":4,"":{}}"#;
        let v = parse(src).unwrap();
        let out = String::from_utf8(to_json(&v, false)).unwrap();
        assert_eq!(
            out,
            r#"{"2":3,"10":2,"b":1,"a":[true,false,null,{"x":"y"}],"01":4,"":{}}"#
        );
        let pretty = String::from_utf8(to_json(
            &parse(br#"{"a":{"b":[1,{}],"c":[]}}"#).unwrap(),
            true,
        ))
        .unwrap();
        assert_eq!(
            pretty,
            "{\n\t\"a\": {\n\t\t\"b\": [\n\t\t\t1,\n\t\t\t{}\n\t\t],\n\t\t\"c\": []\n\t}\n}"
        );
    }

    #[test]
    fn duplicate_keys_keep_first_position_and_last_value() {
        let v = parse(br#"{"a":1,"b":2,"a":3}"#).unwrap();
        assert_eq!(
            String::from_utf8(to_json(&v, false)).unwrap(),
            r#"{"a":3,"b":2}"#
        );
    }

    #[test]
    fn strings_escape_like_json_stringify() {
        let v = parse(br#""a\"b\\c\/d\n\u0001\u00e9\ud83d\ude00\u2028""#).unwrap();
        let out = String::from_utf8(to_json(&v, false)).unwrap();
        assert_eq!(out, "\"a\\\"b\\\\c/d\\n\\u0001é😀\u{2028}\"");
    }

    #[test]
    fn merkle_hash_tracks_content_and_order_through_cached_nodes() {
        let a = parse(br#"{"x":{"y":[1,2,{"z":"s"}]},"w":true}"#).unwrap();
        let b = parse(br#"{"x":{"y":[1,2,{"z":"s"}]},"w":true}"#).unwrap();
        assert_eq!(merkle(&a), merkle(&b));
        let reordered = parse(br#"{"w":true,"x":{"y":[1,2,{"z":"s"}]}}"#).unwrap();
        assert_ne!(merkle(&a), merkle(&reordered));
        // mutate a copy that shares nodes with `a` (caches computed above)
        let mut c = a.clone();
        let before = merkle(&c);
        if let Value::Object(m) = &mut c {
            let x = Arc::make_mut(m).get_mut("x").unwrap();
            if let Value::Object(xm) = x {
                if let Value::Array(arr) = Arc::make_mut(xm).get_mut("y").unwrap() {
                    Arc::make_mut(arr)[0] = Value::Number(9.0);
                }
            }
        }
        assert_ne!(
            merkle(&c),
            before,
            "cached hashes on the changed path were reset"
        );
        assert_eq!(merkle(&a), before, "the shared original is unchanged");
        let fresh = parse(&to_json(&c, false)).unwrap();
        assert_eq!(merkle(&fresh), merkle(&c), "cached and fresh hashes agree");
        assert_ne!(
            merkle(&parse(b"[1]").unwrap()),
            merkle(&parse(b"[\"1\"]").unwrap())
        );
    }

    #[test]
    fn lone_surrogates_are_kept_exactly() {
        let src = br#""a\ud800b\udc00\n\ud83d\ude00\udfff""#;
        let v = parse(src).unwrap();
        assert_eq!(
            String::from_utf8(to_json(&v, false)).unwrap(),
            r#""a\ud800b\udc00\n😀\udfff""#
        );
        let again = parse(&to_json(&v, false)).unwrap();
        assert!(again.eq_exact(&v));
        let Value::String(s) = &v else { panic!() };
        assert_eq!(utf16_len(s), 8);
        assert_eq!(
            utf16_units(s),
            [0x61, 0xD800, 0x62, 0xDC00, 0x0A, 0xD83D, 0xDE00, 0xDFFF]
        );
        assert_eq!(display(s), "a\u{FFFD}b\u{FFFD}\n😀\u{FFFD}");
        // as keys: two distinct keys stay two
        let o = parse(br#"{"\ud800":1,"\udc00":2,"\ufffd":3}"#).unwrap();
        assert_eq!(o.as_object().unwrap().len(), 3);
        assert_eq!(
            String::from_utf8(to_json(&o, false)).unwrap(),
            "{\"\\ud800\":1,\"\\udc00\":2,\"\u{FFFD}\":3}"
        );
    }

    #[test]
    fn the_mark_itself_round_trips_and_never_forges_a_surrogate() {
        // a literal U+FDD0 followed by U+E000 is text, not an encoded surrogate
        for src in [
            "\"\u{FDD0}\u{E000}\"",
            "\"\\ufdd0\\ue000\"",
            "\"x\u{FDD0}\"",
            "\"\u{FDD0}\u{FDD0}\\ud800\"",
        ] {
            let v = parse(src.as_bytes()).unwrap();
            let out = String::from_utf8(to_json(&v, false)).unwrap();
            let expect = src
                .replace("\\ufdd0", "\u{FDD0}")
                .replace("\\ue000", "\u{E000}");
            assert_eq!(out, expect, "{src}");
            assert!(parse(out.as_bytes()).unwrap().eq_exact(&v));
        }
        let a = parse("{\"\u{FDD0}\u{E000}\":1,\"\\ud800\":2}".as_bytes()).unwrap();
        assert_eq!(a.as_object().unwrap().len(), 2);
        // UTF-16 round trip of every kind of unit
        let units: Vec<u16> = vec![0x41, 0xD800, 0xFDD0, 0xE000, 0xD83D, 0xDE00, 0xDC00, 0xDBFF];
        let enc = encode_utf16(&units);
        assert_eq!(utf16_units(&enc), units);
        assert_eq!(utf16_len(&enc), units.len());
        assert_eq!(encode("a\u{FDD0}b"), "a\u{FDD0}\u{FDD0}b");
        assert_eq!(encode("plain"), "plain");
        assert_eq!(&*wtf8(&encode_utf16(&[0xD800])), &[0xED, 0xA0, 0x80]);
        assert_eq!(&*wtf8("\u{FDD0}\u{FDD0}"), "\u{FDD0}".as_bytes());
        // keys as the addon reads them: ASCII copied as it is, the rest after
        // an ASCII prefix encoded as from the first unit
        let utf16 = |s: &str| s.encode_utf16().collect::<Vec<u16>>();
        assert_eq!(encode_utf16(&utf16("a.b\\.c")), "a.b\\.c");
        assert_eq!(encode_utf16(&[]), "");
        assert_eq!(encode_utf16(&utf16("key.\u{0}x")), "key.\u{0}x");
        assert_eq!(encode_utf16(&utf16("ab.über.😀")), "ab.über.😀");
        assert_eq!(encode_utf16(&[0x61, 0xD800, 0x2E]), "a\u{FDD0}\u{E000}.");
        assert_eq!(encode_utf16(&[0x61, 0xDC00]), "a\u{FDD0}\u{E400}");
        assert_eq!(encode_utf16(&utf16("k\u{FDD0}")), "k\u{FDD0}\u{FDD0}");
        let long: Vec<u16> = std::iter::repeat_n(0x6B, 5000).chain([0xD800]).collect();
        assert_eq!(utf16_units(&encode_utf16(&long)), long);
    }

    #[test]
    fn invalid_utf8_in_the_store_file_decodes_as_node_does() {
        // (bytes, Node's buffer.toString('utf8') of them as code points), from
        // Node 20; the WHATWG decoder's replacement of maximal subparts
        let table: &[(&[u8], &[u32])] = &[
            (b"\xc0\x80", &[0xfffd, 0xfffd]),
            (b"\xc1\xbf", &[0xfffd, 0xfffd]),
            (b"\xc2", &[0xfffd]),
            (b"\xc2\x41", &[0xfffd, 0x41]),
            (b"\xe0\x80\x80", &[0xfffd, 0xfffd, 0xfffd]),
            (b"\xe0\xa0", &[0xfffd]),
            (b"\xe0\xa0\x41", &[0xfffd, 0x41]),
            (b"\xed\xa0\x80", &[0xfffd, 0xfffd, 0xfffd]),
            (b"\xed\xbf\xbf", &[0xfffd, 0xfffd, 0xfffd]),
            (b"\xed\x9f\xbf", &[0xd7ff]),
            (b"\xef\xbf", &[0xfffd]),
            (b"\xf0\x80\x80\x80", &[0xfffd, 0xfffd, 0xfffd, 0xfffd]),
            (b"\xf0\x90\x80", &[0xfffd]),
            (b"\xf0\x90\x80\x41", &[0xfffd, 0x41]),
            (b"\xf4\x90\x80\x80", &[0xfffd, 0xfffd, 0xfffd, 0xfffd]),
            (b"\xf5\x80\x80\x80", &[0xfffd, 0xfffd, 0xfffd, 0xfffd]),
            (b"\xf8\x88\x80\x80\x80", &[0xfffd; 5]),
            (b"\xfe", &[0xfffd]),
            (b"\xff", &[0xfffd]),
            (b"\x80", &[0xfffd]),
            (b"\xbf\x80", &[0xfffd, 0xfffd]),
            (b"\xe1\x80\xe1\x80", &[0xfffd, 0xfffd]),
            (b"\xf1\x80\x80\xe1\x80\xc2", &[0xfffd, 0xfffd, 0xfffd]),
            (
                b"a\xed\xa0\x80\xed\xb0\x80b",
                &[0x61, 0xfffd, 0xfffd, 0xfffd, 0xfffd, 0xfffd, 0xfffd, 0x62],
            ),
            (b"\xe9", &[0xfffd]),
            (b"caf\xe9", &[0x63, 0x61, 0x66, 0xfffd]),
            (b"\xf4\x8f\xbf\xbf", &[0x10ffff]),
            (b"\xf0\x9f\x98", &[0xfffd]),
        ];
        for (bytes, want) in table {
            let mut doc = b"{\"k\":\"".to_vec();
            doc.extend_from_slice(bytes);
            doc.extend_from_slice(b"\"}");
            let (v, invalid) = parse_document(&doc).unwrap();
            let got: Vec<u32> = match v.as_object().unwrap().get("k") {
                Some(Value::String(s)) => s.chars().map(|c| c as u32).collect(),
                other => panic!("{other:?}"),
            };
            assert_eq!(&got, want, "{bytes:x?}");
            let valid = std::str::from_utf8(bytes).is_ok();
            assert_eq!(invalid, !valid, "{bytes:x?}");
            assert_eq!(parse(&doc).is_err(), !valid, "parse() stays strict");
        }
        // invalid bytes outside strings are still a syntax error
        assert!(parse_document(b"{\"a\":1\xff}").is_err());
    }

    #[test]
    fn integers_parse_as_the_general_number_parser_does() {
        for text in [
            "0",
            "-0",
            "7",
            "-7",
            "10",
            "1700000000000",
            "-1700000000000",
            "999999999999999",
            "-999999999999999",
            "1000000000000000",
            "9007199254740993",
            "123456789012345678901234567890",
            "00",
        ] {
            let want = text.parse::<f64>().ok();
            match parse(text.as_bytes()) {
                Ok(Value::Number(f)) => {
                    let w = want.unwrap();
                    assert_eq!(f.to_bits(), w.to_bits(), "{text}");
                }
                Ok(other) => panic!("{text}: {other:?}"),
                Err(_) => assert_eq!(text, "00", "only a leading zero is refused"),
            }
        }
    }

    #[test]
    fn rejects_bad_json() {
        for bad in [
            &b""[..],
            b"{",
            b"{\"a\":}",
            b"[1,]",
            b"{\"a\":1,}",
            b"01",
            b"1.",
            b"nul",
            b"\"\x01\"",
            b"\0\0\0\0",
            b"{} x",
            b"\xff\xfe",
        ] {
            assert!(
                parse(bad).is_err(),
                "{:?} should not parse",
                String::from_utf8_lossy(bad)
            );
        }
        let deep = "[".repeat(MAX_DEPTH + 5);
        assert!(parse(deep.as_bytes()).is_err());
    }

    #[test]
    fn map_index_survives_inserts_and_removes() {
        let mut m = Map::new();
        for i in 0..100 {
            m.insert(Str::from(format!("k{i}")), Value::Number(i as f64));
        }
        assert_eq!(m.position("k57"), Some(57));
        let (pos, _) = m.shift_remove("k10").unwrap();
        assert_eq!(pos, 10);
        assert_eq!(m.position("k57"), Some(56));
        m.insert_at(10, Str::from("k10"), Value::Null);
        assert_eq!(m.position("k10"), Some(10));
        assert_eq!(m.position("k99"), Some(99));
        for i in 0..95 {
            m.shift_remove(&format!("k{i}"));
        }
        assert_eq!(m.len(), 5);
        assert!(m.get("k97").is_some());
    }

    /// What inserting `pairs` one by one gives (the rule the parser keeps).
    fn inserted(pairs: &[(String, f64)]) -> Map {
        let mut m = Map::new();
        for (k, v) in pairs {
            m.insert(Str::from(k.as_str()), Value::Number(*v));
        }
        m
    }

    fn object_text(pairs: &[(String, f64)]) -> String {
        let mut out = Vec::new();
        write_list(&mut out, pairs, |o, (k, v)| {
            write_string(o, k);
            o.push(b':');
            write_number(o, *v);
        });
        out[0] = b'{';
        *out.last_mut().unwrap() = b'}';
        String::from_utf8(out).unwrap()
    }

    /// Parses `pairs` as an object (at the top and nested in an array) and
    /// checks it against inserting them one by one: order, values, lookups,
    /// the index on the right side of `INDEX_MIN`, exact capacities.
    fn check_parsed_object(pairs: &[(String, f64)]) {
        let want = inserted(pairs);
        let text = object_text(pairs);
        for doc in [text.clone(), format!("[{text},{text}]")] {
            let v = parse(doc.as_bytes()).unwrap_or_else(|e| panic!("{e} in {doc}"));
            let maps: Vec<&Map> = match &v {
                Value::Object(m) => vec![m],
                Value::Array(a) => {
                    assert_eq!(a.items.capacity(), a.items.len());
                    a.iter().map(|x| x.as_object().unwrap()).collect()
                }
                _ => unreachable!(),
            };
            for m in maps {
                assert_eq!(
                    to_json(&Value::Object(Arc::new(m.clone())), false),
                    to_json(&Value::Object(Arc::new(want.clone())), false),
                    "{doc}"
                );
                assert_eq!(m.len(), want.len());
                assert_eq!(m.entries.capacity(), m.len(), "exact size: {doc}");
                assert_eq!(m.index.is_some(), m.len() > INDEX_MIN, "{doc}");
                for (i, (k, _)) in want.iter().enumerate() {
                    assert_eq!(m.position(k), Some(i), "{k} in {doc}");
                }
                assert_eq!(m.position("no such key"), None);
            }
        }
    }

    #[test]
    fn parsed_objects_around_the_index_threshold_match_one_by_one_inserts() {
        let key = |i: usize| format!("key{i}");
        for n in [
            1,
            2,
            INDEX_MIN - 1,
            INDEX_MIN,
            INDEX_MIN + 1,
            INDEX_MIN + 2,
            2 * INDEX_MIN,
            300,
        ] {
            let plain: Vec<(String, f64)> = (0..n).map(|i| (key(i), i as f64)).collect();
            check_parsed_object(&plain);
            // a repeated key: the first place keeps the last value, where the
            // repeat lands before, at and after the threshold
            for dup_at in [1, INDEX_MIN - 1, INDEX_MIN, INDEX_MIN + 1, n] {
                for of in [0, n / 2, n - 1] {
                    let mut p = plain.clone();
                    p.insert(dup_at.min(p.len()), (key(of), -1.0 - dup_at as f64));
                    check_parsed_object(&p);
                    // repeated again at the end
                    p.push((key(of), 1e9));
                    check_parsed_object(&p);
                }
            }
            // array-index keys go first, ascending, wherever they are written
            let mut mixed = plain.clone();
            for (j, idx) in [7usize, 0, 4_294_967_294, 3, 7, 12].iter().enumerate() {
                mixed.insert((j * 5).min(mixed.len()), (idx.to_string(), j as f64));
            }
            mixed.push(("4294967295".into(), 5.0)); // not an index
            mixed.push(("01".into(), 6.0)); // not an index
            mixed.push(("0".into(), 99.0)); // a repeat of an index key
            check_parsed_object(&mixed);
        }
        // every key repeated: the map is small again after the repeats go
        let mut twice: Vec<(String, f64)> = (0..INDEX_MIN).map(|i| (key(i), 1.0)).collect();
        twice.extend((0..INDEX_MIN).map(|i| (key(i), 2.0)));
        check_parsed_object(&twice);
        // keys the parser does not share (escaped, long) equal to shared ones
        let long = "x".repeat(SHARED_KEY_MAX + 10);
        let mut p: Vec<(String, f64)> = (0..INDEX_MIN + 4).map(|i| (key(i), 0.0)).collect();
        p.push((long.clone(), 1.0));
        p.push((long, 2.0));
        check_parsed_object(&p);
        let v = parse(br#"{"a":1,"\u0061":2,"b":3}"#).unwrap();
        assert_eq!(to_json(&v, false), br#"{"a":2,"b":3}"#);
        let many: String = (0..40)
            .map(|i| format!("\"k{i}\":{i},"))
            .collect::<String>();
        let v = parse(format!("{{{many}\"\\u006b3\":\"x\"}}").as_bytes()).unwrap();
        let m = v.as_object().unwrap();
        assert_eq!(m.len(), 40);
        assert_eq!(m.position("k3"), Some(3));
        assert!(matches!(m.get("k3"), Some(Value::String(s)) if &**s == "x"));
    }

    #[test]
    fn random_objects_parse_like_one_by_one_inserts() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..400 {
            let n = next(60) as usize;
            let distinct = 1 + next(70);
            let pairs: Vec<(String, f64)> = (0..n)
                .map(|i| {
                    let k = next(distinct);
                    let key = match next(4) {
                        0 => k.to_string(),
                        1 => format!("0{k}"),
                        _ => format!("k{k}"),
                    };
                    (key, i as f64)
                })
                .collect();
            check_parsed_object(&pairs);
        }
    }

    #[test]
    fn deep_nesting_parses_at_the_limit_in_constant_stack() {
        // objects and arrays alternating, MAX_DEPTH levels, each with siblings
        let mut text = String::new();
        for i in 0..MAX_DEPTH {
            if i % 2 == 0 {
                text.push_str("{\"a\":1,\"n\":");
            } else {
                text.push_str("[true,");
            }
        }
        text.push('0');
        for i in (0..MAX_DEPTH).rev() {
            text.push_str(if i % 2 == 0 { ",\"a\":2}" } else { "]" });
        }
        let v = parse(text.as_bytes()).unwrap();
        assert_eq!(depth(&v), MAX_DEPTH);
        assert_eq!(
            to_json(&v, false),
            text.replace("{\"a\":1,", "{\"a\":2,")
                .replace(",\"a\":2}", "}")
                .into_bytes()
        );
        // one more level is refused
        let over = format!("[{text}]");
        assert!(parse(over.as_bytes()).unwrap_err().too_deep);
    }

    /// A deep tree and a wide one, dropped here: past `DROP_INLINE` entries
    /// the rest is freed on the dropper thread, and all of it is freed.
    #[test]
    fn big_trees_are_freed_on_the_dropper_thread() {
        let wait = std::time::Duration::from_secs(120);
        // deep: MAX_DEPTH nested arrays, a string at the bottom
        let marker = Str::from("bottom of the deep tree");
        let watch = Arc::downgrade(&marker);
        let mut v = Value::String(marker);
        for _ in 0..MAX_DEPTH {
            v = array(vec![v, Value::Number(1.0)]);
        }
        // (other tests' batches out of the way: at most MAX_WAITING wait)
        assert!(dropper::wait_idle(wait));
        let before = dropper::last_handed_over();
        drop(v);
        let ticket = dropper::last_handed_over();
        assert!(ticket > before, "the deep tree was handed to the dropper");
        assert!(dropper::wait_freed(ticket, wait), "the dropper freed it");
        assert!(watch.upgrade().is_none(), "the whole tree is freed");
        assert!(!dropper::on_dropper());

        // wide: a parsed document of many small objects
        let doc: String = format!(
            "{{\"list\":[{}]}}",
            (0..20_000)
                .map(|i| format!("{{\"id\":{i},\"name\":\"n{i}\"}}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        let v = parse(doc.as_bytes()).unwrap();
        let watch = match &v.as_object().unwrap().get("list") {
            Some(Value::Array(a)) => Arc::downgrade(a),
            _ => unreachable!(),
        };
        assert!(dropper::wait_idle(wait));
        drop(v);
        let ticket2 = dropper::last_handed_over();
        assert!(ticket2 > ticket);
        assert!(dropper::wait_freed(ticket2, wait));
        assert!(watch.upgrade().is_none());

        // a flat map past DROP_INLINE entries: its keys and values go too
        let marker = Str::from("a key of the flat map");
        let watch = Arc::downgrade(&marker);
        let mut flat: Map = (0..2 * DROP_INLINE)
            .map(|i| (Str::from(format!("k{i}")), Value::Number(i as f64)))
            .collect();
        flat.insert(marker, Value::Null);
        assert!(dropper::wait_idle(wait));
        drop(flat);
        let ticket3 = dropper::last_handed_over();
        assert!(ticket3 > ticket2);
        assert!(dropper::wait_freed(ticket3, wait));
        assert!(watch.upgrade().is_none());
        let ticket2 = ticket3;

        // a small tree is freed where it is dropped
        let small = parse(br#"{"a":[1,{"b":[2]}],"c":{}}"#).unwrap();
        drop(small);
        assert_eq!(dropper::last_handed_over(), ticket2);
    }
}
