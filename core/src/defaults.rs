//! The defaults of a store, applied exactly as conf 10.2 (electron-store 8)
//! applies them.
//!
//! conf has two kinds of defaults:
//! - the top-level `defaults` option, merged under the file's keys once, when
//!   the store is constructed (`Object.assign({}, defaults, fileStore)`), and
//!   never again: a key deleted later stays deleted;
//! - the schema's `default`s, assigned by Ajv's `useDefaults` on every
//!   validation. conf validates the whole document on every write (and every
//!   read), so such a default comes back after `delete`, `reset`, `clear` or
//!   `store =`; defaults inside a default just inserted are filled too (Ajv
//!   goes on validating the value it inserted); and nothing is created under a
//!   parent the data does not have (Ajv only walks data that exists).
//!
//! [`Defaults`] describes both. The schema part is compiled into a program of
//! the keywords that can lead to a default, visited in the order of Ajv 8's
//! generated code (`lib/compile/validate/index.ts`), so that defaults land in
//! the same places and in the same key order:
//! - at one value, a schema's type-independent keywords run first (`$ref`,
//!   then `allOf` in order, then `if` → `then`/`else`), then the array group
//!   and the object group, each only when the value has that type;
//! - a group starts by assigning its defaults: the object group every
//!   `properties[k].default` whose `data[k] === undefined` (in `properties`
//!   order, appended as JS appends), the array group every `items[i].default`
//!   of a tuple `items` (`data[i] === undefined`, past the end or a hole);
//! - then the object group's keywords: `additionalProperties`,
//!   `dependencies`, `properties` (a property with a default is visited even
//!   if it was just inserted), `patternProperties`; the array group's:
//!   `additionalItems`, `items`;
//! - under `anyOf`, `oneOf`, `not`, `if`, `contains` and `propertyNames`
//!   (Ajv's composite rules) no default is ever assigned — and Ajv's strict
//!   mode refuses a schema that has one there ("default is ignored"), so conf
//!   throws at construction; so does [`Defaults::new`].
//!
//! Applying: [`Defaults::fill_document`] runs Ajv's pass over a whole
//! document (at open); [`Defaults::fill_changed`] runs it over what a change
//! touched only — the changed values, and the objects along the way — which
//! gives the same result as conf's whole-document pass when the rest of the
//! document already holds its defaults (it does: every change fills them).
//! A `then`/`else` or `dependencies` schema makes the pass cover the whole
//! value that holds the condition (the condition may now select another
//! branch). [`Defaults::default_at`] answers "what would the defaults put at
//! this path if the store did not hold it" (for a read-through layer).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use jsonschema::Validator;
use serde_json::Value as Json;

use crate::doc::{Change, Document, PatchOp};
use crate::error::{Error, Result};
use crate::schema::ajv;
use crate::serde_conv::{from_serde, to_serde};
use crate::value::{display, is_array_index, Map, Str, Value};

type NodeId = usize;

/// Names `data[name] === undefined` is never true for on a JS object
/// (Object.prototype's members): Ajv never fills them.
const INHERITED: &[&str] = &[
    "constructor",
    "hasOwnProperty",
    "isPrototypeOf",
    "propertyIsEnumerable",
    "toLocaleString",
    "toString",
    "valueOf",
    "__proto__",
    "__defineGetter__",
    "__defineSetter__",
    "__lookupGetter__",
    "__lookupSetter__",
];

/// Keywords that are not rules for Ajv (a schema with only these is "always
/// valid" and is not visited).
const NOT_RULES: &[&str] = &[
    "title",
    "description",
    "default",
    "deprecated",
    "readOnly",
    "writeOnly",
    "examples",
    "$schema",
    "$id",
    "$defs",
    "definitions",
    "$vocabulary",
    "contentMediaType",
    "contentEncoding",
];

/// Schemas visited in a row beyond a few per level of the data: a `$ref`
/// cycle at one value (`a: { $ref: '#/properties/a' }`), where Ajv would
/// recurse forever.
const MAX_VISITS: usize = 256;

/// Ajv's `alwaysValidSchema`: `true`, `{}`, or keywords that are not rules.
fn always_valid(s: &Json) -> bool {
    match s {
        Json::Bool(b) => *b,
        Json::Object(m) => m.keys().all(|k| NOT_RULES.contains(&k.as_str())),
        _ => false,
    }
}

/// A `patternProperties` pattern, tested as the validator tests `pattern`.
struct Pattern {
    test: Validator,
}

impl Pattern {
    fn new(source: &str) -> Option<Pattern> {
        jsonschema::options()
            .build(&serde_json::json!({ "pattern": source }))
            .ok()
            .map(|test| Pattern { test })
    }

    fn matches(&self, key: &str) -> bool {
        self.test.is_valid(&Json::String(display(key).into_owned()))
    }
}

/// `if` with a `then` and/or an `else` that can lead to defaults.
struct Cond {
    /// The `if` schema, and the document its `$ref`s resolve against.
    test: Json,
    doc: usize,
    /// The validator of `test` alone, for what the Ajv walk does not cover.
    fallback: Option<Validator>,
    then: Option<NodeId>,
    otherwise: Option<NodeId>,
}

/// One schema object, reduced to what leads to defaults.
#[derive(Default)]
struct Node {
    reference: Option<NodeId>,
    all_of: Vec<NodeId>,
    cond: Option<Cond>,
    // the object group
    defaults: Vec<(Str, Value)>,
    properties: Vec<(Str, NodeId)>,
    names: HashSet<Str>,
    patterns: Vec<(Pattern, Option<NodeId>)>,
    additional: Option<NodeId>,
    dependencies: Vec<(Str, NodeId)>,
    // the array group
    tuple_defaults: Vec<(usize, Value)>,
    tuple: Option<Vec<Option<NodeId>>>,
    items: Option<NodeId>,
    additional_items: Option<NodeId>,
    /// Whether visiting this schema can assign a default anywhere.
    matters: bool,
}

/// The schema's defaults as a program over the document.
struct Program {
    nodes: Vec<Node>,
    /// The schemas of the document itself, in order (electron-store's
    /// `schema` as `{ type: 'object', properties }`, then `rootSchema`).
    roots: Vec<NodeId>,
    /// The JSON documents `$ref`s resolve against (one per root).
    docs: Vec<Json>,
    /// A reachable `if`/`then`/`else` or `dependencies` schema leads to defaults.
    conditional: bool,
}

