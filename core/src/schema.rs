//! Schema validation (JSON Schema via the `jsonschema` crate) with conf's message
//! format and Ajv's wording, and Ajv-style `useDefaults`.
//!
//! electron-store's `schema` option is a map of top-level properties: each one is
//! compiled on its own, so a change is checked against the schemas of the
//! top-level keys it touches only (properties are independent there). A
//! `rootSchema` is checked against the whole document.
//!
//! The validator decides whether a document is valid; a failure is then
//! explained as conf reports it: Ajv's errors, in Ajv's order (`ajv`), the
//! top-level keys in schema order as in conf's `{ type: 'object', properties }`.

use std::collections::HashSet;

pub(crate) mod ajv;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::Validator;

use crate::defaults::Defaults;
use crate::doc::Document;
use crate::error::{Error, Result};
use crate::value::{depth, Value};

/// A JSON Schema as given in the options.
pub type Json = serde_json::Value;

/// Parses a schema option's JSON text.
pub fn parse_json(text: &str) -> std::result::Result<Json, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

pub(crate) use crate::serde_conv::js_number;
pub use crate::serde_conv::{from_serde, to_serde};

/// Ajv's wording for an error.
fn ajv_message(kind: &ValidationErrorKind, fallback: String) -> String {
    use ValidationErrorKind as K;
    match kind {
        K::Type { kind } => match kind {
            TypeKind::Single(t) => format!("must be {}", t.as_str()),
            TypeKind::Multiple(set) => format!(
                "must be {}",
                set.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(",")
            ),
        },
        K::Enum { .. } => "must be equal to one of the allowed values".into(),
        K::Constant { .. } => "must be equal to constant".into(),
        K::Minimum { limit } => format!("must be >= {}", js_number(limit)),
        K::Maximum { limit } => format!("must be <= {}", js_number(limit)),
        K::ExclusiveMinimum { limit } => format!("must be > {}", js_number(limit)),
        K::ExclusiveMaximum { limit } => format!("must be < {}", js_number(limit)),
        K::MinLength { limit } => format!("must NOT have fewer than {limit} characters"),
        K::MaxLength { limit } => format!("must NOT have more than {limit} characters"),
        K::MinItems { limit } => format!("must NOT have fewer than {limit} items"),
        K::MaxItems { limit } => format!("must NOT have more than {limit} items"),
        K::MinProperties { limit } => format!("must NOT have fewer than {limit} properties"),
        K::MaxProperties { limit } => format!("must NOT have more than {limit} properties"),
        K::Pattern { pattern } => format!("must match pattern \"{pattern}\""),
        K::Required { property } => format!(
            "must have required property '{}'",
            property
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| property.to_string())
        ),
        K::AdditionalProperties { .. } => "must NOT have additional properties".into(),
        K::Format { format } => format!("must match format \"{format}\""),
        K::MultipleOf { .. } => fallback
            .split_once("is not a multiple of ")
            .map(|(_, n)| format!("must be multiple of {n}"))
            .unwrap_or(fallback),
        K::UniqueItems => "must NOT have duplicate items".into(),
        K::AnyOf { .. } => "must match a schema in anyOf".into(),
        K::OneOfNotValid { .. } | K::OneOfMultipleValid { .. } => {
            "must match exactly one schema in oneOf".into()
        }
        K::Not { .. } => "must NOT be valid".into(),
        _ => fallback,
    }
}

/// A compiled schema.
pub struct Schema {
    /// electron-store's `schema` as conf validates it, `{ type: 'object',
    /// properties: schema }` (so a `$ref` reaches another property's schema),
    /// compiled once; a top-level key is checked on its own as `{ key: value }`.
    properties: Option<(Validator, Json)>,
    /// The raw property schemas, in schema order.
    property_schemas: serde_json::Map<String, serde_json::Value>,
    /// `rootSchema`: the whole document.
    root: Option<(Validator, serde_json::Value)>,
    /// `defaultsLayer`: what is checked is the view the app sees (the user's
    /// document over the defaults), not the document (see `layer`).
    layer: std::sync::OnceLock<std::sync::Arc<crate::layer::Layer>>,
}

impl std::fmt::Debug for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schema")
            .field("properties", &self.property_schemas.len())
            .field("root", &self.root.is_some())
            .finish()
    }
}

