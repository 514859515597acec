//! The document and its operations.
//!
//! Every mutation is first computed read-only as an RFC 6902 JSON Patch (with its
//! exact inverse), then applied through the one `apply` function. The same patches
//! go to the journal, so replaying the journal and rolling back use the code that
//! made the change in the first place.
//!
//! Semantics follow electron-store 8 (conf 10 + dot-prop 6): `set` creates or
//! replaces intermediate objects, array elements are addressed by index, deleting
//! an array element leaves `null` (a hole, as `JSON.stringify` writes it).

use std::borrow::Cow;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::path::{from_pointer, to_pointer};
use crate::value::{
    encode_utf16, is_array_index, utf16_len, utf16_units, write_json, write_string, Map, Str, Value,
};

/// One RFC 6902 operation. `pos` (an extra member, ignored by other RFC 6902
/// tools) puts a re-added object key back at its original position so that an
/// undo restores the exact bytes, key order included.
#[derive(Clone, Debug)]
pub enum PatchOp {
    Add {
        path: Vec<String>,
        value: Value,
        pos: Option<usize>,
    },
    Remove {
        path: Vec<String>,
    },
    Replace {
        path: Vec<String>,
        value: Value,
    },
}

impl PatchOp {
    pub fn path(&self) -> &[String] {
        match self {
            PatchOp::Add { path, .. }
            | PatchOp::Remove { path }
            | PatchOp::Replace { path, .. } => path,
        }
    }

    /// Appends this operation as a JSON object.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let (op, value) = match self {
            PatchOp::Add { value, .. } => ("add", Some(value)),
            PatchOp::Remove { .. } => ("remove", None),
            PatchOp::Replace { value, .. } => ("replace", Some(value)),
        };
        out.extend_from_slice(b"{\"op\":\"");
        out.extend_from_slice(op.as_bytes());
        out.extend_from_slice(b"\",\"path\":");
        write_string(out, &to_pointer(self.path()));
        if let Some(v) = value {
            out.extend_from_slice(b",\"value\":");
            write_json(out, v, false);
        }
        if let PatchOp::Add { pos: Some(p), .. } = self {
            out.extend_from_slice(b",\"pos\":");
            out.extend_from_slice(p.to_string().as_bytes());
        }
        out.push(b'}');
    }

    /// Reads an operation back from its JSON form.
    pub fn from_value(v: &Value) -> Result<PatchOp> {
        let bad = |m: &str| Error::BadPatch(m.to_string());
        let m = v
            .as_object()
            .ok_or_else(|| bad("operation is not an object"))?;
        let path = match m.get("path") {
            Some(Value::String(s)) => from_pointer(s)?,
            _ => return Err(bad("operation has no string `path`")),
        };
        let value = || {
            m.get("value")
                .cloned()
                .ok_or_else(|| bad("operation has no `value`"))
        };
        match m.get("op") {
            Some(Value::String(s)) if &**s == "add" => Ok(PatchOp::Add {
                path,
                value: value()?,
                pos: match m.get("pos") {
                    Some(Value::Number(n)) if *n >= 0.0 => Some(*n as usize),
                    _ => None,
                },
            }),
            Some(Value::String(s)) if &**s == "remove" => Ok(PatchOp::Remove { path }),
            Some(Value::String(s)) if &**s == "replace" => Ok(PatchOp::Replace {
                path,
                value: value()?,
            }),
            _ => Err(bad("unknown `op`")),
        }
    }
}

/// A change: the forward patch and the patch that undoes it.
#[derive(Clone, Debug, Default)]
pub struct Change {
    pub patch: Vec<PatchOp>,
    pub inverse: Vec<PatchOp>,
}

impl Change {
    /// Appends one operation and the one that undoes it.
    pub fn push(&mut self, forward: PatchOp, inverse: PatchOp) {
        self.patch.push(forward);
        self.inverse.insert(0, inverse);
    }

    pub fn is_empty(&self) -> bool {
        self.patch.is_empty()
    }

    /// Appends `other` (applied after `self`).
    pub fn extend(&mut self, other: Change) {
        self.patch.extend(other.patch);
        let mut inv = other.inverse;
        inv.append(&mut self.inverse);
        self.inverse = inv;
    }
}