struct Compiler<'j> {
    docs: &'j [Json],
    nodes: Vec<Node>,
    memo: HashMap<*const Json, NodeId>,
}

fn strict_error(pointer: &str) -> Error {
    Error::InvalidArgument(format!(
        "The schema cannot be used: it has a `default` at `{pointer}`, inside `anyOf`, `oneOf`, `not`, `if`, `contains` or `propertyNames`, where Ajv never applies it (electron-store refuses such a schema: \"strict mode: default is ignored\")"
    ))
}

fn child_ptr(ptr: &str, seg: &str) -> String {
    format!("{ptr}/{}", seg.replace('~', "~0").replace('/', "~1"))
}

impl<'j> Compiler<'j> {
    /// The node of `schema` (a part of `docs[doc]` at `ptr`); `None` for a
    /// boolean schema (nothing to fill).
    fn node(&mut self, doc: usize, ptr: &str, schema: &'j Json) -> Result<Option<NodeId>> {
        let Json::Object(s) = schema else {
            return Ok(None);
        };
        let key = schema as *const Json;
        if let Some(&id) = self.memo.get(&key) {
            return Ok(Some(id));
        }
        let id = self.nodes.len();
        self.nodes.push(Node::default());
        self.memo.insert(key, id);
        let mut n = Node::default();
        let at = |kw: &str| child_ptr(ptr, kw);
        if let Some(Json::String(r)) = s.get("$ref") {
            // (a reference the validator could not resolve was refused when
            // the schema was compiled; a remote one has nothing to fill here)
            if let Ok(target) = ajv::resolve(&self.docs[doc], r) {
                n.reference = self.node(doc, r, target)?;
            }
        }
        if let Some(Json::Array(list)) = s.get("allOf") {
            for (i, b) in list.iter().enumerate() {
                if let Some(c) = self.node(doc, &child_ptr(&at("allOf"), &i.to_string()), b)? {
                    n.all_of.push(c);
                }
            }
        }
        for kw in ["anyOf", "oneOf"] {
            if let Some(Json::Array(list)) = s.get(kw) {
                for (i, b) in list.iter().enumerate() {
                    self.composite(
                        doc,
                        &child_ptr(&at(kw), &i.to_string()),
                        b,
                        &mut HashSet::new(),
                    )?;
                }
            }
        }
        if let Some(b) = s.get("not") {
            self.composite(doc, &at("not"), b, &mut HashSet::new())?;
        }
        if let Some(test) = s.get("if") {
            let then = s.get("then").filter(|t| !always_valid(t));
            let otherwise = s.get("else").filter(|t| !always_valid(t));
            if then.is_some() || otherwise.is_some() {
                self.composite(doc, &at("if"), test, &mut HashSet::new())?;
                let then = match then {
                    Some(t) => self.node(doc, &at("then"), t)?,
                    None => None,
                };
                let otherwise = match otherwise {
                    Some(t) => self.node(doc, &at("else"), t)?,
                    None => None,
                };
                n.cond = Some(Cond {
                    test: test.clone(),
                    doc,
                    fallback: jsonschema::options()
                        .should_validate_formats(true)
                        .build(test)
                        .ok(),
                    then,
                    otherwise,
                });
            }
        }
        // the object group
        if let Some(Json::Object(props)) = s.get("properties") {
            for (k, sub) in props {
                let name = Str::from(crate::value::encode(k).as_ref());
                if let Some(d) = sub.get("default") {
                    n.defaults.push((name.clone(), from_serde(d)));
                }
                n.names.insert(name.clone());
                if always_valid(sub) {
                    continue;
                }
                if let Some(c) = self.node(doc, &child_ptr(&at("properties"), k), sub)? {
                    n.properties.push((name, c));
                }
            }
        }
        if let Some(Json::Object(pats)) = s.get("patternProperties") {
            for (p, sub) in pats {
                let Some(pattern) = Pattern::new(p) else {
                    continue;
                };
                let child = if always_valid(sub) {
                    None
                } else {
                    self.node(doc, &child_ptr(&at("patternProperties"), p), sub)?
                };
                n.patterns.push((pattern, child));
            }
        }
        if let Some(sub) = s.get("additionalProperties") {
            if !always_valid(sub) {
                n.additional = self.node(doc, &at("additionalProperties"), sub)?;
            }
        }
        if let Some(Json::Object(deps)) = s.get("dependencies") {
            for (p, sub) in deps {
                if sub.is_object() && !always_valid(sub) {
                    if let Some(c) = self.node(doc, &child_ptr(&at("dependencies"), p), sub)? {
                        n.dependencies
                            .push((Str::from(crate::value::encode(p).as_ref()), c));
                    }
                }
            }
        }
        if let Some(sub) = s.get("propertyNames") {
            self.composite(doc, &at("propertyNames"), sub, &mut HashSet::new())?;
        }
        // the array group
        match s.get("items") {
            Some(Json::Array(tuple)) => {
                let mut nodes = Vec::with_capacity(tuple.len());
                for (i, sub) in tuple.iter().enumerate() {
                    if let Some(d) = sub.get("default") {
                        n.tuple_defaults.push((i, from_serde(d)));
                    }
                    nodes.push(if always_valid(sub) {
                        None
                    } else {
                        self.node(doc, &child_ptr(&at("items"), &i.to_string()), sub)?
                    });
                }
                n.tuple = Some(nodes);
                if let Some(sub) = s.get("additionalItems") {
                    if !always_valid(sub) {
                        n.additional_items = self.node(doc, &at("additionalItems"), sub)?;
                    }
                }
            }
            Some(sub) if !always_valid(sub) => {
                n.items = self.node(doc, &at("items"), sub)?;
            }
            _ => {}
        }
        if let Some(sub) = s.get("contains") {
            self.composite(doc, &at("contains"), sub, &mut HashSet::new())?;
        }
        self.nodes[id] = n;
        Ok(Some(id))
    }

