//! Defaults as a layer (`defaultsLayer: true`).
//!
//! electron-store 8 (conf 10.2) writes its defaults into the user's file: the
//! `defaults` option is merged under the file's keys at open, and the schema's
//! `default`s are filled in by every validation. With the layer, the file (the
//! live document, the journal, history, backups) holds **only the user's
//! values**, and what the app reads is a *view*:
//!
//! ```text
//! view = the user's document deep-merged over the `defaults` option (user
//!        wins; two objects are merged key by key, recursively; anything
//!        else — an array, a scalar, null — replaces the default whole), then
//!        the schema's defaults filled in where Ajv would put them
//! base = the view of an empty user document: the defaults alone (what a new
//!        store shows before anything is set)
//! ```
//!
//! Key order: `base`'s keys first (in their order), then the user's other
//! keys; inside a merged object, the default's keys first, then the user's
//! others. The view is what `get`, `has`, `size`, `store` show and what the
//! schema checks; writes change the user's document only.
//!
//! Reads stay O(1) in the store's size: a top-level key that has no default
//! and no schema default under it is read straight from the user's document;
//! a merged key's view is remembered per key (keyed by the identity of the
//! user's value, held weakly, so a write under it — which moves it to a new
//! allocation — is seen and nothing else is made to copy). A schema whose
//! defaults depend on conditions (`if`/`then`/`else`, `dependencies`) is
//! merged as a whole, remembered per version of the whole document.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use crate::defaults::Defaults;
use crate::doc::Document;
use crate::error::Result;
use crate::value::{Array, Map, Str, Value};

/// Where the value a key shows comes from (`inspect`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The user's document holds something there (for an object over a
    /// default object, possibly only part of it: the value is the merge).
    User,
    /// Only the defaults give a value there.
    Default,
    /// Nothing is there.
    None,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::User => "user",
            Source::Default => "default",
            Source::None => "none",
        }
    }
}

/// What `inspect(key)` tells.
#[derive(Clone, Debug)]
pub struct Inspection {
    /// What the app sees (`get(key)`).
    pub value: Option<Value>,
    /// What the app would see if the user had no value at `key`.
    pub default_value: Option<Value>,
    /// The user's own value at `key`, as stored.
    pub user_value: Option<Value>,
    pub source: Source,
}

/// A container's identity, held weakly (see the module).
enum Ident {
    Map(Weak<Map>),
    Array(Weak<Array>),
}

impl Ident {
    fn of(v: &Value) -> Option<Ident> {
        match v {
            Value::Object(m) => Some(Ident::Map(Arc::downgrade(m))),
            Value::Array(a) => Some(Ident::Array(Arc::downgrade(a))),
            _ => None,
        }
    }

    fn is(&self, v: &Value) -> bool {
        match (self, v) {
            (Ident::Map(w), Value::Object(m)) => std::ptr::eq(w.as_ptr(), Arc::as_ptr(m)),
            (Ident::Array(w), Value::Array(a)) => std::ptr::eq(w.as_ptr(), Arc::as_ptr(a)),
            _ => false,
        }
    }
}

#[derive(Default)]
struct Memo {
    /// The whole view, for the user's root it was made from.
    whole: Option<(Ident, Value)>,
    /// Per top-level key: the view of the user's value (a container).
    keys: HashMap<Str, (Ident, Value)>,
}

/// One `Store` instance's defaults layer.
pub struct Layer {
    defaults: Arc<Defaults>,
    /// The defaults alone (see the module).
    base: Arc<Map>,
    /// The schema's defaults depend on conditions: merged as a whole.
    conditional: bool,
    /// Top-level keys the schema fills defaults under, and whether a pattern
    /// or `additionalProperties` may for others (then asked per key).
    filled: std::collections::HashSet<Str>,
    filled_others: bool,
    memo: Mutex<Memo>,
}

impl std::fmt::Debug for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Layer")
            .field("base", &self.base.len())
            .field("conditional", &self.conditional)
            .finish()
    }
}

/// The user's value `user` deep-merged over the default `base` (see the module).
pub fn merge(base: &Value, user: &Value) -> Value {
    match (base, user) {
        (Value::Object(b), Value::Object(u)) if !b.is_empty() => {
            let mut out = Map::new();
            for (k, bv) in b.iter() {
                match u.get(k) {
                    Some(uv) => out.insert(k.clone(), merge(bv, uv)),
                    None => out.insert(k.clone(), bv.clone()),
                };
            }
            for (k, uv) in u.iter() {
                if !b.contains_key(k) {
                    out.insert(k.clone(), uv.clone());
                }
            }
            Value::Object(Arc::new(out))
        }
        _ => user.clone(),
    }
}