/// `value[seg]` for a JSON value, own data only (see [`Document::lookup`]).
pub(crate) fn member<'a>(v: &'a Value, seg: &str) -> Option<Cow<'a, Value>> {
    match v {
        Value::Object(m) => m.get(seg).map(Cow::Borrowed),
        Value::Array(a) => match is_array_index(seg) {
            Some(i) => a.get(i as usize).map(Cow::Borrowed),
            None if seg == "length" => Some(Cow::Owned(Value::Number(a.len() as f64))),
            None => None,
        },
        Value::String(s) => {
            if seg == "length" {
                return Some(Cow::Owned(Value::Number(utf16_len(s) as f64)));
            }
            let i = is_array_index(seg)? as usize;
            let unit = if s.is_ascii() {
                s.get(i..i + 1).map(Str::from)?
            } else {
                let u = *utf16_units(s).get(i)?;
                Str::from(encode_utf16(&[u]))
            };
            Some(Cow::Owned(Value::String(unit)))
        }
        _ => None,
    }
}

/// Builds `{a: {b: value}}` for the remaining segments `[a, b]`.
fn nest(rest: &[String], value: Value) -> Value {
    rest.iter().rev().fold(value, |acc, seg| {
        let mut m = Map::new();
        m.insert(Str::from(seg.as_str()), acc);
        Value::Object(Arc::new(m))
    })
}

/// The store's document: always a JSON object at the top.
#[derive(Clone, Debug)]
pub struct Document {
    root: Value,
}

impl Default for Document {
    fn default() -> Self {
        Document {
            root: Value::object(),
        }
    }
}

impl Document {
    /// Wraps a value; it must be an object.
    pub fn new(root: Value) -> Result<Document> {
        if root.as_object().is_none() {
            return Err(Error::InvalidArgument(
                "The store's top level must be an object".into(),
            ));
        }
        Ok(Document { root })
    }

    pub fn root(&self) -> &Value {
        &self.root
    }

    pub fn map(&self) -> &Map {
        self.root.as_object().expect("root is an object")
    }

    /// dot-prop `get`: the value at the path, if every step exists.
    pub fn get(&self, segs: &[String]) -> Option<&Value> {
        self.get_iter(segs.iter().map(String::as_str))
    }