    /// A schema under a composite rule: no default is applied there, and Ajv's
    /// strict mode refuses one (conf throws at construction).
    fn composite(
        &self,
        doc: usize,
        ptr: &str,
        schema: &'j Json,
        seen: &mut HashSet<*const Json>,
    ) -> Result<()> {
        let Json::Object(s) = schema else {
            return Ok(());
        };
        if !seen.insert(schema as *const Json) {
            return Ok(());
        }
        if let Some(Json::Object(props)) = s.get("properties") {
            for (k, sub) in props {
                if sub.get("default").is_some() {
                    return Err(strict_error(&child_ptr(&child_ptr(ptr, "properties"), k)));
                }
            }
        }
        if let Some(Json::Array(tuple)) = s.get("items") {
            for (i, sub) in tuple.iter().enumerate() {
                if sub.get("default").is_some() {
                    return Err(strict_error(&child_ptr(
                        &child_ptr(ptr, "items"),
                        &i.to_string(),
                    )));
                }
            }
        }
        let mut go = |p: String, sub: &'j Json| self.composite(doc, &p, sub, seen);
        for kw in ["properties", "patternProperties", "dependencies"] {
            if let Some(Json::Object(m)) = s.get(kw) {
                for (k, sub) in m {
                    go(child_ptr(&child_ptr(ptr, kw), k), sub)?;
                }
            }
        }
        for kw in ["allOf", "anyOf", "oneOf", "items"] {
            if let Some(Json::Array(list)) = s.get(kw) {
                for (i, sub) in list.iter().enumerate() {
                    go(child_ptr(&child_ptr(ptr, kw), &i.to_string()), sub)?;
                }
            }
        }
        for kw in [
            "additionalProperties",
            "items",
            "additionalItems",
            "contains",
            "propertyNames",
            "not",
            "then",
            "else",
        ] {
            if let Some(sub) = s.get(kw).filter(|v| v.is_object()) {
                go(child_ptr(ptr, kw), sub)?;
            }
        }
        let branches = ["then", "else"]
            .iter()
            .any(|k| s.get(*k).is_some_and(|t| !always_valid(t)));
        if let (Some(test), true) = (s.get("if"), branches) {
            go(child_ptr(ptr, "if"), test)?;
        }
        if let Some(Json::String(r)) = s.get("$ref") {
            if let Ok(target) = ajv::resolve(&self.docs[doc], r) {
                go(r.clone(), target)?;
            }
        }
        Ok(())
    }

    /// Marks the nodes whose visit can assign a default.
    fn finish(mut self, roots: Vec<NodeId>) -> (Vec<Node>, Vec<NodeId>, bool) {
        loop {
            let mut changed = false;
            for id in 0..self.nodes.len() {
                if self.nodes[id].matters {
                    continue;
                }
                let n = &self.nodes[id];
                let m = |c: &NodeId| self.nodes[*c].matters;
                let matters = !n.defaults.is_empty()
                    || !n.tuple_defaults.is_empty()
                    || n.reference.iter().any(m)
                    || n.all_of.iter().any(m)
                    || n.cond
                        .as_ref()
                        .is_some_and(|c| c.then.iter().chain(c.otherwise.iter()).any(m))
                    || n.properties.iter().any(|(_, c)| m(c))
                    || n.patterns.iter().any(|(_, c)| c.iter().any(m))
                    || n.additional.iter().any(m)
                    || n.dependencies.iter().any(|(_, c)| m(c))
                    || n.tuple.iter().flatten().flatten().any(m)
                    || n.items.iter().any(m)
                    || n.additional_items.iter().any(m);
                if matters {
                    self.nodes[id].matters = true;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let nodes = self.nodes;
        let matters = |c: &NodeId| nodes[*c].matters;
        let conditional = nodes.iter().any(|n| {
            n.matters
                && (n
                    .cond
                    .as_ref()
                    .is_some_and(|c| c.then.iter().chain(c.otherwise.iter()).any(matters))
                    || n.dependencies.iter().any(|(_, c)| matters(c)))
        });
        let roots = roots.into_iter().filter(|r| nodes[*r].matters).collect();
        (nodes, roots, conditional)
    }
}

impl Program {
    fn compile(properties: Option<&Json>, root: Option<&Json>) -> Result<Option<Program>> {
        let mut docs = Vec::new();
        if let Some(p) = properties {
            // conf validates `{ type: 'object', properties: schema }`
            docs.push(serde_json::json!({ "type": "object", "properties": p }));
        }
        if let Some(r) = root {
            docs.push(r.clone());
        }
        let (nodes, roots, conditional) = {
            let mut c = Compiler {
                docs: &docs,
                nodes: Vec::new(),
                memo: HashMap::new(),
            };
            let mut roots = Vec::new();
            for (i, d) in docs.iter().enumerate() {
                if let Some(id) = c.node(i, "#", d)? {
                    roots.push(id);
                }
            }
            c.finish(roots)
        };
        if roots.is_empty() {
            return Ok(None);
        }
        Ok(Some(Program {
            nodes,
            roots,
            docs,
            conditional,
        }))
    }
}

/// What a change did at a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// Wrote the value there: all of it is visited.
    Wrote,
    /// Removed a key or left a hole in the container there: its own defaults
    /// are assigned again.
    Removed,
}

/// The parts of the document a change touched: a trie of paths. A written
/// value (`full`) is visited whole; a container a key was removed from
/// (`removed`) gets its own defaults again; the containers on the way to them
/// are only passed through (their conditions are evaluated again).
#[derive(Default, Debug)]
struct Touched {
    full: bool,
    removed: bool,
    children: Vec<(String, Touched)>,
}

impl Touched {
    fn mark(&mut self, path: &[String], mark: Mark) {
        if self.full {
            return;
        }
        match path.split_first() {
            None => match mark {
                Mark::Wrote => {
                    self.full = true;
                    self.children.clear();
                }
                Mark::Removed => self.removed = true,
            },
            Some((k, rest)) => {
                let i = match self.children.iter().position(|(c, _)| c == k) {
                    Some(i) => i,
                    None => {
                        self.children.push((k.clone(), Touched::default()));
                        self.children.len() - 1
                    }
                };
                self.children[i].1.mark(rest, mark);
            }
        }
    }

    fn child(&self, k: &str) -> Option<&Touched> {
        self.children.iter().find(|(c, _)| c == k).map(|(_, t)| t)
    }
}

#[derive(Clone, Copy)]
enum Scope<'t> {
    Full,
    Partial(&'t Touched),
}

impl<'t> Scope<'t> {
    fn of(t: &'t Touched) -> Scope<'t> {
        if t.full {
            Scope::Full
        } else {
            Scope::Partial(t)
        }
    }
}

/// One run of Ajv's pass over a document, changing it in place and recording
/// what it did.
struct Filler<'a> {
    prog: &'a Program,
    doc: &'a mut Document,
    change: Change,
    /// Array elements that are holes (`undefined` for Ajv; `null` here).
    holes: Vec<Vec<String>>,
    /// Paths this run inserted (visited whole, as Ajv validates them).
    inserted: HashSet<Vec<String>>,
    /// Nested visits now (a `$ref` cycle at one value would never end).
    depth: usize,
}

impl<'a> Filler<'a> {
    fn apply(&mut self, forward: PatchOp, inverse: PatchOp) -> Result<()> {
        self.doc.apply(std::slice::from_ref(&forward))?;
        self.change.push(forward, inverse);
        Ok(())
    }

    fn has(&self, path: &[String], key: &str) -> bool {
        matches!(self.doc.get(path), Some(Value::Object(m)) if m.contains_key(key))
    }

    fn len(&self, path: &[String]) -> usize {
        match self.doc.get(path) {
            Some(Value::Array(a)) => a.len(),
            _ => 0,
        }
    }

    fn is_hole(&self, path: &[String]) -> bool {
        self.holes.iter().any(|h| h.as_slice() == path)
    }

    /// The scope a child is visited in: whole when it is new, else as the
    /// change touched it; `None` when the change did not reach it.
    fn child_scope<'t>(
        &self,
        scope: Scope<'t>,
        path: &mut Vec<String>,
        key: &str,
    ) -> Option<Scope<'t>> {
        match scope {
            Scope::Full => Some(Scope::Full),
            Scope::Partial(t) => {
                let new = !self.inserted.is_empty() && {
                    path.push(key.to_string());
                    let new = self.inserted.contains(path.as_slice());
                    path.pop();
                    new
                };
                if new {
                    Some(Scope::Full)
                } else {
                    t.child(key).map(Scope::of)
                }
            }
        }
    }