fn lock(m: &Mutex<Memo>) -> std::sync::MutexGuard<'_, Memo> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Layer {
    pub fn new(defaults: Arc<Defaults>) -> Layer {
        let top = Value::Object(Arc::new(defaults.top().clone()));
        let base = defaults.fill_document(&top).unwrap_or(top);
        let base = match base {
            Value::Object(m) => m,
            _ => Arc::new(Map::new()),
        };
        let (filled, filled_others) = defaults.filled_keys();
        Layer {
            filled,
            filled_others,
            conditional: defaults.is_conditional(),
            defaults,
            base,
            memo: Mutex::new(Memo::default()),
        }
    }

    /// The schema's defaults depend on conditions: the view is merged whole.
    pub fn is_conditional(&self) -> bool {
        self.conditional
    }

    pub fn defaults(&self) -> &Arc<Defaults> {
        &self.defaults
    }

    /// The defaults alone: what a store without user values shows.
    pub fn base(&self) -> &Map {
        &self.base
    }

    /// Whether the view of top-level key `k` can differ from the user's value
    /// there (not when the layer merges as a whole: see [`Layer::whole`]).
    fn layered(&self, k: &str) -> bool {
        self.base.contains_key(k) || self.fills_under(k)
    }

    /// `Defaults::fills_under`, precomputed for the schema's property names.
    fn fills_under(&self, k: &str) -> bool {
        self.filled.contains(k) || (self.filled_others && self.defaults.fills_under(k))
    }

    /// The view of top-level key `k` whose user value is `user` (not
    /// remembered): the merge over the default, with the schema defaults.
    fn compute_key(&self, k: &str, user: &Value) -> Value {
        // over the `defaults` option as given: the schema's defaults are
        // filled into the merge (a condition may select others than in `base`)
        let merged = match self.defaults.top().get(k) {
            Some(b) => merge(b, user),
            None => user.clone(),
        };
        if merged.is_container() && self.fills_under(k) {
            self.defaults.fill_at_key(k, &merged)
        } else {
            merged
        }
    }

    /// The view of top-level key `k`, given the user's value there (memoized
    /// by the identity of a container).
    fn key_view(&self, k: &str, user: Option<&Value>) -> Option<Value> {
        let Some(u) = user else {
            return self.base.get(k).cloned();
        };
        if !self.layered(k) || !u.is_container() {
            // nothing to merge: a scalar replaces a default whole
            return Some(u.clone());
        }
        {
            let memo = lock(&self.memo);
            if let Some((id, v)) = memo.keys.get(k) {
                if id.is(u) {
                    return Some(v.clone());
                }
            }
        }
        let v = self.compute_key(k, u);
        let mut memo = lock(&self.memo);
        if let Some(id) = Ident::of(u) {
            // (a key the user no longer has is dropped now and then)
            if memo.keys.len() > 64 && memo.keys.len() > 2 * self.base.len() + 64 {
                memo.keys.retain(|_, (id, _)| match id {
                    Ident::Map(w) => w.strong_count() > 0,
                    Ident::Array(w) => w.strong_count() > 0,
                });
            }
            memo.keys.insert(Str::from(k), (id, v.clone()));
        }
        Some(v)
    }

    /// The whole view of the user's document `root` (an object).
    pub fn view(&self, root: &Value) -> Value {
        {
            let memo = lock(&self.memo);
            if let Some((id, v)) = &memo.whole {
                if id.is(root) {
                    return v.clone();
                }
            }
        }
        let v = if self.conditional {
            self.whole(root)
        } else {
            let empty = Map::new();
            let user = root.as_object().unwrap_or(&empty);
            let mut out = Map::new();
            for (k, b) in self.base.iter() {
                let v = match user.get(k) {
                    Some(u) => self.key_view(k, Some(u)).unwrap_or_else(|| b.clone()),
                    None => b.clone(),
                };
                out.insert(k.clone(), v);
            }
            for (k, u) in user.iter() {
                if !self.base.contains_key(k) {
                    if let Some(v) = self.key_view(k, Some(u)) {
                        out.insert(k.clone(), v);
                    }
                }
            }
            Value::Object(Arc::new(out))
        };
        if let Some(id) = Ident::of(root) {
            lock(&self.memo).whole = Some((id, v.clone()));
        }
        v
    }

    /// The view merged and filled as a whole (a conditional schema).
    fn whole(&self, root: &Value) -> Value {
        let merged = merge(&Value::Object(Arc::new(self.defaults.top().clone())), root);
        self.defaults.fill_document(&merged).unwrap_or(merged)
    }

    /// The view as a document.
    pub fn view_document(&self, doc: &Document) -> Result<Document> {
        Document::new(self.view(doc.root()))
    }

    /// Runs `f` on the view of the value at `segs` (`None`: absent), the way
    /// `Document::lookup` reads (electron-store's `get`). O(1) in the size of
    /// the store (see the module).
    pub fn read_path<'s, R>(
        &self,
        user: &Document,
        segs: impl IntoIterator<Item = &'s str>,
        f: impl FnOnce(Option<&Value>) -> R,
    ) -> R {
        let mut segs = segs.into_iter();
        let Some(first) = segs.next() else {
            return f(Some(&self.view(user.root())));
        };
        if self.conditional {
            let view = Document::new(self.view(user.root())).expect("the view is an object");
            return f(view.lookup(std::iter::once(first).chain(segs)).as_deref());
        }
        if !self.layered(first) {
            return f(user.lookup(std::iter::once(first).chain(segs)).as_deref());
        }
        let Some(v) = self.key_view(first, user.map().get(first)) else {
            return f(None);
        };
        // the rest of the path inside the key's view, as `Document::lookup` walks
        let mut node = std::borrow::Cow::Borrowed(&v);
        for seg in segs {
            node = match node {
                std::borrow::Cow::Borrowed(n) => match crate::doc::member(n, seg) {
                    Some(c) => c,
                    None => return f(None),
                },
                std::borrow::Cow::Owned(n) => match crate::doc::member(&n, seg) {
                    Some(c) => std::borrow::Cow::Owned(c.into_owned()),
                    None => return f(None),
                },
            };
        }
        f(Some(&node))
    }

    /// electron-store's `has` on the view.
    pub fn has(&self, user: &Document, segs: &[String]) -> bool {
        if segs.is_empty() {
            return true;
        }
        if !self.conditional && !self.layered(&segs[0]) {
            return user.has(segs);
        }
        let view = match self.conditional {
            true => self.view(user.root()),
            false => {
                let mut m = Map::new();
                if let Some(v) = self.key_view(&segs[0], user.map().get(&segs[0])) {
                    m.insert(Str::from(segs[0].as_str()), v);
                }
                Value::Object(Arc::new(m))
            }
        };
        Document::new(view).is_ok_and(|d| d.has(segs))
    }

    /// Number of top-level keys of the view.
    pub fn size(&self, user: &Document) -> usize {
        if self.conditional {
            return self.view(user.root()).as_object().map_or(0, Map::len);
        }
        let map = user.map();
        map.len() + self.base.keys().filter(|k| !map.contains_key(k)).count()
    }

    /// What the key at `segs` shows and where it comes from.
    pub fn inspect(&self, user: &Document, segs: &[String]) -> Inspection {
        let value = self.read_path(user, segs.iter().map(String::as_str), |v| v.cloned());
        let user_value = user.get(segs).cloned();
        // the view with the user's value at `segs` taken away
        let default_value = match &user_value {
            None => value.clone(),
            Some(_) => {
                let parent_is_array = segs.len() > 1
                    && matches!(user.get(&segs[..segs.len() - 1]), Some(Value::Array(_)));
                if parent_is_array {
                    // an array replaces its default whole: what the defaults
                    // would put in this element if it were missing
                    self.defaults.default_at(&self.view(user.root()), segs)
                } else {
                    let mut without = user.clone();
                    let change = without.plan_delete(segs);
                    match without.apply(&change.patch) {
                        Ok(()) => {
                            let without = Document::new(without.root().clone())
                                .expect("the document is an object");
                            self.read_uncached(&without, segs)
                        }
                        Err(_) => None,
                    }
                }
            }
        };
        let source = if user_value.is_some() {
            Source::User
        } else if value.is_some() {
            Source::Default
        } else {
            Source::None
        };
        Inspection {
            value,
            default_value,
            user_value,
            source,
        }
    }

    /// `read_path` without touching the memo (for a document that is not the store's).
    fn read_uncached(&self, user: &Document, segs: &[String]) -> Option<Value> {
        let view = if self.conditional {
            self.whole(user.root())
        } else {
            let k = &segs[0];
            let mut m = Map::new();
            let v = match user.map().get(k) {
                Some(u) => Some(self.compute_key(k, u)),
                None => self.base.get(k).cloned(),
            };
            if let Some(v) = v {
                m.insert(Str::from(k.as_str()), v);
            }
            Value::Object(Arc::new(m))
        };
        Document::new(view)
            .ok()?
            .lookup(segs.iter().map(String::as_str))
            .map(|v| v.into_owned())
    }

    /// The view of a document that is not the store's (not remembered):
    /// `validateData(data)` checks `data` as the user's layer.
    pub fn view_of(&self, root: &Value) -> Value {
        if self.conditional {
            return self.whole(root);
        }
        let empty = Map::new();
        let user = root.as_object().unwrap_or(&empty);
        let mut out = Map::new();
        for (k, b) in self.base.iter() {
            out.insert(
                k.clone(),
                match user.get(k) {
                    Some(u) => self.compute_key(k, u),
                    None => b.clone(),
                },
            );
        }
        for (k, u) in user.iter() {
            if !self.base.contains_key(k) {
                out.insert(k.clone(), self.compute_key(k, u));
            }
        }
        Value::Object(Arc::new(out))
    }
}