/// The schema as Ajv 8 reads it, for the validator: draft-07 keywords (tuple
/// `items`, `additionalItems`, `dependencies`), and a `$ref` beside other
/// keywords applies both (draft-07 validators ignore the others: the `$ref`
/// goes into an `allOf`).
fn as_ajv_reads_it(schema: &Json) -> Json {
    match schema {
        Json::Object(m) => {
            let mut out = serde_json::Map::with_capacity(m.len());
            let wrap = m.contains_key("$ref") && m.len() > 1;
            for (k, v) in m {
                if wrap && k == "$ref" {
                    continue;
                }
                // (`const`, `enum`, `default` and `examples` are data, not schemas)
                let v = if matches!(k.as_str(), "const" | "enum" | "default" | "examples") {
                    v.clone()
                } else {
                    as_ajv_reads_it(v)
                };
                out.insert(k.clone(), v);
            }
            if wrap {
                let reference = serde_json::json!({ "$ref": m["$ref"].clone() });
                match out.get_mut("allOf") {
                    Some(Json::Array(list)) => list.insert(0, reference),
                    _ => {
                        out.insert("allOf".into(), Json::Array(vec![reference]));
                    }
                }
            }
            Json::Object(out)
        }
        Json::Array(list) => Json::Array(list.iter().map(as_ajv_reads_it).collect()),
        other => other.clone(),
    }
}

fn compile(schema: &serde_json::Value) -> std::result::Result<Validator, String> {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&as_ajv_reads_it(schema))
        .map_err(|e| {
            let at = e.instance_path().as_str().to_string();
            if at.is_empty() {
                e.to_string()
            } else {
                format!("{e} (at {at})")
            }
        })
}

impl Schema {
    /// Compiles electron-store's `schema` (a properties map) and/or a `rootSchema`.
    pub fn new(
        properties: Option<&serde_json::Value>,
        root: Option<&serde_json::Value>,
    ) -> Result<Schema> {
        let mut out = Schema {
            properties: None,
            property_schemas: serde_json::Map::new(),
            root: None,
            layer: std::sync::OnceLock::new(),
        };
        if let Some(p) = properties {
            let map = p.as_object().ok_or_else(|| {
                Error::InvalidArgument("The `schema` option must be an object.".into())
            })?;
            let whole = serde_json::json!({ "type": "object", "properties": map });
            let v = compile(&whole).map_err(|e| {
                // name the property at fault when the error says where it is
                let key = map
                    .keys()
                    .find(|k| {
                        e.contains(&format!(
                            "/properties/{}",
                            k.replace('~', "~0").replace('/', "~1")
                        ))
                    })
                    .or_else(|| {
                        map.iter()
                            .find(|(_, s)| compile(s).is_err())
                            .map(|(k, _)| k)
                    });
                let what = match key {
                    Some(k) => format!("schema of `{k}`"),
                    None => "`schema` option".into(),
                };
                Error::InvalidArgument(format!("The {what} is not a valid JSON Schema: {e}"))
            })?;
            out.properties = Some((v, whole));
            out.property_schemas = map.clone();
        }
        if let Some(r) = root {
            let v = compile(r).map_err(|e| {
                Error::InvalidArgument(format!("The rootSchema is not a valid JSON Schema: {e}"))
            })?;
            out.root = Some((v, r.clone()));
        }
        Ok(out)
    }

    pub fn is_empty(&self) -> bool {
        self.property_schemas.is_empty() && self.root.is_none()
    }

    /// Every violation: (JSON pointer of the value, Ajv message, unexpected
    /// property names for `additionalProperties`), checking only the top-level
    /// keys in `touched` (all when `None`).
    fn violations(
        &self,
        doc: &Document,
        touched: Option<&[String]>,
    ) -> Vec<(String, String, Vec<String>)> {
        let mut out = Vec::new();
        let map = doc.map();
        let mut check =
            |prefix: &str, v: &Validator, schema: &Json, key: Option<&str>, instance: &Value| {
                // the validator recurses on the instance's nesting: a deep one is
                // checked on a thread with a stack for it
                out.extend(crate::deep::run(depth(instance) + 1, || {
                    instance_violations(prefix, v, schema, key, instance)
                }));
            };
        // in schema order, as Ajv walks conf's `properties`
        if let Some((v, whole)) = &self.properties {
            for k in self.property_schemas.keys() {
                if touched.is_some_and(|keys| !keys.iter().any(|t| t == k)) {
                    continue;
                }
                if let Some(instance) = map.get(k.as_str()) {
                    // the key alone, under conf's `{ type: 'object', properties }`
                    check("", v, whole, Some(k), instance);
                }
            }
        }
        if let Some((root, schema)) = &self.root {
            check("", root, schema, None, doc.root());
        }
        out
    }

