//! Store operations as *operations* (set this key, delete that one, merge
//! these, replace the document), not as patches. A queued operation is planned
//! again on the latest state when it is written, so a change another process
//! made in between is kept rather than overwritten by a stale patch.
//!
//! Also here: the change lists JS gets for its events (`KeyChange`), computed
//! from the document before and after an operation.

use std::sync::Arc;

use crate::defaults::{Defaults, Mark};
use crate::doc::{Change, Document, PatchOp};
use crate::error::{Error, Result};
use crate::schema::Schema;
use crate::value::{depth, is_array_index, too_deep_message, Str, Value, MAX_DEPTH};

/// dot-prop's `set` throws `RangeError: Invalid array length` on a path that
/// names an array's `length` (it assigns `{}` to it on the way): refused the
/// same way, before anything changes.
fn check_set_path(doc: &Document, key: &str, segs: &[String]) -> Result<()> {
    if !segs.iter().any(|s| s == "length") {
        return Ok(());
    }
    match doc.array_length_step(segs) {
        Some(i) => Err(Error::InvalidLength(format!(
            "Cannot set `{key}`: `{}` is an array, and an array's `length` cannot be set (Invalid array length)",
            segs[..i].join(".")
        ))),
        None => Ok(()),
    }
}

/// The key `__internal__` (conf's migration state), kept by `clear()` and
/// `store = ...`.
pub const INTERNAL_KEY: &str = "__internal__";

/// One changed key, for change events: the key (a dot path as given, or a
/// top-level key for bulk changes) and its old and new values (`None` =
/// absent; values only when asked for).
#[derive(Clone, Debug)]
pub struct KeyChange {
    pub key: String,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

/// An operation on the document.
#[derive(Clone, Debug)]
pub enum Op {
    /// dot-prop `set` at a path (`key` as the caller gave it).
    Set {
        key: String,
        segs: Vec<String>,
        value: Value,
    },
    /// dot-prop `delete` at a path.
    Delete { key: String, segs: Vec<String> },
    /// Several sets as one change: `(key as given, path, value)`.
    SetMany {
        entries: Vec<(String, Vec<String>, Value)>,
    },
    /// Replace the whole document (`store = x`, `clear()`, restore, rollback,
    /// reload). `keep_internal` carries `__internal__` over from the state it
    /// is applied to. `base` is the document the caller saw (set when the
    /// operation is committed): planned on a state that changed since (another
    /// process wrote in between), it is merged per top-level key — the keys it
    /// changed take its values, the others keep the newer ones.
    Replace {
        value: Value,
        keep_internal: bool,
        base: Option<Value>,
    },
    /// conf's constructor: the top-level `defaults` the document lacks merged
    /// under its keys, and the schema's defaults (see `Defaults::open_merge`;
    /// `existed`: the store file was there).
    FillDefaults {
        defaults: Arc<Defaults>,
        existed: bool,
    },
    /// Repair what fails the schema: drop the invalid parts, refill the
    /// defaults as if the file had been opened without them.
    Sanitize {
        schema: Arc<Schema>,
        defaults: Arc<Defaults>,
    },
    /// Several operations as one change (a transaction: a migration run).
    Txn(Vec<Op>),
    /// `op`, then the schema defaults its change makes apply, as one change:
    /// conf validates — and so fills — the whole document on every write, so
    /// a deleted key with a default comes back, and a value set gets the
    /// defaults inside it (`Defaults::fill_changed`).
    Defaulted {
        op: Box<Op>,
        defaults: Arc<Defaults>,
        /// How extra changed paths are named in change lists: dot paths, or
        /// (without dot notation) their top-level key.
        dot_notation: bool,
    },
}

impl Op {
    /// The change this operation makes to `doc` (empty when none).
    pub fn plan(&self, doc: &Document) -> Result<Change> {
        Ok(match self {
            Op::Set { key, segs, value } => {
                check_set_path(doc, key, segs)?;
                doc.plan_set(segs, value.clone())
            }
            Op::Delete { key, segs } => {
                if segs.last().is_some_and(|s| s == "length")
                    && doc.array_length_step(segs) == Some(segs.len() - 1)
                {
                    return Err(Error::InvalidArgument(format!(
                        "Cannot delete `{key}`: an array's `length` cannot be deleted"
                    )));
                }
                doc.plan_delete(segs)
            }
            Op::SetMany { entries } => {
                let mut work = doc.clone();
                let mut total = Change::default();
                for (key, segs, v) in entries {
                    check_set_path(&work, key, segs)?;
                    let c = work.plan_set(segs, v.clone());
                    if c.is_empty() {
                        continue;
                    }
                    work.apply(&c.patch)?;
                    total.extend(c);
                }
                total
            }
            Op::Replace {
                value,
                keep_internal,
                base,
            } => {
                let mut new = value.clone();
                if *keep_internal {
                    let internal = match base {
                        Some(b) => b.as_object().and_then(|m| m.get(INTERNAL_KEY)),
                        None => doc.map().get(INTERNAL_KEY),
                    };
                    if let (Some(internal), Value::Object(m)) = (internal, &mut new) {
                        if !m.contains_key(INTERNAL_KEY) {
                            Arc::make_mut(m).insert(Str::from(INTERNAL_KEY), internal.clone());
                        }
                    }
                }
                match base {
                    Some(b) if !b.eq_exact(doc.root()) => doc.plan_replace(merge(b, &new, doc)),
                    _ => doc.plan_replace(new),
                }
            }
            Op::FillDefaults { defaults, existed } => {
                doc.plan_replace(defaults.open_merge(doc, *existed))
            }
            Op::Sanitize { schema, defaults } => {
                if schema.errors(doc, None).is_empty() {
                    return Ok(Change::default());
                }
                let fixed = schema.sanitize(doc, defaults).ok_or_else(|| {
                    Error::Schema(format!(
                        "Config schema violation: {}. The data could not be repaired automatically (nothing was changed)",
                        schema.errors(doc, None).join("; ")
                    ))
                })?;
                doc.plan_replace(fixed)
            }
            Op::Txn(ops) => {
                let mut work = doc.clone();
                let mut total = Change::default();
                for op in ops {
                    let c = op.plan(&work)?;
                    if c.is_empty() {
                        continue;
                    }
                    work.apply(&c.patch)?;
                    total.extend(c);
                }
                total
            }
            Op::Defaulted { .. } => {
                let (mut base, extra) = self.plan_parts(doc)?;
                base.extend(extra);
                base
            }
        })
    }