    /// `get` over borrowed segments (no allocation).
    pub fn get_iter<'s>(&self, segs: impl IntoIterator<Item = &'s str>) -> Option<&Value> {
        let mut node = &self.root;
        for seg in segs {
            node = match node {
                Value::Object(m) => m.get(seg)?,
                Value::Array(a) => a.get(is_array_index(seg)? as usize)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// electron-store's `get` (dot-prop 6: `object = object[segment]` at each
    /// step): an object's own keys, an array's indices and its `length`, a
    /// string's indices (one UTF-16 code unit each) and its `length`.
    /// Inherited members (`toString`, `map`, `toFixed`…) read as absent, where
    /// conf returns the prototype's function.
    pub fn lookup<'s>(&self, segs: impl IntoIterator<Item = &'s str>) -> Option<Cow<'_, Value>> {
        let mut node = Cow::Borrowed(&self.root);
        for seg in segs {
            node = match node {
                Cow::Borrowed(v) => member(v, seg)?,
                Cow::Owned(v) => Cow::Owned(member(&v, seg)?.into_owned()),
            };
        }
        Some(node)
    }

    /// electron-store's `has` (dot-prop 6: `segment in object` while the value
    /// is an object or an array): an array has its `length`, a string has
    /// nothing (it is not an object). Inherited members are not had (conf:
    /// `has('a.toString')` is true).
    pub fn has(&self, segs: &[String]) -> bool {
        let mut node = &self.root;
        for (i, seg) in segs.iter().enumerate() {
            node = match node {
                Value::Object(m) => match m.get(seg) {
                    Some(c) => c,
                    None => return false,
                },
                Value::Array(a) => match is_array_index(seg).and_then(|n| a.get(n as usize)) {
                    Some(c) => c,
                    // the length is a number: nothing is in it
                    None => return seg == "length" && i + 1 == segs.len(),
                },
                _ => return false,
            };
        }
        true
    }

    /// The first step of `segs` that names an array's `length` (where
    /// electron-store's `set` throws `RangeError: Invalid array length`,
    /// and its `delete` of it a `TypeError`), walking the existing values as
    /// dot-prop's `set` does.
    pub fn array_length_step(&self, segs: &[String]) -> Option<usize> {
        let mut node = &self.root;
        for (i, seg) in segs.iter().enumerate() {
            node = match node {
                Value::Object(m) => m.get(seg)?,
                Value::Array(a) => {
                    if seg == "length" {
                        return Some(i);
                    }
                    a.get(is_array_index(seg)? as usize)?
                }
                _ => return None,
            };
        }
        None
    }

    /// Computes the change `set(path, value)` would make (dot-prop `set`).
    pub fn plan_set(&self, segs: &[String], value: Value) -> Change {
        let mut change = Change::default();
        let mut node = &self.root;
        for (i, seg) in segs.iter().enumerate() {
            let last = i + 1 == segs.len();
            let here = &segs[..=i];
            match node {
                Value::Object(m) => {
                    let child = m.get(seg);
                    if !last {
                        if let Some(c) = child.filter(|c| c.is_container()) {
                            node = c;
                            continue;
                        }
                    }
                    let new = if last {
                        value
                    } else {
                        nest(&segs[i + 1..], value)
                    };
                    match child {
                        Some(old) if old.eq_exact(&new) => {}
                        Some(old) => change.push(
                            PatchOp::Replace {
                                path: here.to_vec(),
                                value: new,
                            },
                            PatchOp::Replace {
                                path: here.to_vec(),
                                value: old.clone(),
                            },
                        ),
                        None => change.push(
                            PatchOp::Add {
                                path: here.to_vec(),
                                value: new,
                                pos: None,
                            },
                            PatchOp::Remove {
                                path: here.to_vec(),
                            },
                        ),
                    }
                    return change;
                }
                Value::Array(a) => {
                    // A non-index property on an array is invisible to JSON: no change.
                    let Some(idx) = is_array_index(seg).map(|n| n as usize) else {
                        return change;
                    };
                    let child = a.get(idx);
                    if !last {
                        if let Some(c) = child.filter(|c| c.is_container()) {
                            node = c;
                            continue;
                        }
                    }
                    let new = if last {
                        value
                    } else {
                        nest(&segs[i + 1..], value)
                    };
                    match child {
                        Some(old) if old.eq_exact(&new) => {}
                        Some(old) => change.push(
                            PatchOp::Replace {
                                path: here.to_vec(),
                                value: new,
                            },
                            PatchOp::Replace {
                                path: here.to_vec(),
                                value: old.clone(),
                            },
                        ),
                        None if idx == a.len() => change.push(
                            PatchOp::Add {
                                path: here.to_vec(),
                                value: new,
                                pos: None,
                            },
                            PatchOp::Remove {
                                path: here.to_vec(),
                            },
                        ),
                        None => {
                            // Writing past the end leaves holes, which JSON writes as null.
                            let mut grown: Vec<Value> = a.to_vec();
                            grown.resize(idx, Value::Null);
                            grown.push(new);
                            change.push(
                                PatchOp::Replace {
                                    path: segs[..i].to_vec(),
                                    value: crate::value::array(grown),
                                },
                                PatchOp::Replace {
                                    path: segs[..i].to_vec(),
                                    value: node.clone(),
                                },
                            );
                        }
                    }
                    return change;
                }
                _ => unreachable!("only containers are descended into"),
            }
        }
        // empty path: replace the whole document (only objects are accepted)
        if value.as_object().is_some() && !self.root.eq_exact(&value) {
            change.push(
                PatchOp::Replace {
                    path: vec![],
                    value,
                },
                PatchOp::Replace {
                    path: vec![],
                    value: self.root.clone(),
                },
            );
        }
        change
    }

    /// Computes the change `delete(path)` would make (dot-prop `delete`).
    pub fn plan_delete(&self, segs: &[String]) -> Change {
        let mut change = Change::default();
        let Some((last, parents)) = segs.split_last() else {
            return change;
        };
        let Some(parent) = self.get(parents) else {
            return change;
        };
        match parent {
            Value::Object(m) => {
                if let Some(pos) = m.position(last) {
                    let old = m.get(last).cloned().unwrap_or_default();
                    change.push(
                        PatchOp::Remove {
                            path: segs.to_vec(),
                        },
                        PatchOp::Add {
                            path: segs.to_vec(),
                            value: old,
                            pos: Some(pos),
                        },
                    );
                }
            }
            Value::Array(a) => {
                if let Some(old) = is_array_index(last).and_then(|i| a.get(i as usize)) {
                    if !matches!(old, Value::Null) {
                        change.push(
                            PatchOp::Replace {
                                path: segs.to_vec(),
                                value: Value::Null,
                            },
                            PatchOp::Replace {
                                path: segs.to_vec(),
                                value: old.clone(),
                            },
                        );
                    }
                }
            }
            _ => {}
        }
        change
    }

    /// Computes the change of replacing the whole document.
    ///
    /// The patch is a minimal diff (only what differs, at the deepest level where
    /// key order allows it), so replacing a large document that changed in one
    /// place records one small operation, not two copies of the document.
    pub fn plan_replace(&self, new_root: Value) -> Change {
        if new_root.as_object().is_none() {
            return Change::default();
        }
        let mut change = Change::default();
        diff(&mut Vec::new(), &self.root, &new_root, &mut change);
        change
    }

    /// Applies a patch, all or nothing: on error the document is unchanged.
    pub fn apply(&mut self, patch: &[PatchOp]) -> Result<()> {
        if let [op] = patch {
            // One operation checks everything before it changes anything, and
            // not holding a second reference to the root lets `make_mut` change
            // the nodes on the path in place instead of copying them.
            if op.path().is_empty() && !matches!(op, PatchOp::Remove { .. }) {
                if let PatchOp::Add { value, .. } | PatchOp::Replace { value, .. } = op {
                    if value.as_object().is_none() {
                        return Err(Error::BadPatch("the document must stay an object".into()));
                    }
                }
            }
            return apply_op(&mut self.root, op);
        }
        let backup = self.root.clone(); // O(1): Arc
        for op in patch {
            if let Err(e) = apply_op(&mut self.root, op) {
                self.root = backup;
                return Err(e);
            }
        }
        if self.root.as_object().is_none() {
            self.root = backup;
            return Err(Error::BadPatch("the document must stay an object".into()));
        }
        Ok(())
    }
}