    /// conf-format messages (`` `foo/bar` must be number ``) for the document,
    /// checking only the top-level keys in `touched` (all when `None`).
    pub fn errors(&self, doc: &Document, touched: Option<&[String]>) -> Vec<String> {
        if let Some(layer) = self.layer.get() {
            // the view the app sees; a conditional default may change any key
            let touched = if layer.is_conditional() {
                None
            } else {
                touched
            };
            return match layer.view_document(doc) {
                Ok(view) => self.errors_of(&view, touched),
                Err(e) => vec![e.to_string()],
            };
        }
        self.errors_of(doc, touched)
    }

    /// This schema over the view of a user's document `root` that is not the
    /// store's (`validateData`): its errors.
    pub fn layered_errors_of(&self, root: &Value) -> Option<Vec<String>> {
        let layer = self.layer.get()?;
        Some(match Document::new(layer.view_of(root)) {
            Ok(view) => self.errors_of(&view, None),
            Err(_) => vec!["`` must be object".into()],
        })
    }

    /// From now on the schema checks the view of the document through
    /// `layer` (`defaultsLayer`; set once, when the instance opens).
    pub fn set_layer(&self, layer: std::sync::Arc<crate::layer::Layer>) {
        let _ = self.layer.set(layer);
    }

    /// The layer the schema checks through, if any.
    pub fn layer(&self) -> Option<&std::sync::Arc<crate::layer::Layer>> {
        self.layer.get()
    }

    /// Pointers of every violation in the view `doc` (for repairing a
    /// layered store), as paths.
    pub fn violation_paths(&self, doc: &Document) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        for (ptr, _, unexpected) in self.violations(doc, None) {
            let Ok(path) = crate::path::from_pointer(&ptr) else {
                continue;
            };
            if unexpected.is_empty() {
                out.push(path);
            } else {
                for k in unexpected {
                    let mut p = path.clone();
                    p.push(k);
                    out.push(p);
                }
            }
        }
        out
    }

    fn errors_of(&self, doc: &Document, touched: Option<&[String]>) -> Vec<String> {
        self.violations(doc, touched)
            .into_iter()
            .map(|(ptr, msg, _)| {
                // conf prints Ajv's instancePath without its leading '/'
                let shown = ptr.strip_prefix('/').unwrap_or(&ptr).to_string();
                format!("`{shown}` {msg}")
            })
            .collect()
    }

    /// The document with what fails the schema repaired or dropped: invalid values
    /// are removed, unexpected properties are dropped, and the defaults are
    /// refilled as if the file had been opened without the parts removed (a
    /// top-level `defaults` value for a key it lacks, merged first as conf
    /// merges them; schema defaults where Ajv puts them). A default that fails
    /// the schema itself is not refilled again. `None` when it cannot be made
    /// valid (for example a required property without a default).
    pub fn sanitize(&self, doc: &Document, defaults: &Defaults) -> Option<Value> {
        let mut cur = doc.clone();
        let mut refused: HashSet<String> = HashSet::new();
        for _ in 0..16 {
            cur = Document::new(defaults.refill(&cur, &refused)).ok()?;
            let found = self.violations(&cur, None);
            if found.is_empty() {
                return Some(cur.root().clone());
            }
            let mut paths: Vec<Vec<String>> = Vec::new();
            for (ptr, _, unexpected) in found {
                let Ok(path) = crate::path::from_pointer(&ptr) else {
                    continue;
                };
                if unexpected.is_empty() {
                    if !path.is_empty() {
                        paths.push(path);
                    }
                } else {
                    for k in unexpected {
                        let mut p = path.clone();
                        p.push(k);
                        paths.push(p);
                    }
                }
            }
            order_for_removal(&mut paths);
            for p in &paths {
                // a `defaults` value that fails the schema: dropped for good
                if let [k] = p.as_slice() {
                    if let (Some(d), Some(v)) = (defaults.top().get(k), cur.get(p)) {
                        if d.eq_exact(v) {
                            refused.insert(k.clone());
                        }
                    }
                }
            }
            let mut progressed = false;
            for p in paths {
                if cur.get(&p).is_some() {
                    let op = crate::doc::PatchOp::Remove { path: p };
                    if cur.apply(std::slice::from_ref(&op)).is_ok() {
                        progressed = true;
                    }
                }
            }
            if !progressed {
                return None;
            }
        }
        None
    }

    /// Checks a document; `E_SCHEMA` with conf's message when it fails.
    pub fn check(&self, doc: &Document, touched: Option<&[String]>) -> Result<()> {
        let errors = self.errors(doc, touched);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Schema(format!(
                "Config schema violation: {}",
                errors.join("; ")
            )))
        }
    }

    /// Top-level defaults (conf: `schema[key].default`), in schema order.
    pub fn top_level_defaults(&self) -> Vec<(String, Value)> {
        self.property_schemas
            .iter()
            .filter_map(|(k, s)| s.get("default").map(|d| (k.clone(), from_serde(d))))
            .collect()
    }
}