    /// The operation without the defaults it re-applies.
    pub fn inner(&self) -> &Op {
        match self {
            Op::Defaulted { op, .. } => op.inner(),
            op => op,
        }
    }

    pub fn inner_mut(&mut self) -> &mut Op {
        match self {
            Op::Defaulted { op, .. } => op.inner_mut(),
            op => op,
        }
    }

    /// The schema defaults this operation re-applies, if any.
    pub fn defaults(&self) -> Option<&Arc<Defaults>> {
        match self {
            Op::Defaulted { defaults, .. } => Some(defaults),
            _ => None,
        }
    }

    /// The change of the operation itself and the change of the schema
    /// defaults it makes apply (empty without `Defaulted`).
    pub fn plan_parts(&self, doc: &Document) -> Result<(Change, Change)> {
        let Op::Defaulted { op, defaults, .. } = self else {
            return Ok((self.plan(doc)?, Change::default()));
        };
        let base = op.plan(doc)?;
        let mut work = doc.clone();
        let holes = op.holes(doc);
        if base.is_empty() {
            // conf validates (and fills) on a write that changes nothing too
            let marks = op.unchanged_marks(doc);
            let extra = defaults.fill_marked(
                &mut work,
                marks.iter().map(|(p, m)| (p.as_slice(), *m)),
                holes,
            )?;
            return Ok((base, extra));
        }
        work.apply(&base.patch)?;
        let extra = defaults.fill_changed(&mut work, &base.patch, holes)?;
        Ok((base, extra))
    }