    /// The children of the value at `path` a visit in `scope` looks at: all
    /// of them, or those the change touched and those this run inserted.
    fn candidates(&self, scope: Scope<'_>, path: &[String]) -> Vec<String> {
        let mut out: Vec<String> = match scope {
            Scope::Full => match self.doc.get(path) {
                Some(Value::Object(m)) => m.keys().map(|k| k.to_string()).collect(),
                Some(Value::Array(a)) => (0..a.len()).map(|i| i.to_string()).collect(),
                _ => Vec::new(),
            },
            Scope::Partial(t) => t.children.iter().map(|(k, _)| k.clone()).collect(),
        };
        if let Scope::Partial(_) = scope {
            for p in &self.inserted {
                if p.len() == path.len() + 1 && p.starts_with(path) && !out.contains(&p[path.len()])
                {
                    out.push(p[path.len()].clone());
                }
            }
        }
        out
    }

    fn visit_child(
        &mut self,
        id: NodeId,
        scope: Scope<'_>,
        path: &mut Vec<String>,
        key: &str,
    ) -> Result<()> {
        if let Some(s) = self.child_scope(scope, path, key) {
            path.push(key.to_string());
            let r = self.visit(id, path, s);
            path.pop();
            r?;
        }
        Ok(())
    }

    fn visit(&mut self, id: NodeId, path: &mut Vec<String>, scope: Scope<'_>) -> Result<()> {
        let prog = self.prog;
        let node = &prog.nodes[id];
        if !node.matters || self.is_hole(path) {
            return Ok(());
        }
        if self.depth > MAX_VISITS + 8 * path.len() {
            return Ok(());
        }
        self.depth += 1;
        let r = self.visit_keywords(node, path, scope);
        self.depth -= 1;
        r
    }

    fn visit_keywords(
        &mut self,
        node: &Node,
        path: &mut Vec<String>,
        scope: Scope<'_>,
    ) -> Result<()> {
        let prog = self.prog;
        // the type-independent keywords
        if let Some(r) = node.reference {
            self.visit(r, path, scope)?;
        }
        for &a in &node.all_of {
            self.visit(a, path, scope)?;
        }
        if let Some(cond) = &node.cond {
            let branch = match self.doc.get(path) {
                Some(data) => {
                    let data = to_serde(data);
                    let pass = match ajv::passes(&prog.docs[cond.doc], &cond.test, &data) {
                        Ok(p) => p,
                        Err(_) => cond.fallback.as_ref().is_some_and(|v| v.is_valid(&data)),
                    };
                    if pass {
                        cond.then
                    } else {
                        cond.otherwise
                    }
                }
                None => None,
            };
            if let Some(b) = branch {
                // the condition may select another branch than before: all of it
                self.visit(b, path, Scope::Full)?;
            }
        }
        match self.doc.get(path) {
            Some(Value::Array(_)) => self.array_group(node, path, scope),
            Some(Value::Object(_)) => self.object_group(node, path, scope),
            _ => Ok(()),
        }
    }

    fn object_group(
        &mut self,
        node: &Node,
        path: &mut Vec<String>,
        scope: Scope<'_>,
    ) -> Result<()> {
        let assign = match scope {
            Scope::Full => true,
            Scope::Partial(t) => t.removed,
        };
        for (k, d) in node.defaults.iter().filter(|_| assign) {
            if self.has(path, k) || INHERITED.contains(&&**k) {
                continue;
            }
            let mut p = path.clone();
            p.push(k.to_string());
            self.apply(
                PatchOp::Add {
                    path: p.clone(),
                    value: d.clone(),
                    pos: None,
                },
                PatchOp::Remove { path: p.clone() },
            )?;
            self.inserted.insert(p);
        }
        if let Some(ap) = node.additional {
            for k in self.candidates(scope, path) {
                if !self.has(path, &k)
                    || node.names.contains(k.as_str())
                    || node.patterns.iter().any(|(p, _)| p.matches(&k))
                {
                    continue;
                }
                self.visit_child(ap, scope, path, &k)?;
            }
        }
        for (prop, dep) in &node.dependencies {
            if self.has(path, prop) {
                // present now, maybe not before: all of it
                self.visit(*dep, path, Scope::Full)?;
            }
        }
        match scope {
            Scope::Full => {
                for (k, child) in &node.properties {
                    if self.has(path, k) {
                        self.visit_child(*child, scope, path, k)?;
                    }
                }
            }
            // only the properties the change reached (a wide object's other
            // properties are not looked at)
            Scope::Partial(_) => {
                for k in self.candidates(scope, path) {
                    if let Some((_, child)) = node.properties.iter().find(|(p, _)| **p == *k) {
                        if self.has(path, &k) {
                            self.visit_child(*child, scope, path, &k)?;
                        }
                    }
                }
            }
        }
        for (pattern, child) in &node.patterns {
            let Some(child) = child else { continue };
            for k in self.candidates(scope, path) {
                if self.has(path, &k) && pattern.matches(&k) {
                    self.visit_child(*child, scope, path, &k)?;
                }
            }
        }
        Ok(())
    }