/// Appends to `change` the operations that turn `old` into `new` at `path`:
/// per key and per element where the result keeps `new`'s exact key order,
/// else one `replace` of the whole value. The containers being compared are
/// on a heap stack, so any nesting runs in constant native stack.
fn diff(path: &mut Vec<String>, old: &Value, new: &Value, change: &mut Change) {
    // Containers whose children are being compared, with the next child's
    // position in `new`. Every open container but the first has its own
    // segment at the end of `path`.
    let mut open: Vec<Walk<'_>> = Vec::new();
    if let Some(w) = diff_here(path, old, new, change) {
        open.push(w);
    }
    while let Some(top) = open.last_mut() {
        let next = match top {
            Walk::Object { old, new, next } => new.get_index(*next).map(|(k, nv)| {
                *next += 1;
                (k.to_string(), old.get(k), nv)
            }),
            Walk::Array { old, new, next } => new.get(*next).map(|nv| {
                let i = *next;
                *next += 1;
                (i.to_string(), old.get(i), nv)
            }),
        };
        match next {
            Some((seg, Some(ov), nv)) => {
                path.push(seg);
                match diff_here(path, ov, nv, change) {
                    Some(w) => open.push(w),
                    None => {
                        path.pop();
                    }
                }
            }
            Some((seg, None, nv)) => {
                path.push(seg);
                change.push(
                    PatchOp::Add {
                        path: path.clone(),
                        value: nv.clone(),
                        pos: None,
                    },
                    PatchOp::Remove { path: path.clone() },
                );
                path.pop();
            }
            None => {
                open.pop();
                if !open.is_empty() {
                    path.pop();
                }
            }
        }
    }
}

/// Two containers whose children `diff` compares one by one.
enum Walk<'a> {
    Object {
        old: &'a Map,
        new: &'a Map,
        next: usize,
    },
    Array {
        old: &'a [Value],
        new: &'a [Value],
        next: usize,
    },
}