    /// What a `set` or `delete` that changed nothing names, for the defaults
    /// conf's validation fills there anyway: the value set, the object a key
    /// was (or was not) deleted from.
    pub fn unchanged_marks(&self, doc: &Document) -> Vec<(Vec<String>, Mark)> {
        let set = |segs: &Vec<String>| {
            doc.get(segs)
                .filter(|v| v.is_container())
                .map(|_| (segs.clone(), Mark::Wrote))
        };
        match self {
            Op::Set { segs, .. } => set(segs).into_iter().collect(),
            Op::SetMany { entries } => entries.iter().filter_map(|(_, s, _)| set(s)).collect(),
            Op::Delete { segs, .. } => match segs.split_last() {
                Some((_, parent)) if matches!(doc.get(parent), Some(Value::Object(_))) => {
                    vec![(parent.to_vec(), Mark::Removed)]
                }
                _ => Vec::new(),
            },
            Op::Defaulted { op, .. } => op.unchanged_marks(doc),
            _ => Vec::new(),
        }
    }

    /// The array elements this operation leaves `undefined` for Ajv — a
    /// deleted element (dot-prop's `delete arr[i]`), the gap before an
    /// element set past the end — which the document holds as `null`.
    pub fn holes(&self, doc: &Document) -> Vec<Vec<String>> {
        match self {
            // (an element that is null already: `delete arr[i]` makes it a hole too)
            Op::Delete { segs, .. } => match segs.split_last() {
                Some((last, parents)) => match doc.get(parents) {
                    Some(Value::Array(a))
                        if is_array_index(last).is_some_and(|i| (i as usize) < a.len()) =>
                    {
                        vec![segs.clone()]
                    }
                    _ => Vec::new(),
                },
                None => Vec::new(),
            },
            Op::Set { segs, .. } => set_holes(doc, segs),
            Op::SetMany { entries } => {
                // each entry on what the ones before it made
                let mut work = doc.clone();
                let mut holes: Vec<Vec<String>> = Vec::new();
                for (_, segs, v) in entries {
                    // a write at, through or under a hole fills it
                    holes.retain(|h| !(h.starts_with(segs) || segs.starts_with(h)));
                    holes.extend(set_holes(&work, segs));
                    let c = work.plan_set(segs, v.clone());
                    if work.apply(&c.patch).is_err() {
                        break;
                    }
                }
                holes
            }
            Op::Defaulted { op, .. } => op.holes(doc),
            _ => Vec::new(),
        }
    }

    /// Change-list entries for what the defaults changed outside the keys the
    /// operation names (e.g. the defaults of an object a `set('a.b.c')`
    /// created at `a`): one per changed path (dot notation) or top-level key.
    /// `before` gives the document before the operation; it is asked for only
    /// when there are such entries and values are wanted.
    pub fn extra_changes(
        &self,
        extra: &Change,
        before: impl FnOnce() -> Option<Document>,
        after: &Document,
        with_values: bool,
    ) -> Vec<KeyChange> {
        let Op::Defaulted {
            op, dot_notation, ..
        } = self
        else {
            return Vec::new();
        };
        let named: Vec<&[String]> = match &**op {
            Op::Set { segs, .. } | Op::Delete { segs, .. } => vec![segs],
            Op::SetMany { entries } => entries.iter().map(|e| e.1.as_slice()).collect(),
            // bulk changes list every changed top-level key already
            _ => return Vec::new(),
        };
        let mut paths: Vec<Vec<String>> = Vec::new();
        for o in &extra.patch {
            let p = o.path();
            if p.is_empty() || named.iter().any(|n| p.starts_with(n)) {
                continue;
            }
            let p = if *dot_notation {
                p.to_vec()
            } else {
                p[..1].to_vec()
            };
            if paths.iter().any(|q| p.starts_with(q)) {
                continue;
            }
            paths.retain(|q| !q.starts_with(&p));
            paths.push(p);
        }
        if paths.is_empty() {
            return Vec::new();
        }
        let before = if with_values { before() } else { None };
        paths
            .into_iter()
            .map(|p| KeyChange {
                key: if *dot_notation {
                    dot_key(&p)
                } else {
                    p[0].clone()
                },
                old: before.as_ref().and_then(|b| b.get(&p).cloned()),
                new: if with_values {
                    after.get(&p).cloned()
                } else {
                    None
                },
            })
            .collect()
    }