/// `violations` of one instance against one validator (`prefix`: the
/// instance's JSON Pointer; `key`: the instance is that key alone, checked
/// under conf's `{ type: 'object', properties }`).
fn instance_violations(
    prefix: &str,
    v: &Validator,
    schema: &Json,
    key: Option<&str>,
    instance: &Value,
) -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    let inst = match key {
        Some(k) => {
            let mut one = serde_json::Map::with_capacity(1);
            one.insert(k.to_string(), to_serde(instance));
            Json::Object(one)
        }
        None => to_serde(instance),
    };
    if v.is_valid(&inst) {
        return out;
    }
    // Ajv's errors where the walk reproduces them; else the validator's, in Ajv's words
    if let Ok(found) = ajv::errors(schema, &inst) {
        if !found.is_empty() {
            for e in found {
                out.push((
                    format!("{prefix}{}", e.path),
                    e.message,
                    e.additional.into_iter().collect(),
                ));
            }
            return out;
        }
    }
    for e in v.iter_errors(&inst) {
        let unexpected = match e.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => unexpected.clone(),
            _ => Vec::new(),
        };
        let ptr = format!("{prefix}{}", e.instance_path().as_str());
        out.push((ptr, ajv_message(e.kind(), e.to_string()), unexpected));
    }
    out
}