    fn array_group(&mut self, node: &Node, path: &mut Vec<String>, scope: Scope<'_>) -> Result<()> {
        let assign = match scope {
            Scope::Full => true,
            Scope::Partial(t) => t.removed,
        };
        for (i, d) in node.tuple_defaults.iter().filter(|_| assign) {
            let i = *i;
            let mut p = path.clone();
            p.push(i.to_string());
            let n = self.len(path);
            if i < n {
                if !self.is_hole(&p) {
                    continue;
                }
                self.holes.retain(|h| h != &p);
                self.apply(
                    PatchOp::Replace {
                        path: p.clone(),
                        value: d.clone(),
                    },
                    PatchOp::Replace {
                        path: p.clone(),
                        value: Value::Null,
                    },
                )?;
            } else {
                // `data[i] = default` past the end leaves holes before it
                for j in n..i {
                    let mut h = path.clone();
                    h.push(j.to_string());
                    self.apply(
                        PatchOp::Add {
                            path: h.clone(),
                            value: Value::Null,
                            pos: None,
                        },
                        PatchOp::Remove { path: h.clone() },
                    )?;
                    self.holes.push(h);
                }
                self.apply(
                    PatchOp::Add {
                        path: p.clone(),
                        value: d.clone(),
                        pos: None,
                    },
                    PatchOp::Remove { path: p.clone() },
                )?;
            }
            self.inserted.insert(p);
        }
        let n = self.len(path);
        let indices: Vec<usize> = self
            .candidates(scope, path)
            .iter()
            .filter_map(|k| is_array_index(k).map(|i| i as usize))
            .filter(|&i| i < n)
            .collect();
        let tuple_len = node.tuple.as_ref().map(Vec::len);
        if let (Some(tl), Some(ai)) = (tuple_len, node.additional_items) {
            for &i in indices.iter().filter(|&&i| i >= tl) {
                self.visit_child(ai, scope, path, &i.to_string())?;
            }
        }
        if let Some(tuple) = &node.tuple {
            for &i in indices.iter().filter(|&&i| i < tuple.len()) {
                if let Some(c) = tuple[i] {
                    self.visit_child(c, scope, path, &i.to_string())?;
                }
            }
        }
        if let Some(items) = node.items {
            for &i in &indices {
                self.visit_child(items, scope, path, &i.to_string())?;
            }
        }
        Ok(())
    }
}

/// The defaults of a store: electron-store's top-level `defaults` and the
/// schema's `default`s (see the module documentation).
#[derive(Default)]
pub struct Defaults {
    top: Arc<Map>,
    program: Option<Program>,
}

impl std::fmt::Debug for Defaults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Defaults")
            .field("top", &self.top.len())
            .field("schema", &self.program.as_ref().map(|p| p.nodes.len()))
            .finish()
    }
}

impl Defaults {
    /// The defaults of a store with the `defaults` option `top` and the schema
    /// (`schema`'s properties map and/or `rootSchema`). A schema with a
    /// `default` where Ajv refuses one is an error, as in conf.
    pub fn new(
        top: Option<Arc<Map>>,
        properties: Option<&Json>,
        root: Option<&Json>,
    ) -> Result<Defaults> {
        Ok(Defaults {
            top: top.unwrap_or_default(),
            program: Program::compile(properties, root)?,
        })
    }

    /// As [`Defaults::new`], with the `defaults` option as the JSON text JS
    /// gives: an object, nested no deeper than the document may be
    /// (`E_TOO_DEEP`), else a `TypeError`.
    pub fn from_json(
        top: Option<&[u8]>,
        properties: Option<&Json>,
        root: Option<&Json>,
    ) -> Result<Defaults> {
        let top = match top {
            None => None,
            Some(text) => match crate::value::parse(text) {
                Ok(Value::Object(m)) => Some(m),
                Err(e) if e.too_deep => {
                    return Err(Error::TooDeep(crate::value::too_deep_message("defaults")))
                }
                _ => {
                    return Err(Error::InvalidArgument(
                        "Expected `defaults` to be an object".into(),
                    ))
                }
            },
        };
        Defaults::new(top, properties, root)
    }

    /// The top-level `defaults` option.
    pub fn top(&self) -> &Map {
        &self.top
    }

    /// Whether the schema has defaults that every change must re-apply.
    pub fn has_schema_defaults(&self) -> bool {
        self.program.is_some()
    }

    /// Whether neither kind of default is there.
    pub fn is_empty(&self) -> bool {
        self.top.is_empty() && self.program.is_none()
    }

    fn run(
        &self,
        doc: &mut Document,
        touched: &Touched,
        holes: Vec<Vec<String>>,
    ) -> Result<Change> {
        let Some(prog) = &self.program else {
            return Ok(Change::default());
        };
        let mut f = Filler {
            prog,
            doc,
            change: Change::default(),
            holes,
            inserted: HashSet::new(),
            depth: 0,
        };
        for &r in &prog.roots {
            f.visit(r, &mut Vec::new(), Scope::of(touched))?;
        }
        Ok(f.change)
    }

    /// Ajv's pass (schema defaults only) over the whole document `root`; the
    /// filled document, or `None` when nothing was missing.
    pub fn fill_document(&self, root: &Value) -> Option<Value> {
        self.program.as_ref()?;
        let mut doc = Document::new(root.clone()).ok()?;
        let touched = Touched {
            full: true,
            ..Touched::default()
        };
        match self.run(&mut doc, &touched, Vec::new()) {
            Ok(c) if !c.is_empty() => Some(doc.root().clone()),
            _ => None,
        }
    }