    /// Change-list entries for the containers a `set` replaced above the key
    /// it names (an array grown past its end gets `null` holes, an
    /// intermediate non-object replaced by an object): listeners on other
    /// paths inside them must hear it, as conf's listeners do. `change` is
    /// the operation's own change (`patch[i]` undone by `inverse[len-1-i]`).
    pub fn container_changes(
        &self,
        change: &Change,
        after: &Document,
        with_values: bool,
    ) -> Vec<KeyChange> {
        let named: Vec<&[String]> = match self.inner() {
            Op::Set { segs, .. } => vec![segs],
            Op::SetMany { entries } => entries.iter().map(|e| e.1.as_slice()).collect(),
            _ => return Vec::new(),
        };
        let n = change.patch.len();
        let mut out: Vec<KeyChange> = Vec::new();
        for (i, op) in change.patch.iter().enumerate() {
            let PatchOp::Replace { path, .. } = op else {
                continue;
            };
            if path.is_empty()
                || !named
                    .iter()
                    .any(|p| p.len() > path.len() && p.starts_with(path))
            {
                continue;
            }
            let key = dot_key(path);
            if out.iter().any(|c| c.key == key) {
                continue;
            }
            let old = match change.inverse.get(n - 1 - i) {
                Some(PatchOp::Replace { value, .. }) if with_values => Some(value.clone()),
                _ => None,
            };
            out.push(KeyChange {
                key,
                old,
                new: if with_values {
                    after.get(path).cloned()
                } else {
                    None
                },
            });
        }
        out
    }

    /// Whether the history entry names the top-level keys touched (bulk
    /// changes) rather than the key given.
    pub fn is_bulk(&self) -> bool {
        !matches!(
            self.inner(),
            Op::Set { .. } | Op::Delete { .. } | Op::SetMany { .. }
        )
    }

    /// The keys a history entry of this operation names (empty: the top-level
    /// keys its change touches).
    pub fn history_keys(&self) -> Vec<String> {
        match self.inner() {
            Op::Set { key, .. } | Op::Delete { key, .. } => vec![key.clone()],
            Op::SetMany { entries } => entries.iter().map(|e| e.0.clone()).collect(),
            _ => Vec::new(),
        }
    }

    /// The changed keys for change events, given the document before and after
    /// this operation.
    pub fn key_changes(
        &self,
        before: &Document,
        after: &Document,
        with_values: bool,
    ) -> Vec<KeyChange> {
        let pick = |v: Option<&Value>| if with_values { v.cloned() } else { None };
        match self.inner() {
            Op::Set { key, segs, .. } | Op::Delete { key, segs } => {
                let (o, n) = (before.get(segs), after.get(segs));
                if same(o, n) {
                    return Vec::new();
                }
                vec![KeyChange {
                    key: key.clone(),
                    old: pick(o),
                    new: pick(n),
                }]
            }
            Op::SetMany { entries } => {
                let mut out: Vec<KeyChange> = Vec::new();
                for (k, segs, _) in entries {
                    if out.iter().any(|c| &c.key == k) {
                        continue;
                    }
                    let (o, n) = (before.get(segs), after.get(segs));
                    if !same(o, n) {
                        out.push(KeyChange {
                            key: k.clone(),
                            old: pick(o),
                            new: pick(n),
                        });
                    }
                }
                out
            }
            _ => top_level_diff(before.root(), after.root(), with_values),
        }
    }
}

fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => x.eq_exact(y),
        _ => false,
    }
}

/// Top-level keys whose values differ between two documents.
pub fn top_level_diff(old: &Value, new: &Value, with_values: bool) -> Vec<KeyChange> {
    let (Some(o), Some(n)) = (old.as_object(), new.as_object()) else {
        return Vec::new();
    };
    if Arc::ptr_eq(
        match old {
            Value::Object(m) => m,
            _ => unreachable!(),
        },
        match new {
            Value::Object(m) => m,
            _ => unreachable!(),
        },
    ) {
        return Vec::new();
    }
    let pick = |v: Option<&Value>| if with_values { v.cloned() } else { None };
    let mut out = Vec::new();
    for (k, ov) in o.iter() {
        match n.get(k) {
            Some(nv) if nv.eq_exact(ov) => {}
            nv => out.push(KeyChange {
                key: k.to_string(),
                old: pick(Some(ov)),
                new: pick(nv),
            }),
        }
    }
    for (k, nv) in n.iter() {
        if !o.contains_key(k) {
            out.push(KeyChange {
                key: k.to_string(),
                old: None,
                new: pick(Some(nv)),
            });
        }
    }
    out
}