/// Orders paths to remove one by one: deepest and highest array indices first,
/// so earlier removals do not shift later paths; duplicates dropped.
pub(crate) fn order_for_removal(paths: &mut Vec<Vec<String>>) {
    paths.sort_by(|a, b| {
        b.len().cmp(&a.len()).then_with(|| {
            let idx = |p: &Vec<String>| p.last().and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
            idx(b).cmp(&idx(a))
        })
    });
    paths.dedup();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{parse, to_json};
    use serde_json::json;

    fn doc(s: &str) -> Document {
        Document::new(parse(s.as_bytes()).unwrap()).unwrap()
    }

    #[test]
    fn messages_follow_conf_and_ajv() {
        let schema = Schema::new(
            Some(&json!({
                "foo": { "type": "object", "properties": { "bar": { "type": "number" } } },
                "e": { "enum": ["a", "b"] },
                "n": { "type": "number", "minimum": 2, "maximum": 10 },
                "s": { "type": "string", "minLength": 3, "pattern": "^a" },
                "m": { "type": "string", "format": "email" },
                "o": { "type": "object", "required": ["x"], "additionalProperties": false, "properties": { "x": {} } }
            })),
            None,
        )
        .unwrap();
        let err = |s: &str| schema.errors(&doc(s), None).join("; ");
        assert_eq!(err(r#"{"foo":{"bar":"1"}}"#), "`foo/bar` must be number");
        assert_eq!(
            err(r#"{"e":"c"}"#),
            "`e` must be equal to one of the allowed values"
        );
        assert_eq!(err(r#"{"n":1}"#), "`n` must be >= 2");
        assert_eq!(err(r#"{"n":10.5}"#), "`n` must be <= 10");
        assert!(err(r#"{"s":"b"}"#).contains("`s` must NOT have fewer than 3 characters"));
        assert!(err(r#"{"s":"bcd"}"#).contains("`s` must match pattern \"^a\""));
        assert_eq!(err(r#"{"m":"nope"}"#), "`m` must match format \"email\"");
        assert_eq!(err(r#"{"o":{}}"#), "`o` must have required property 'x'");
        assert_eq!(
            err(r#"{"o":{"x":1,"y":2}}"#),
            "`o` must NOT have additional properties"
        );
        assert_eq!(err(r#"{"other":1,"n":5}"#), "");
        let e = schema.check(&doc(r#"{"n":"x"}"#), None).unwrap_err();
        assert_eq!(e.code(), "E_SCHEMA");
        assert_eq!(e.to_string(), "Config schema violation: `n` must be number");
        // only the touched keys are checked
        assert!(schema
            .check(&doc(r#"{"n":"x","e":"a"}"#), Some(&["e".into()]))
            .is_ok());
    }

    #[test]
    fn root_schema_checks_the_whole_document() {
        let schema = Schema::new(None, Some(&json!({"type":"object","required":["a"]}))).unwrap();
        assert_eq!(
            schema.errors(&doc("{}"), None),
            ["`` must have required property 'a'"]
        );
        assert!(schema.errors(&doc(r#"{"a":1}"#), None).is_empty());
    }

    #[test]
    fn sanitize_drops_only_the_invalid_parts() {
        let schema = Schema::new(
            Some(&json!({
                "theme": { "enum": ["dark", "light"], "default": "dark" },
                "size": { "type": "number" },
                "list": { "type": "array", "items": { "type": "number" } },
                "win": { "type": "object", "additionalProperties": false, "properties": { "w": { "type": "number" } } }
            })),
            None,
        )
        .unwrap();
        let d = doc(
            r#"{"theme":"neon","size":"big","list":[1,"x",3,"y"],"win":{"w":1,"junk":2},"keep":true}"#,
        );
        let defaults = |top: Option<&str>, props: &Json| {
            let top = top.map(|t| match parse(t.as_bytes()).unwrap() {
                Value::Object(m) => m,
                _ => unreachable!(),
            });
            Defaults::new(top, Some(props), None).unwrap()
        };
        let props = json!({
            "theme": { "enum": ["dark", "light"], "default": "dark" },
            "size": { "type": "number" },
            "list": { "type": "array", "items": { "type": "number" } },
            "win": { "type": "object", "additionalProperties": false, "properties": { "w": { "type": "number" } } }
        });
        let fixed = schema.sanitize(&d, &defaults(None, &props)).unwrap();
        assert_eq!(
            String::from_utf8(to_json(&fixed, false)).unwrap(),
            r#"{"list":[1,3],"win":{"w":1},"keep":true,"theme":"dark"}"#
        );
        let strict =
            Schema::new(None, Some(&json!({"type":"object","required":["must"]}))).unwrap();
        assert!(strict.sanitize(&doc("{}"), &Defaults::default()).is_none());
        // a dropped key comes back from the `defaults` option, merged first as conf merges it
        let keep = json!({ "keep": { "type": "number" } });
        let schema = Schema::new(Some(&keep), None).unwrap();
        let fixed = schema
            .sanitize(
                &doc(r#"{"keep":"x","other":2}"#),
                &defaults(Some(r#"{"keep":1}"#), &keep),
            )
            .unwrap();
        assert_eq!(
            String::from_utf8(to_json(&fixed, false)).unwrap(),
            r#"{"keep":1,"other":2}"#
        );
        // a `defaults` value the schema refuses is dropped, not refilled forever
        let fixed = schema
            .sanitize(
                &doc(r#"{"keep":"x","other":2}"#),
                &defaults(Some(r#"{"keep":"bad"}"#), &keep),
            )
            .unwrap();
        assert_eq!(
            String::from_utf8(to_json(&fixed, false)).unwrap(),
            r#"{"other":2}"#
        );
    }

    #[test]
    fn an_invalid_schema_is_a_clear_error() {
        let e = Schema::new(Some(&json!({"a": {"type": "nonsense"}})), None)
            .err()
            .unwrap();
        assert!(e.is_type_error());
        assert!(e.to_string().contains("schema of `a`"));
    }
}