    /// The schema defaults a change makes apply, as conf's whole-document
    /// validation after it would assign them: `doc` is the document after the
    /// change `patch`; the defaults are applied to it in place and returned as
    /// a change. `holes`: array elements the change left `undefined` for Ajv
    /// (a deleted element, the gap of a set past the end), `null` in `doc`.
    ///
    /// Only the values the patch wrote (whole) and the objects it removed keys
    /// from (their own defaults) are filled; the containers on the way to them
    /// are passed through (plus, under a `then`/`else` or `dependencies`
    /// schema, the whole value holding the condition is visited, since the
    /// condition may now select the other branch): no walk of the document
    /// for a small change.
    pub fn fill_changed(
        &self,
        doc: &mut Document,
        patch: &[PatchOp],
        holes: Vec<Vec<String>>,
    ) -> Result<Change> {
        let Some(prog) = &self.program else {
            return Ok(Change::default());
        };
        // a scalar written where no condition can look at it fills nothing
        let trivial = !prog.conditional
            && holes.is_empty()
            && patch.iter().all(|op| match op {
                PatchOp::Add { value, .. } | PatchOp::Replace { value, .. } => {
                    !value.is_container()
                }
                PatchOp::Remove { .. } => false,
            });
        if trivial {
            return Ok(Change::default());
        }
        let marks = patch.iter().map(|op| match op {
            PatchOp::Add { path, .. } | PatchOp::Replace { path, .. } => {
                (path.as_slice(), Mark::Wrote)
            }
            PatchOp::Remove { path } => (&path[..path.len().saturating_sub(1)], Mark::Removed),
        });
        self.fill_marked(doc, marks, holes)
    }

    /// Ajv's pass over the parts of `doc` given by `marks` (a path and what a
    /// change did there), applied in place; the change it made. Used for an
    /// operation that changed nothing by itself (conf still validates, and
    /// fills, what it names).
    pub fn fill_marked<'p>(
        &self,
        doc: &mut Document,
        marks: impl IntoIterator<Item = (&'p [String], Mark)>,
        holes: Vec<Vec<String>>,
    ) -> Result<Change> {
        let mut touched = Touched::default();
        let mut any = !holes.is_empty();
        for (path, mark) in marks {
            touched.mark(path, mark);
            any = true;
        }
        if !any {
            return Ok(Change::default());
        }
        for h in &holes {
            touched.mark(&h[..h.len().saturating_sub(1)], Mark::Removed);
        }
        self.run(doc, &touched, holes)
    }

    /// conf's constructor: `Object.assign({}, defaults, fileStore)`, with
    /// schema defaults as its Ajv validation assigns them. `existed`: the
    /// file was there (conf then reads it through Ajv first, so a schema
    /// default wins over a `defaults` value for a key the file lacks; a new
    /// store takes the `defaults` value). The document `doc` with them.
    pub fn open_merge(&self, doc: &Document, existed: bool) -> Value {
        self.open_merge_except(doc, existed, &HashSet::new())
    }

    fn open_merge_except(&self, doc: &Document, existed: bool, skip: &HashSet<String>) -> Value {
        let root = if existed {
            self.fill_document(doc.root())
                .unwrap_or_else(|| doc.root().clone())
        } else {
            doc.root().clone()
        };
        let map = root.as_object().cloned().unwrap_or_default();
        let missing = self
            .top
            .keys()
            .any(|k| !map.contains_key(k) && !skip.contains(&**k));
        if !missing {
            // everything there: conf leaves the file (and its key order) alone
            return if existed {
                root
            } else {
                self.fill_document(&root).unwrap_or(root)
            };
        }
        let mut merged = Map::new();
        for (k, v) in self.top.iter() {
            match map.get(k) {
                Some(have) => {
                    merged.insert(k.clone(), have.clone());
                }
                None if !skip.contains(&**k) => {
                    merged.insert(k.clone(), v.clone());
                }
                None => {}
            }
        }
        for (k, v) in map.iter() {
            if !merged.contains_key(k) {
                merged.insert(k.clone(), v.clone());
            }
        }
        let merged = Value::Object(Arc::new(merged));
        // conf validates the merged store again: defaults inside `defaults` values
        self.fill_document(&merged).unwrap_or(merged)
    }

    /// The defaults re-applied to a document `sanitize` dropped parts of, as if
    /// the file had been opened without them (`defaults` values for the
    /// top-level keys it lacks, except those in `skip`, then schema defaults).
    pub(crate) fn refill(&self, doc: &Document, skip: &HashSet<String>) -> Value {
        self.open_merge_except(doc, true, skip)
    }

    /// What the defaults would put at `path` if the document `root` did not
    /// hold a value there (the rest of `root` as it is): a top-level
    /// `defaults` value (with schema defaults filled in), or a schema default
    /// that applies there, or something inside one; `None` when nothing
    /// would be there (for example under an absent parent without a default).
    pub fn default_at(&self, root: &Value, path: &[String]) -> Option<Value> {
        let first = path.first()?;
        if let Some(top) = self.top.get(first) {
            let v = self.fill_at(top, &path[..1]);
            return descend(&v, &path[1..]);
        }
        let mut doc = Document::new(root.clone()).ok()?;
        // the deepest part of the path the document has
        let mut have = 0;
        while have < path.len() && doc.get(&path[..=have]).is_some() {
            have += 1;
        }
        let mut holes = Vec::new();
        if have == path.len() {
            // take the value away: a key is removed, an array element is a hole
            match doc.get(&path[..path.len() - 1]) {
                Some(Value::Array(_)) => {
                    let change = doc.plan_set(path, Value::Null);
                    doc.apply(&change.patch).ok()?;
                    holes.push(path.to_vec());
                }
                _ => {
                    let change = doc.plan_delete(path);
                    doc.apply(&change.patch).ok()?;
                }
            }
            have = path.len() - 1;
        }
        let mut touched = Touched::default();
        touched.mark(&path[..have], Mark::Removed);
        self.run(&mut doc, &touched, holes).ok()?;
        doc.get(path)
            .filter(|_| !self.is_hole_left(&doc, path))
            .cloned()
    }

    /// Whether `path` is still a hole left by `default_at` (no default came).
    fn is_hole_left(&self, doc: &Document, path: &[String]) -> bool {
        matches!(doc.get(&path[..path.len() - 1]), Some(Value::Array(_)))
            && matches!(doc.get(path), Some(Value::Null))
    }

    /// Whether the schema's defaults depend on conditions (`if`/`then`/`else`,
    /// `dependencies`): a change anywhere may make a default apply elsewhere.
    pub fn is_conditional(&self) -> bool {
        self.program.as_ref().is_some_and(|p| p.conditional)
    }