/// `target` as a change from `base`, applied per top-level key to `current`:
/// the keys whose values differ between `base` and `target` take `target`'s
/// (or are removed), the others keep `current`'s.
fn merge(base: &Value, target: &Value, current: &Document) -> Value {
    let mut out = current.map().clone();
    for c in top_level_diff(base, target, false) {
        match target.as_object().and_then(|m| m.get(&c.key)) {
            Some(v) => {
                out.insert(Str::from(c.key.as_str()), v.clone());
            }
            None => {
                out.shift_remove(&c.key);
            }
        }
    }
    Value::Object(Arc::new(out))
}

/// The top-level keys a change touches (for history entries of bulk changes).
pub fn touched_keys(doc: &Document, change: &Change) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    let mut add = |k: &str| {
        if !keys.iter().any(|x| x == k) {
            keys.push(k.to_string());
        }
    };
    for op in &change.patch {
        match op.path().first() {
            Some(k) => add(k),
            None => {
                let new = match op {
                    PatchOp::Add { value, .. } | PatchOp::Replace { value, .. } => value,
                    PatchOp::Remove { .. } => continue,
                };
                for c in top_level_diff(doc.root(), new, false) {
                    add(&c.key);
                }
            }
        }
    }
    keys
}

/// The gap a `set` past the end of an array leaves (dot-prop assigns
/// `arr[i]`, leaving holes before it).
fn set_holes(doc: &Document, segs: &[String]) -> Vec<Vec<String>> {
    let mut node = doc.root();
    for (i, seg) in segs.iter().enumerate() {
        let next = match node {
            Value::Object(m) => m.get(seg),
            Value::Array(a) => {
                let Some(idx) = is_array_index(seg).map(|n| n as usize) else {
                    return Vec::new();
                };
                if idx > a.len() {
                    return (a.len()..idx)
                        .map(|j| {
                            let mut h = segs[..i].to_vec();
                            h.push(j.to_string());
                            h
                        })
                        .collect();
                }
                a.get(idx)
            }
            _ => None,
        };
        match next {
            Some(c) if c.is_container() && i + 1 < segs.len() => node = c,
            _ => return Vec::new(),
        }
    }
    Vec::new()
}

/// A path as a dot-notation key (`.` inside a segment escaped).
pub fn dot_key(segs: &[String]) -> String {
    segs.iter()
        .map(|s| s.replace('.', "\\."))
        .collect::<Vec<_>>()
        .join(".")
}