/// One step of `diff` at `path`: nothing when equal; for two objects whose key
/// order allows per-key operations, the removals, then their children to
/// compare; for two arrays of one length, their elements to compare; else a
/// `replace` of the whole value.
fn diff_here<'a>(
    path: &mut Vec<String>,
    old: &'a Value,
    new: &'a Value,
    change: &mut Change,
) -> Option<Walk<'a>> {
    // (not a whole `eq_exact` here: at every level of a deep value that would
    // walk the rest of it again; equal children are found equal below)
    let same = match (old, new) {
        (Value::Object(o), Value::Object(n)) => Arc::ptr_eq(o, n),
        (Value::Array(o), Value::Array(n)) => Arc::ptr_eq(o, n),
        (Value::Object(_) | Value::Array(_), _) | (_, Value::Object(_) | Value::Array(_)) => false,
        (o, n) => o.eq_exact(n),
    };
    if same {
        return None;
    }
    let replace_whole = |path: &[String], change: &mut Change| {
        change.push(
            PatchOp::Replace {
                path: path.to_vec(),
                value: new.clone(),
            },
            PatchOp::Replace {
                path: path.to_vec(),
                value: old.clone(),
            },
        )
    };
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            // keys kept must stay in the same relative order, and added keys must
            // come after them (adds append), for per-key operations to reproduce `new`
            let kept: Vec<&Str> = n.keys().filter(|k| o.contains_key(k)).collect();
            let old_kept: Vec<&Str> = o.keys().filter(|k| n.contains_key(k)).collect();
            let first_added = n.keys().position(|k| !o.contains_key(k)).unwrap_or(n.len());
            let adds_at_end = n.keys().skip(first_added).all(|k| !o.contains_key(k));
            let index_keys_ok = n
                .keys()
                .all(|k| is_array_index(k).is_none() || o.contains_key(k));
            if kept != old_kept || !adds_at_end || !index_keys_ok {
                replace_whole(path, change);
                return None;
            }
            // removals last key first, so each recorded position holds when the
            // inverse re-adds them in the opposite order
            let removed: Vec<(&Str, &Value)> =
                o.iter().filter(|(k, _)| !n.contains_key(k)).collect();
            for (k, ov) in removed.into_iter().rev() {
                path.push(k.to_string());
                change.push(
                    PatchOp::Remove { path: path.clone() },
                    PatchOp::Add {
                        path: path.clone(),
                        value: ov.clone(),
                        pos: o.position(k),
                    },
                );
                path.pop();
            }
            Some(Walk::Object {
                old: o,
                new: n,
                next: 0,
            })
        }
        (Value::Array(o), Value::Array(n)) if o.len() == n.len() => Some(Walk::Array {
            old: o,
            new: n,
            next: 0,
        }),
        _ => {
            replace_whole(path, change);
            None
        }
    }
}

/// Levels below which [`share`] compares whole subtrees instead of walking
/// into them (it recurses once per level; below this it does not).
const SHARE_DEPTH: usize = 48;

/// Makes `new` share with `old` every subtree the two hold equal (exactly, key
/// order included): `new` keeps its content, but equal containers and strings
/// become `old`'s, so comparing or diffing the two afterwards skips them by
/// pointer (`Arc::ptr_eq`), their cached Merkle hashes are reused, and memory
/// holds them once. Proportional to `new`'s size: meant for a worker thread
/// (a restored backup against the current state). Returns whether `new` is
/// now `old` entirely.
pub fn share(new: &mut Value, old: &Value) -> bool {
    share_at(new, old, SHARE_DEPTH)
}

fn share_at(new: &mut Value, old: &Value, depth: usize) -> bool {
    let same = match (&mut *new, old) {
        (Value::Object(n), Value::Object(o)) if !Arc::ptr_eq(n, o) => {
            if depth == 0 {
                // (deep enough: one iterative comparison of the rest)
                Value::Object(n.clone()).eq_exact(old)
            } else {
                let keys: Vec<Str> = n.keys().cloned().collect();
                let mut all = keys.len() == o.len();
                let m = Arc::make_mut(n);
                for (i, k) in keys.iter().enumerate() {
                    let child = m.get_mut(k).expect("a key just listed");
                    match o.get(k) {
                        Some(oc) => {
                            // (equal children in another order are shared,
                            // the object itself is not)
                            all &= share_at(child, oc, depth - 1)
                                && o.get_index(i).is_some_and(|(ok, _)| ok == k);
                        }
                        None => all = false,
                    }
                }
                all
            }
        }
        (Value::Array(n), Value::Array(o)) if !Arc::ptr_eq(n, o) => {
            if depth == 0 {
                Value::Array(n.clone()).eq_exact(old)
            } else {
                let mut all = n.len() == o.len();
                let items: &mut Vec<Value> = &mut *Arc::make_mut(n);
                for (child, oc) in items.iter_mut().zip(o.iter()) {
                    all &= share_at(child, oc, depth - 1);
                }
                all
            }
        }
        (Value::Object(_), Value::Object(_)) | (Value::Array(_), Value::Array(_)) => true,
        (n, o) => n.eq_exact(o),
    };
    if same {
        *new = old.clone();
    }
    same
}