    /// The root schemas' nodes that can lead to defaults, through `$ref`s and
    /// `allOf`s (each once), with the program to look their children up in.
    fn root_nodes(&self) -> (Vec<&Node>, Option<&Program>) {
        let Some(prog) = &self.program else {
            return (Vec::new(), None);
        };
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        let mut stack: Vec<NodeId> = prog.roots.clone();
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            let n = &prog.nodes[id];
            if !n.matters {
                continue;
            }
            out.push(n);
            stack.extend(n.reference.iter().copied());
            stack.extend(n.all_of.iter().copied());
        }
        (out, Some(prog))
    }

    /// Whether a schema default can be assigned inside the value of the
    /// top-level key `k` (its property schema, a matching pattern or
    /// `additionalProperties` of a root schema, through `$ref`s and `allOf`s).
    pub fn fills_under(&self, k: &str) -> bool {
        let (nodes, Some(prog)) = self.root_nodes() else {
            return false;
        };
        let m = |c: &NodeId| prog.nodes[*c].matters;
        nodes.iter().any(|n| {
            n.properties.iter().any(|(name, c)| &**name == k && m(c))
                || n.patterns
                    .iter()
                    .any(|(p, c)| c.iter().any(m) && p.matches(k))
                || (!n.names.contains(k) && n.additional.iter().any(m))
        })
    }

    /// The top-level keys [`Defaults::fills_under`] is true for by name
    /// (properties of the root schemas), and whether other keys may be
    /// (a pattern or `additionalProperties` that can assign defaults).
    pub fn filled_keys(&self) -> (HashSet<Str>, bool) {
        let mut names = HashSet::new();
        let mut others = false;
        let (nodes, Some(prog)) = self.root_nodes() else {
            return (names, others);
        };
        let m = |c: &NodeId| prog.nodes[*c].matters;
        for n in nodes {
            for (name, c) in &n.properties {
                if m(c) {
                    names.insert(name.clone());
                }
            }
            others |= n.patterns.iter().any(|(_, c)| c.iter().any(m)) || n.additional.iter().any(m);
        }
        (names, others)
    }

    /// `value` at the top-level key `k`, with the schema defaults Ajv
    /// assigns inside it.
    pub fn fill_at_key(&self, k: &str, value: &Value) -> Value {
        self.fill_at(value, &[k.to_string()])
    }

    /// `value` placed at the top-level `path`, with the schema defaults Ajv
    /// assigns inside it.
    fn fill_at(&self, value: &Value, path: &[String]) -> Value {
        let mut m = Map::new();
        m.insert(Str::from(path[0].as_str()), value.clone());
        let Ok(mut doc) = Document::new(Value::Object(Arc::new(m))) else {
            return value.clone();
        };
        let mut touched = Touched::default();
        touched.mark(path, Mark::Wrote);
        let _ = self.run(&mut doc, &touched, Vec::new());
        doc.get(path).cloned().unwrap_or_else(|| value.clone())
    }
}