/// Checks a value that will be stored at a path of `path_len` segments: it must
/// fit the one depth limit (`MAX_DEPTH`).
pub fn check_depth(key: &str, path_len: usize, v: &Value) -> Result<()> {
    if depth(v) + path_len > MAX_DEPTH {
        return Err(Error::TooDeep(too_deep_message(key)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::segments;
    use crate::value::{parse, to_json, Map};

    fn doc(s: &str) -> Document {
        Document::new(parse(s.as_bytes()).unwrap()).unwrap()
    }
    fn text(d: &Document) -> String {
        String::from_utf8(to_json(d.root(), false)).unwrap()
    }
    fn run(d: &Document, op: &Op) -> Document {
        let c = op.plan(d).unwrap();
        let mut out = d.clone();
        out.apply(&c.patch).unwrap();
        out
    }
    fn set(k: &str, v: &str) -> Op {
        Op::Set {
            key: k.into(),
            segs: segments(k, true).unwrap(),
            value: parse(v.as_bytes()).unwrap(),
        }
    }

    #[test]
    fn a_replanned_set_keeps_what_another_process_changed() {
        // planned on {a:1}, written after another process set b
        let op = set("a", "2");
        let theirs = doc(r#"{"a":1,"b":"theirs"}"#);
        assert_eq!(text(&run(&theirs, &op)), r#"{"a":2,"b":"theirs"}"#);
        let many = Op::SetMany {
            entries: vec![
                (
                    "x.y".into(),
                    segments("x.y", true).unwrap(),
                    Value::Bool(true),
                ),
                ("x.z".into(), segments("x.z", true).unwrap(), Value::Null),
            ],
        };
        let theirs = doc(r#"{"x":{"keep":1}}"#);
        assert_eq!(
            text(&run(&theirs, &many)),
            r#"{"x":{"keep":1,"y":true,"z":null}}"#
        );
        let before = theirs.clone();
        let after = run(&theirs, &many);
        let ch = many.key_changes(&before, &after, true);
        assert_eq!(ch.len(), 2);
        assert_eq!(ch[0].key, "x.y");
    }

    #[test]
    fn replace_keeps_internal_state_of_the_state_it_is_applied_to() {
        let op = Op::Replace {
            value: parse(br#"{"fresh":1}"#).unwrap(),
            keep_internal: true,
            base: None,
        };
        let d = doc(r#"{"old":1,"__internal__":{"migrations":{"version":"2.0.0"}}}"#);
        assert_eq!(
            text(&run(&d, &op)),
            r#"{"fresh":1,"__internal__":{"migrations":{"version":"2.0.0"}}}"#
        );
        let ch = op.key_changes(&d, &run(&d, &op), false);
        let keys: Vec<_> = ch.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["old", "fresh"]);
    }

    #[test]
    fn a_replace_planned_on_a_newer_state_keeps_what_it_did_not_change() {
        let base = doc(r#"{"a":1,"b":2,"c":3}"#);
        // the caller made {a:1, b:20} (changed b, removed c) from what it saw
        let op = Op::Replace {
            value: parse(br#"{"a":1,"b":20}"#).unwrap(),
            keep_internal: false,
            base: Some(base.root().clone()),
        };
        assert_eq!(text(&run(&base, &op)), r#"{"a":1,"b":20}"#);
        // meanwhile another process changed a and added d
        let newer = doc(r#"{"a":100,"b":2,"c":3,"d":4}"#);
        assert_eq!(text(&run(&newer, &op)), r#"{"a":100,"b":20,"d":4}"#);
    }

    #[test]
    fn defaults_merge_like_conf_and_a_transaction_is_one_change() {
        let mut defaults = Map::new();
        defaults.insert(Str::from("d"), Value::Number(1.0));
        defaults.insert(Str::from("a"), Value::Number(9.0));
        let op = Op::FillDefaults {
            defaults: Arc::new(Defaults::new(Some(Arc::new(defaults)), None, None).unwrap()),
            existed: true,
        };
        let d = doc(r#"{"a":1,"z":2}"#);
        assert_eq!(text(&run(&d, &op)), r#"{"d":1,"a":1,"z":2}"#);
        let txn = Op::Txn(vec![
            set("a", "2"),
            set("b", "3"),
            Op::Delete {
                key: "z".into(),
                segs: vec!["z".into()],
            },
        ]);
        let c = txn.plan(&d).unwrap();
        let mut after = d.clone();
        after.apply(&c.patch).unwrap();
        assert_eq!(text(&after), r#"{"a":2,"b":3}"#);
        after.apply(&c.inverse).unwrap();
        assert_eq!(text(&after), text(&d));
        assert_eq!(touched_keys(&d, &c), ["a", "b", "z"]);
    }

    #[test]
    fn depth_limit_counts_the_path() {
        let n = MAX_DEPTH - 1;
        let v = parse(format!("{}{}", "[".repeat(n), "]".repeat(n)).as_bytes()).unwrap();
        assert!(check_depth("k", 1, &v).is_ok());
        let e = check_depth("a.b", 2, &v).unwrap_err();
        assert_eq!(e.code(), "E_TOO_DEEP");
        assert!(e.is_range_error());
        assert!(e.to_string().contains("`a.b`"), "{e}");
    }
}