fn navigate_mut<'a>(mut cur: &'a mut Value, segs: &[String]) -> Result<&'a mut Value> {
    for seg in segs {
        cur = match cur {
            Value::Object(m) => Arc::make_mut(m)
                .get_mut(seg)
                .ok_or_else(|| Error::BadPatch(format!("missing key {seg:?}")))?,
            Value::Array(a) => {
                let idx = is_array_index(seg)
                    .ok_or_else(|| Error::BadPatch(format!("bad array index {seg:?}")))?;
                Arc::make_mut(a)
                    .get_mut(idx as usize)
                    .ok_or_else(|| Error::BadPatch(format!("array index {seg} out of range")))?
            }
            _ => {
                return Err(Error::BadPatch(format!(
                    "{seg:?} is not inside a container"
                )))
            }
        };
    }
    Ok(cur)
}

fn apply_op(root: &mut Value, op: &PatchOp) -> Result<()> {
    let path = op.path();
    let Some((key, parents)) = path.split_last() else {
        match op {
            PatchOp::Add { value, .. } | PatchOp::Replace { value, .. } => {
                *root = value.clone();
                return Ok(());
            }
            PatchOp::Remove { .. } => {
                return Err(Error::BadPatch("cannot remove the document root".into()))
            }
        }
    };
    let parent = navigate_mut(root, parents)?;
    match parent {
        Value::Object(m) => {
            let m = Arc::make_mut(m);
            match op {
                PatchOp::Add { value, pos, .. } => {
                    match pos {
                        Some(p) => m.insert_at(*p, Str::from(key.as_str()), value.clone()),
                        None => m.insert(Str::from(key.as_str()), value.clone()),
                    };
                }
                PatchOp::Replace { value, .. } => {
                    let slot = m.get_mut(key).ok_or_else(|| {
                        Error::BadPatch(format!("replace of missing key {key:?}"))
                    })?;
                    *slot = value.clone();
                }
                PatchOp::Remove { .. } => {
                    m.shift_remove(key)
                        .ok_or_else(|| Error::BadPatch(format!("remove of missing key {key:?}")))?;
                }
            }
        }
        Value::Array(a) => {
            let a = Arc::make_mut(a);
            let idx = if key == "-" {
                a.len()
            } else {
                is_array_index(key)
                    .ok_or_else(|| Error::BadPatch(format!("bad array index {key:?}")))?
                    as usize
            };
            match op {
                PatchOp::Add { value, .. } if idx <= a.len() => a.insert(idx, value.clone()),
                PatchOp::Replace { value, .. } if idx < a.len() => a[idx] = value.clone(),
                PatchOp::Remove { .. } if idx < a.len() => {
                    a.remove(idx);
                }
                _ => return Err(Error::BadPatch(format!("array index {key} out of range"))),
            }
        }
        _ => {
            return Err(Error::BadPatch(
                "patch target's parent is not a container".into(),
            ))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::segments;
    use crate::value::{parse, to_json};

    fn doc(s: &str) -> Document {
        Document::new(parse(s.as_bytes()).unwrap()).unwrap()
    }
    fn text(d: &Document) -> String {
        String::from_utf8(to_json(d.root(), false)).unwrap()
    }
    fn v(s: &str) -> Value {
        parse(s.as_bytes()).unwrap()
    }
    fn set(d: &mut Document, k: &str, val: &str) -> Change {
        let c = d.plan_set(&segments(k, true).unwrap(), v(val));
        d.apply(&c.patch).unwrap();
        c
    }

    #[test]
    fn lookup_and_has_follow_dot_prop_on_arrays_and_strings() {
        let d = doc(r#"{"list":[1,{"x":2}],"name":"a\ud83d\ude00\ud800","n":5,"o":{"length":7}}"#);
        let get = |k: &str| {
            d.lookup(segments(k, true).unwrap().iter().map(String::as_str))
                .map(|v| String::from_utf8(to_json(&v, false)).unwrap())
        };
        let has = |k: &str| d.has(&segments(k, true).unwrap());
        assert_eq!(get("list.length").as_deref(), Some("2"));
        assert_eq!(get("list.1.x").as_deref(), Some("2"));
        assert_eq!(get("name.length").as_deref(), Some("4"), "UTF-16 units");
        assert_eq!(get("name.0").as_deref(), Some(r#""a""#));
        assert_eq!(get("name.1").as_deref(), Some(r#""\ud83d""#), "half a pair");
        assert_eq!(get("name.3").as_deref(), Some(r#""\ud800""#));
        assert_eq!(get("name.3.length").as_deref(), Some("1"));
        assert_eq!(get("name.4"), None);
        assert_eq!(get("name.01"), None);
        assert_eq!(get("o.length").as_deref(), Some("7"));
        for absent in [
            "list.2",
            "list.length.x",
            "list.map",
            "n.toFixed",
            "n.length",
            "o.toString",
        ] {
            assert_eq!(get(absent), None, "{absent}");
        }
        assert!(has("list.length"));
        assert!(has("list.0"));
        assert!(!has("list.length.x"));
        assert!(!has("list.2"));
        assert!(has("name"));
        assert!(
            !has("name.length"),
            "a string is not an object for dot-prop's has"
        );
        assert!(!has("name.0"));
        assert!(has("o.length"));
        assert_eq!(
            d.array_length_step(&segments("list.length", true).unwrap()),
            Some(1)
        );
        assert_eq!(
            d.array_length_step(&segments("list.1.length", true).unwrap()),
            None
        );
        assert_eq!(
            d.array_length_step(&segments("o.length", true).unwrap()),
            None
        );
        assert_eq!(
            d.array_length_step(&segments("name.length", true).unwrap()),
            None
        );
    }

    #[test]
    fn set_follows_dot_prop() {
        let mut d = doc(r#"{"a":1}"#);
        set(&mut d, "b.c.d", "2");
        assert_eq!(text(&d), r#"{"a":1,"b":{"c":{"d":2}}}"#);
        set(&mut d, "a.x", "3"); // a primitive intermediate is replaced by an object
        assert_eq!(text(&d), r#"{"a":{"x":3},"b":{"c":{"d":2}}}"#);
        set(&mut d, "arr", "[1]");
        set(&mut d, "arr.3", "4");
        assert_eq!(
            d.get(&["arr".into()])
                .map(|x| String::from_utf8(to_json(x, false)).unwrap())
                .unwrap(),
            "[1,null,null,4]"
        );
        set(&mut d, "arr.4", "5");
        set(&mut d, "arr.0.z", "true");
        let c = set(&mut d, "arr.name", "1");
        assert!(
            c.is_empty(),
            "non-index keys on arrays are invisible to JSON"
        );
        assert_eq!(
            String::from_utf8(to_json(d.get(&["arr".into()]).unwrap(), false)).unwrap(),
            r#"[{"z":true},null,null,4,5]"#
        );
        assert!(
            set(&mut d, "a.x", "3").is_empty(),
            "same value is no change"
        );
    }

    #[test]
    fn inverse_restores_exact_bytes() {
        let start = r#"{"k1":1,"k2":{"n":[1,2,{"x":null}]},"k3":"s","5":0}"#;
        let mut d = doc(start);
        let mut changes = vec![];
        changes.push(set(&mut d, "k2.n.2.x", r#"{"deep":[1]}"#));
        changes.push(set(&mut d, "k1", "\"replaced\""));
        let del = d.plan_delete(&["k1".into()]);
        d.apply(&del.patch).unwrap();
        changes.push(del);
        let del = d.plan_delete(&["k2".into(), "n".into(), "0".into()]);
        d.apply(&del.patch).unwrap();
        assert_eq!(
            text(&d),
            r#"{"5":0,"k2":{"n":[null,2,{"x":{"deep":[1]}}]},"k3":"s"}"#
        );
        changes.push(del);
        changes.push(set(&mut d, "new.path", "1"));
        let rep = d.plan_replace(v(r#"{"z":1}"#));
        d.apply(&rep.patch).unwrap();
        changes.push(rep);
        for c in changes.iter().rev() {
            d.apply(&c.inverse).unwrap();
        }
        assert_eq!(text(&d), text(&doc(start)));
        // order of non-index keys restored exactly
        assert_eq!(
            d.map().keys().map(|k| k.to_string()).collect::<Vec<_>>(),
            ["5", "k1", "k2", "k3"]
        );
    }

    #[test]
    fn patches_round_trip_through_json() {
        let mut d = doc(r#"{"a/b":{"~":1}}"#);
        let c = set(&mut d, "a/b.~", "[1,{\"q\":2}]");
        let mut out = Vec::new();
        for op in c.patch.iter().chain(c.inverse.iter()) {
            out.clear();
            op.write_json(&mut out);
            let back = PatchOp::from_value(&parse(&out).unwrap()).unwrap();
            let mut out2 = Vec::new();
            back.write_json(&mut out2);
            assert_eq!(out, out2);
        }
        assert!(String::from_utf8(out).unwrap().contains("\"/a~1b/~0\""));
    }

    #[test]
    fn failed_patch_leaves_document_unchanged() {
        let mut d = doc(r#"{"a":1}"#);
        let bad = vec![
            PatchOp::Replace {
                path: vec!["a".into()],
                value: Value::Number(2.0),
            },
            PatchOp::Remove {
                path: vec!["missing".into()],
            },
        ];
        assert!(d.apply(&bad).is_err());
        assert_eq!(text(&d), r#"{"a":1}"#);
    }

    #[test]
    fn snapshot_is_isolated_from_later_changes() {
        let mut d = doc(r#"{"a":{"b":[1,2]},"c":1}"#);
        let snap = d.root().clone();
        set(&mut d, "a.b.0", "9");
        assert_eq!(
            String::from_utf8(to_json(&snap, false)).unwrap(),
            r#"{"a":{"b":[1,2]},"c":1}"#
        );
        assert_eq!(text(&d), r#"{"a":{"b":[9,2]},"c":1}"#);
    }
}

#[cfg(test)]
pub(crate) mod proptests {
    use super::*;
    use crate::value::{parse, to_json};
    use proptest::prelude::*;

    pub(crate) fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("a".to_string()),
            Just("b.c".to_string()),
            Just("x/y".to_string()),
            Just("~0".to_string()),
            Just("[1]".to_string()),
            Just("0".to_string()),
            Just("12".to_string()),
            Just("é☃".to_string()),
            Just("".to_string()),
        ]
    }

    pub(crate) fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-1e6f64..1e6).prop_map(Value::Number),
            "[a-z\\\\\"\\n]{0,4}".prop_map(|s| Value::String(Str::from(s))),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(crate::value::array),
                prop::collection::vec((key(), inner), 0..4).prop_map(|kv| {
                    Value::Object(Arc::new(
                        kv.into_iter().map(|(k, v)| (Str::from(k), v)).collect(),
                    ))
                }),
            ]
        })
    }

    #[derive(Debug, Clone)]
    pub(crate) enum Op {
        Set(Vec<String>, Value),
        Delete(Vec<String>),
        Replace(Value),
    }

    pub(crate) fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (prop::collection::vec(key(), 1..4), json()).prop_map(|(p, v)| Op::Set(p, v)),
            2 => prop::collection::vec(key(), 1..4).prop_map(Op::Delete),
            1 => prop::collection::vec((key(), json()), 0..4).prop_map(|kv| {
                Op::Replace(Value::Object(Arc::new(kv.into_iter().map(|(k, v)| (Str::from(k), v)).collect())))
            }),
        ]
    }

    fn bytes(d: &Document) -> Vec<u8> {
        to_json(d.root(), true)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Undoing every change, newest first, gives back every earlier state byte for byte,
        /// and the patches survive their JSON encoding.
        #[test]
        fn inverses_restore_every_earlier_state(ops in prop::collection::vec(op(), 1..25)) {
            let mut d = Document::default();
            let mut states = vec![bytes(&d)];
            let mut changes = Vec::new();
            for o in ops {
                let c = match o {
                    Op::Set(p, v) => d.plan_set(&p, v),
                    Op::Delete(p) => d.plan_delete(&p),
                    Op::Replace(v) => d.plan_replace(v),
                };
                // round-trip the patches through their JSON form, as the journal does
                let reencode = |ops: &[PatchOp]| -> Vec<PatchOp> {
                    ops.iter().map(|op| {
                        let mut out = Vec::new();
                        op.write_json(&mut out);
                        PatchOp::from_value(&parse(&out).unwrap()).unwrap()
                    }).collect()
                };
                let c = Change { patch: reencode(&c.patch), inverse: reencode(&c.inverse) };
                d.apply(&c.patch).unwrap();
                states.push(bytes(&d));
                changes.push(c);
            }
            // replaying the forward patches from scratch gives the same final state
            let mut replay = Document::default();
            for c in &changes {
                replay.apply(&c.patch).unwrap();
            }
            prop_assert_eq!(bytes(&replay), bytes(&d));
            for (i, c) in changes.iter().enumerate().rev() {
                d.apply(&c.inverse).unwrap();
                prop_assert_eq!(&bytes(&d), &states[i]);
            }
        }

        /// Serialization is a fixed point of parsing.
        #[test]
        fn serialize_parse_is_stable(v in json()) {
            let once = to_json(&v, true);
            let twice = to_json(&parse(&once).unwrap(), true);
            prop_assert_eq!(once, twice);
        }
    }
}