fn descend(v: &Value, rest: &[String]) -> Option<Value> {
    let mut node = v;
    for seg in rest {
        node = match node {
            Value::Object(m) => m.get(seg)?,
            Value::Array(a) => a.get(is_array_index(seg)? as usize)?,
            _ => return None,
        };
    }
    Some(node.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{parse, to_json};
    use serde_json::json;

    fn doc(s: &str) -> Document {
        Document::new(parse(s.as_bytes()).unwrap()).unwrap()
    }
    fn text(v: &Value) -> String {
        String::from_utf8(to_json(v, false)).unwrap()
    }
    fn defaults(schema: Json) -> Defaults {
        Defaults::new(None, Some(&schema), None).unwrap()
    }
    fn fill(d: &Defaults, s: &str) -> String {
        let dd = doc(s);
        text(
            &d.fill_document(dd.root())
                .unwrap_or_else(|| dd.root().clone()),
        )
    }
    fn segs(p: &str) -> Vec<String> {
        crate::path::segments(p, true).unwrap()
    }

    #[test]
    fn nothing_is_created_under_an_absent_parent() {
        let d = defaults(json!({
            "c": { "type": "object", "properties": { "k": { "type": "boolean", "default": true } } }
        }));
        assert_eq!(fill(&d, "{}"), "{}");
        assert_eq!(fill(&d, r#"{"c":{}}"#), r#"{"c":{"k":true}}"#);
        assert!(d.default_at(&parse(b"{}").unwrap(), &segs("c.k")).is_none());
        assert_eq!(
            d.default_at(&parse(br#"{"c":{"k":false}}"#).unwrap(), &segs("c.k"))
                .map(|v| text(&v)),
            Some("true".into())
        );
    }

    #[test]
    fn defaults_follow_ajvs_order_and_fill_inside_defaults() {
        let d = defaults(json!({
            "a": { "type": "object", "properties": { "x": { "default": 1 } },
                   "allOf": [ { "properties": { "y": { "default": 2 } } } ] },
            "o": { "type": "object", "default": {}, "properties": {
                "x": { "type": "object", "default": {}, "properties": {
                    "y": { "default": { "z": 1 }, "properties": { "w": { "default": 2 } } } } } } },
            "r": { "type": "object", "properties": { "n": { "$ref": "#/properties/r" }, "v": { "default": 0 } } },
            "t": { "type": "array", "items": [ { "type": "number" }, { "default": 2 } ] },
            "i": { "type": "array", "items": { "type": "object", "properties": { "x": { "default": 0 } } } },
            "pp": { "type": "object", "patternProperties": { "^p": { "type": "object", "properties": { "x": { "default": "pp" } } } },
                    "additionalProperties": { "type": "object", "properties": { "y": { "default": "ap" } } } },
            "dep": { "type": "object", "properties": { "x": { "default": 1 } },
                     "dependencies": { "x": { "properties": { "y": { "default": "y" } } } } }
        }));
        assert_eq!(
            fill(
                &d,
                r#"{"a":{},"r":{"n":{"n":{}}},"t":[],"i":[{},{"x":5},3],"pp":{"p1":{},"q":{}},"dep":{}}"#
            ),
            r#"{"a":{"y":2,"x":1},"r":{"n":{"n":{"v":0},"v":0},"v":0},"t":[null,2],"i":[{"x":0},{"x":5},3],"pp":{"p1":{"x":"pp"},"q":{"y":"ap"}},"dep":{"x":1,"y":"y"},"o":{"x":{"y":{"z":1,"w":2}}}}"#
        );
    }

    #[test]
    fn conditions_are_evaluated_before_the_objects_own_defaults_as_ajv_does() {
        let d = defaults(json!({
            "a": { "type": "object", "properties": { "m": { "default": 1 } },
                   "if": { "properties": { "m": { "const": 1 } }, "required": ["m"] },
                   "then": { "properties": { "y": { "default": 2 } } },
                   "else": { "properties": { "z": { "default": 3 } } } }
        }));
        assert_eq!(fill(&d, r#"{"a":{}}"#), r#"{"a":{"z":3,"m":1}}"#);
        assert_eq!(fill(&d, r#"{"a":{"m":1}}"#), r#"{"a":{"m":1,"y":2}}"#);
    }

    #[test]
    fn a_default_inside_a_composite_rule_is_refused_as_ajv_refuses_it() {
        for bad in [
            json!({ "a": { "anyOf": [ { "properties": { "x": { "default": 1 } } } ] } }),
            json!({ "a": { "oneOf": [ { "properties": { "x": { "default": 1 } } } ] } }),
            json!({ "a": { "not": { "properties": { "x": { "default": 1 } } } } }),
            json!({ "a": { "type": "array", "contains": { "properties": { "x": { "default": 1 } } } } }),
            json!({ "a": { "if": { "properties": { "x": { "default": 1 } } }, "then": { "required": ["x"] } } }),
            json!({ "a": { "anyOf": [ { "$ref": "#/properties/b" } ] }, "b": { "properties": { "x": { "default": 9 } } } }),
        ] {
            let e = Defaults::new(None, Some(&bad), None).unwrap_err();
            assert!(e.is_type_error());
            assert!(e.to_string().contains("default is ignored"), "{e}");
        }
        // an `if` without a `then`/`else` is not compiled by Ajv: accepted
        let ok = json!({ "a": { "if": { "properties": { "x": { "default": 1 } } }, "then": {} } });
        assert!(Defaults::new(None, Some(&ok), None)
            .unwrap()
            .program
            .is_none());
    }

    #[test]
    fn a_change_fills_only_what_it_touched() {
        let d = defaults(json!({
            "a": { "type": "boolean", "default": true },
            "o": { "type": "object", "default": {}, "properties": { "t": { "type": "string", "default": "" } } }
        }));
        // `missing` lacks its defaults: a change elsewhere does not walk to it
        let mut dd = doc(r#"{"a":false,"b":1,"o":{"t":"X"}}"#);
        let c = dd.plan_delete(&segs("a"));
        dd.apply(&c.patch).unwrap();
        let extra = d.fill_changed(&mut dd, &c.patch, Vec::new()).unwrap();
        assert_eq!(text(dd.root()), r#"{"b":1,"o":{"t":"X"},"a":true}"#);
        assert_eq!(extra.patch.len(), 1);
        let c = dd.plan_delete(&segs("o.t"));
        dd.apply(&c.patch).unwrap();
        d.fill_changed(&mut dd, &c.patch, Vec::new()).unwrap();
        assert_eq!(text(dd.root()), r#"{"b":1,"o":{"t":""},"a":true}"#);
        let c = dd.plan_set(&segs("o"), parse(b"{}").unwrap());
        dd.apply(&c.patch).unwrap();
        let extra = d.fill_changed(&mut dd, &c.patch, Vec::new()).unwrap();
        assert_eq!(text(dd.root()), r#"{"b":1,"o":{"t":""},"a":true}"#);
        // undone exactly by its inverse
        dd.apply(&extra.inverse).unwrap();
        assert_eq!(text(dd.root()), r#"{"b":1,"o":{},"a":true}"#);
        // a scalar set under no condition is not even walked
        let c = dd.plan_set(&segs("b"), Value::Number(2.0));
        dd.apply(&c.patch).unwrap();
        assert!(d
            .fill_changed(&mut dd, &c.patch, Vec::new())
            .unwrap()
            .is_empty());
    }

    #[test]
    fn a_deleted_tuple_element_gets_its_default_back() {
        let d = defaults(
            json!({ "t": { "type": "array", "items": [ { "default": "a" }, { "default": "b" } ] } }),
        );
        let mut dd = doc(r#"{"t":["x","y"]}"#);
        let c = dd.plan_delete(&segs("t.0"));
        dd.apply(&c.patch).unwrap();
        d.fill_changed(&mut dd, &c.patch, vec![segs("t.0")])
            .unwrap();
        assert_eq!(text(dd.root()), r#"{"t":["a","y"]}"#);
        assert_eq!(
            d.default_at(dd.root(), &segs("t.1")).map(|v| text(&v)),
            Some(r#""b""#.into())
        );
    }

    #[test]
    fn open_merge_follows_conf_for_new_and_existing_files() {
        let mut top = Map::new();
        top.insert(Str::from("d"), Value::Number(1.0));
        top.insert(Str::from("only"), Value::Bool(true));
        let schema = json!({ "d": { "default": 2 }, "s": { "default": 3 } });
        let d = Defaults::new(Some(Arc::new(top)), Some(&schema), None).unwrap();
        // a new store: `defaults` first, and they win over schema defaults
        assert_eq!(
            text(&d.open_merge(&doc("{}"), false)),
            r#"{"d":1,"only":true,"s":3}"#
        );
        // an existing file is read through Ajv first: the schema default wins
        assert_eq!(
            text(&d.open_merge(&doc(r#"{"z":0}"#), true)),
            r#"{"d":2,"only":true,"z":0,"s":3}"#
        );
        // everything there: key order kept
        assert_eq!(
            text(&d.open_merge(&doc(r#"{"z":0,"only":1,"d":5}"#), true)),
            r#"{"z":0,"only":1,"d":5,"s":3}"#
        );
        assert_eq!(
            d.default_at(&parse(b"{}").unwrap(), &segs("only"))
                .map(|v| text(&v)),
            Some("true".into())
        );
    }

    #[test]
    fn root_schema_defaults_apply_after_the_properties_map() {
        let props = json!({ "a": { "default": 1 } });
        let root = json!({ "type": "object", "properties": { "b": { "default": 2 }, "a": { "default": 9 } } });
        let d = Defaults::new(None, Some(&props), Some(&root)).unwrap();
        assert_eq!(fill(&d, "{}"), r#"{"a":1,"b":2}"#);
    }
}
