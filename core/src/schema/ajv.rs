//! Ajv 8's error list for a value that fails a schema: the same errors, in the
//! same order, with the same messages, as conf's `new Ajv({ allErrors: true })`
//! reports them (draft-07 vocabularies, ajv 8.x `lib/vocabularies/*`).
//!
//! Whether a value is valid is decided by the `jsonschema` validator; this
//! walk only explains a failure the way Ajv does. It follows Ajv's generated
//! code:
//! - a schema's keywords run in groups: the type-independent ones (`$ref`,
//!   `const`, `enum`, `not`, `anyOf`, `oneOf`, `allOf`, `if`), then the number,
//!   string, array and object groups, each only for data of its type, each in
//!   the order Ajv registers its keywords (`items`, `additionalItems` and
//!   `contains` go before `uniqueItems`);
//! - the `type` error comes first, unless the schema has a single type with
//!   keywords of that type's group: then it is reported in that group's place;
//! - composite keywords keep the errors of their failing branches before their
//!   own (`anyOf`, `oneOf`, `contains`, `propertyNames`, `if`'s clause); `not`
//!   and `if` themselves report none from their subschema;
//! - `additionalProperties: false` reports one error per extra property.
//!
//! Schemas using keywords Ajv's draft-07 does not have (2019-09/2020-12's
//! `prefixItems`, `dependentRequired`, `unevaluated*`, dynamic references...)
//! or references other than local JSON pointers are `Unsupported`: the caller
//! then words the validator's own errors.

use std::collections::HashMap;

use jsonschema::Validator;
use serde_json::Value as Json;

/// One Ajv error: the value's JSON pointer (Ajv's `instancePath`), the message,
/// and for `additionalProperties: false` the property at fault.
#[derive(Debug, Clone, PartialEq)]
pub struct AjvError {
    pub path: String,
    pub message: String,
    pub additional: Option<String>,
}

/// The schema uses something this walk does not reproduce.
#[derive(Debug)]
pub struct Unsupported;

type R<T> = Result<T, Unsupported>;

/// Keywords outside Ajv's draft-07 vocabularies that change validation.
const UNSUPPORTED: &[&str] = &[
    "prefixItems",
    "dependentRequired",
    "dependentSchemas",
    "unevaluatedProperties",
    "unevaluatedItems",
    "minContains",
    "maxContains",
    "$dynamicRef",
    "$dynamicAnchor",
    "$recursiveRef",
    "$recursiveAnchor",
];

const NUMBER_GROUP: &[&str] = &[
    "maximum",
    "minimum",
    "exclusiveMaximum",
    "exclusiveMinimum",
    "multipleOf",
    "format",
];
const STRING_GROUP: &[&str] = &["maxLength", "minLength", "pattern", "format"];
const ARRAY_GROUP: &[&str] = &[
    "maxItems",
    "minItems",
    "additionalItems",
    "items",
    "contains",
    "uniqueItems",
];
const OBJECT_GROUP: &[&str] = &[
    "maxProperties",
    "minProperties",
    "required",
    "propertyNames",
    "additionalProperties",
    "dependencies",
    "properties",
    "patternProperties",
];

/// References followed without the data going deeper: more is a cycle.
const MAX_DEPTH: usize = 256;

/// Ajv's errors for `data` against `schema` (the root for `$ref`s), in Ajv's
/// order. Empty when Ajv would find nothing.
pub fn errors(schema: &Json, data: &Json) -> Result<Vec<AjvError>, Unsupported> {
    let mut walker = Walker {
        root: schema,
        depth: 0,
        patterns: HashMap::new(),
        formats: HashMap::new(),
    };
    let mut out = Vec::new();
    walker.validate(schema, data, "", &mut out)?;
    Ok(out)
}

/// Whether `data` passes `schema` (a subschema of `root`, which its `$ref`s
/// resolve against), as Ajv decides it (e.g. an `if` condition).
pub fn passes(root: &Json, schema: &Json, data: &Json) -> Result<bool, Unsupported> {
    let mut walker = Walker {
        root,
        depth: 0,
        patterns: HashMap::new(),
        formats: HashMap::new(),
    };
    walker.passes(schema, data, "")
}

/// Ajv's `must be <= 100`: a number as JavaScript prints it.
fn js_number(v: &Json) -> R<String> {
    if !v.is_number() {
        return Err(Unsupported);
    }
    Ok(crate::serde_conv::js_number(v))
}

fn child(path: &str, key: &str) -> String {
    let mut out = String::with_capacity(path.len() + key.len() + 1);
    out.push_str(path);
    out.push('/');
    for c in key.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}

/// Ajv's `checkDataType` for JSON data.
fn is_type(t: &str, v: &Json) -> R<bool> {
    Ok(match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "number" => v.is_number(),
        "integer" => v.as_f64().is_some_and(|f| f.fract() == 0.0),
        "string" => v.is_string(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => return Err(Unsupported),
    })
}

/// fast-deep-equal, which Ajv uses for `const`, `enum` and `uniqueItems`.
fn equal(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| equal(p, q))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w)))
        }
        _ => a == b,
    }
}

/// Ajv's `getSchemaTypes`: `type` (a name or a list) plus `nullable: true`.
fn schema_types(s: &serde_json::Map<String, Json>) -> R<Vec<String>> {
    let mut types = match s.get("type") {
        None => Vec::new(),
        Some(Json::String(t)) => vec![t.clone()],
        Some(Json::Array(list)) => list
            .iter()
            .map(|t| t.as_str().map(str::to_string).ok_or(Unsupported))
            .collect::<R<Vec<_>>>()?,
        Some(_) => return Err(Unsupported),
    };
    if s.get("nullable") == Some(&Json::Bool(true)) && !types.iter().any(|t| t == "null") {
        types.push("null".into());
    }
    Ok(types)
}

/// The text of Ajv's type error: `must be ${schema.type}` (a list prints joined by commas).
fn type_message(s: &serde_json::Map<String, Json>) -> String {
    match s.get("type") {
        Some(Json::String(t)) => format!("must be {t}"),
        Some(Json::Array(list)) => format!(
            "must be {}",
            list.iter()
                .map(|t| t.as_str().unwrap_or_default())
                .collect::<Vec<_>>()
                .join(",")
        ),
        _ => "must be".into(),
    }
}

/// Ajv's `alwaysValidSchema`, for the keywords that skip such subschemas.
fn always_valid(s: &Json) -> bool {
    match s {
        Json::Bool(b) => *b,
        Json::Object(m) => m.is_empty(),
        _ => false,
    }
}

/// The JSON pointer of a local reference (`#`, `#/definitions/x`), decoded.
pub(crate) fn resolve<'s>(root: &'s Json, reference: &str) -> R<&'s Json> {
    let pointer = reference.strip_prefix('#').ok_or(Unsupported)?;
    if pointer.is_empty() {
        return Ok(root);
    }
    if !pointer.starts_with('/') {
        return Err(Unsupported); // an anchor (`#foo`)
    }
    // a URI fragment: percent-encoded bytes, then a JSON pointer
    let mut bytes = Vec::with_capacity(pointer.len());
    let raw = pointer.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'%' && i + 3 <= raw.len() {
            let hex = std::str::from_utf8(&raw[i + 1..i + 3]).map_err(|_| Unsupported)?;
            bytes.push(u8::from_str_radix(hex, 16).map_err(|_| Unsupported)?);
            i += 3;
        } else {
            bytes.push(raw[i]);
            i += 1;
        }
    }
    let decoded = String::from_utf8(bytes).map_err(|_| Unsupported)?;
    root.pointer(&decoded).ok_or(Unsupported)
}

struct Walker<'s> {
    root: &'s Json,
    depth: usize,
    patterns: HashMap<String, Validator>,
    formats: HashMap<String, Validator>,
}

impl<'s> Walker<'s> {
    /// `pattern` as the validator tests it (an unanchored ECMA-262 search).
    fn matches(&mut self, pattern: &str, s: &str) -> R<bool> {
        if !self.patterns.contains_key(pattern) {
            let v = jsonschema::options()
                .build(&serde_json::json!({ "pattern": pattern }))
                .map_err(|_| Unsupported)?;
            self.patterns.insert(pattern.to_string(), v);
        }
        Ok(self.patterns[pattern].is_valid(&Json::String(s.to_string())))
    }

    /// `format` as the validator checks it.
    fn format_ok(&mut self, format: &str, data: &Json) -> R<bool> {
        if !self.formats.contains_key(format) {
            let v = jsonschema::options()
                .should_validate_formats(true)
                .build(&serde_json::json!({ "format": format }))
                .map_err(|_| Unsupported)?;
            self.formats.insert(format.to_string(), v);
        }
        Ok(self.formats[format].is_valid(data))
    }

    /// Whether `data` passes `schema` (errors discarded, as Ajv's
    /// `createErrors: false` subschemas).
    fn passes(&mut self, schema: &Json, data: &Json, path: &str) -> R<bool> {
        let mut scratch = Vec::new();
        self.validate(schema, data, path, &mut scratch)?;
        Ok(scratch.is_empty())
    }

    fn validate(
        &mut self,
        schema: &Json,
        data: &Json,
        path: &str,
        out: &mut Vec<AjvError>,
    ) -> R<()> {
        let s = match schema {
            Json::Bool(true) => return Ok(()),
            Json::Bool(false) => {
                push(out, path, "boolean schema is false".into());
                return Ok(());
            }
            Json::Object(s) => s,
            _ => return Err(Unsupported),
        };
        if s.keys().any(|k| UNSUPPORTED.contains(&k.as_str())) {
            return Err(Unsupported);
        }
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Unsupported);
        }
        let result = self.keywords(s, data, path, out);
        self.depth -= 1;
        result
    }

    fn keywords(
        &mut self,
        s: &serde_json::Map<String, Json>,
        data: &Json,
        path: &str,
        out: &mut Vec<AjvError>,
    ) -> R<()> {
        let types = schema_types(s)?;
        let uses = |group: &[&str]| group.iter().any(|k| s.contains_key(*k));
        // Ajv checks a single type with keywords of its own group in that group's place
        let deferred = types.len() == 1
            && match types[0].as_str() {
                "number" => uses(NUMBER_GROUP),
                "string" => uses(STRING_GROUP),
                "array" => uses(ARRAY_GROUP),
                "object" => uses(OBJECT_GROUP),
                _ => false,
            };
        if !types.is_empty() && !deferred {
            let mut ok = false;
            for t in &types {
                ok |= is_type(t, data)?;
            }
            if !ok {
                push(out, path, type_message(s));
            }
        }

        self.any_type_group(s, data, path, out)?;

        let groups: [(&str, &[&str]); 4] = [
            ("number", NUMBER_GROUP),
            ("string", STRING_GROUP),
            ("array", ARRAY_GROUP),
            ("object", OBJECT_GROUP),
        ];
        for (group, keywords) in groups {
            if !uses(keywords) {
                continue;
            }
            if is_type(group, data)? {
                match group {
                    "number" => self.number_group(s, data, path, out)?,
                    "string" => self.string_group(s, data, path, out)?,
                    "array" => self.array_group(s, data, path, out)?,
                    _ => self.object_group(s, data, path, out)?,
                }
            } else if deferred && types[0] == group {
                push(out, path, type_message(s));
            }
        }
        Ok(())
    }

    /// `$ref`, `const`, `enum`, `not`, `anyOf`, `oneOf`, `allOf`, `if`.
    fn any_type_group(
        &mut self,
        s: &serde_json::Map<String, Json>,
        data: &Json,
        path: &str,
        out: &mut Vec<AjvError>,
    ) -> R<()> {
        if let Some(reference) = s.get("$ref") {
            let target = resolve(self.root, reference.as_str().ok_or(Unsupported)?)?;
            self.validate(target, data, path, out)?;
        }
        if let Some(c) = s.get("const") {
            if !equal(data, c) {
                push(out, path, "must be equal to constant".into());
            }
        }
        if let Some(e) = s.get("enum") {
            let list = e.as_array().ok_or(Unsupported)?;
            if !list.iter().any(|v| equal(data, v)) {
                push(
                    out,
                    path,
                    "must be equal to one of the allowed values".into(),
                );
            }
        }
        if let Some(n) = s.get("not") {
            if self.passes(n, data, path)? {
                push(out, path, "must NOT be valid".into());
            }
        }
        if let Some(branches) = s.get("anyOf") {
            let branches = branches.as_array().ok_or(Unsupported)?;
            let mut failed = Vec::new();
            let mut valid = false;
            for b in branches {
                let mut errs = Vec::new();
                self.validate(b, data, path, &mut errs)?;
                if errs.is_empty() {
                    valid = true;
                    break;
                }
                failed.extend(errs);
            }
            if !valid {
                out.extend(failed);
                push(out, path, "must match a schema in anyOf".into());
            }
        }
        if let Some(branches) = s.get("oneOf") {
            let branches = branches.as_array().ok_or(Unsupported)?;
            let mut failed = Vec::new();
            let mut passing = 0;
            for b in branches {
                let mut errs = Vec::new();
                self.validate(b, data, path, &mut errs)?;
                if errs.is_empty() {
                    passing += 1;
                    if passing == 2 {
                        // Ajv generates the later branches inside the "not two yet" branch
                        break;
                    }
                }
                failed.extend(errs);
            }
            if passing != 1 {
                out.extend(failed);
                push(out, path, "must match exactly one schema in oneOf".into());
            }
        }
        if let Some(branches) = s.get("allOf") {
            for b in branches.as_array().ok_or(Unsupported)? {
                self.validate(b, data, path, out)?;
            }
        }
        if let Some(condition) = s.get("if") {
            let clause = if self.passes(condition, data, path)? {
                "then"
            } else {
                "else"
            };
            if let Some(sub) = s.get(clause) {
                let mut errs = Vec::new();
                self.validate(sub, data, path, &mut errs)?;
                if !errs.is_empty() {
                    out.extend(errs);
                    push(out, path, format!("must match \"{clause}\" schema"));
                }
            }
        }
        Ok(())
    }

    fn number_group(
        &mut self,
        s: &serde_json::Map<String, Json>,
        data: &Json,
        path: &str,
        out: &mut Vec<AjvError>,
    ) -> R<()> {
        let x = data.as_f64().ok_or(Unsupported)?;
        // Ajv's limitNumber: keyword, the comparison its message states
        for (keyword, ok) in [
            ("maximum", "<="),
            ("minimum", ">="),
            ("exclusiveMaximum", "<"),
            ("exclusiveMinimum", ">"),
        ] {
            if let Some(limit) = s.get(keyword) {
                let l = limit.as_f64().ok_or(Unsupported)?;
                let fails = match ok {
                    "<=" => x > l,
                    ">=" => x < l,
                    "<" => x >= l,
                    _ => x <= l,
                };
                if fails {
                    push(out, path, format!("must be {ok} {}", js_number(limit)?));
                }
            }
        }
        if let Some(m) = s.get("multipleOf") {
            let d = m.as_f64().ok_or(Unsupported)?;
            let res = x / d;
            if d == 0.0 || res != res.trunc() {
                push(out, path, format!("must be multiple of {}", js_number(m)?));
            }
        }
        // (ajv-formats' number formats — int32, float… — are not checked by the validator)
        Ok(())
    }

    fn string_group(
        &mut self,
        s: &serde_json::Map<String, Json>,
        data: &Json,
        path: &str,
        out: &mut Vec<AjvError>,
    ) -> R<()> {
        let text = data.as_str().ok_or(Unsupported)?;
        // Ajv's ucs2length: code points
        let len = text.chars().count() as f64;
        count_limits(s, len, ("maxLength", "minLength"), "characters", path, out)?;
        if let Some(p) = s.get("pattern") {
            let p = p.as_str().ok_or(Unsupported)?;
            if !self.matches(p, text)? {
                push(out, path, format!("must match pattern \"{p}\""));
            }
        }
        if let Some(f) = s.get("format") {
            let f = f.as_str().ok_or(Unsupported)?;
            if !self.format_ok(f, data)? {
                push(out, path, format!("must match format \"{f}\""));
            }
        }
        Ok(())
    }

    fn array_group(
        &mut self,
        s: &serde_json::Map<String, Json>,
        data: &Json,
        path: &str,
        out: &mut Vec<AjvError>,
    ) -> R<()> {
        let items = data.as_array().ok_or(Unsupported)?;
        let len = items.len() as f64;
        count_limits(s, len, ("maxItems", "minItems"), "items", path, out)?;
        // additionalItems (only beside a tuple `items`)
        if let (Some(extra), Some(Json::Array(tuple))) = (s.get("additionalItems"), s.get("items"))
        {
            match extra {
                Json::Bool(false) if items.len() > tuple.len() => {
                    push(
                        out,
                        path,
                        format!("must NOT have more than {} items", tuple.len()),
                    );
                }
                Json::Object(_) if !always_valid(extra) => {
                    for (i, item) in items.iter().enumerate().skip(tuple.len()) {
                        self.validate(extra, item, &child(path, &i.to_string()), out)?;
                    }
                }
                _ => {}
            }
        }
        match s.get("items") {
            Some(Json::Array(tuple)) => {
                for (i, (sub, item)) in tuple.iter().zip(items).enumerate() {
                    self.validate(sub, item, &child(path, &i.to_string()), out)?;
                }
            }
            Some(sub) => {
                for (i, item) in items.iter().enumerate() {
                    self.validate(sub, item, &child(path, &i.to_string()), out)?;
                }
            }
            None => {}
        }
        if let Some(sub) = s.get("contains") {
            let mut failed = Vec::new();
            let mut found = false;
            for (i, item) in items.iter().enumerate() {
                let mut errs = Vec::new();
                self.validate(sub, item, &child(path, &i.to_string()), &mut errs)?;
                if errs.is_empty() {
                    found = true;
                    break;
                }
                failed.extend(errs);
            }
            if !found {
                out.extend(failed);
                push(out, path, "must contain at least 1 valid item(s)".into());
            }
        }
        if s.get("uniqueItems") == Some(&Json::Bool(true)) {
            if let Some((j, i)) = duplicate(s.get("items"), items)? {
                push(
                    out,
                    path,
                    format!("must NOT have duplicate items (items ## {j} and {i} are identical)"),
                );
            }
        }
        Ok(())
    }

    fn object_group(
        &mut self,
        s: &serde_json::Map<String, Json>,
        data: &Json,
        path: &str,
        out: &mut Vec<AjvError>,
    ) -> R<()> {
        let map = data.as_object().ok_or(Unsupported)?;
        let n = map.len() as f64;
        count_limits(
            s,
            n,
            ("maxProperties", "minProperties"),
            "properties",
            path,
            out,
        )?;
        if let Some(required) = s.get("required") {
            for name in required.as_array().ok_or(Unsupported)? {
                let name = name.as_str().ok_or(Unsupported)?;
                if !map.contains_key(name) {
                    push(out, path, format!("must have required property '{name}'"));
                }
            }
        }
        if let Some(sub) = s.get("propertyNames") {
            if !always_valid(sub) {
                for key in map.keys() {
                    let mut errs = Vec::new();
                    self.validate(sub, &Json::String(key.clone()), path, &mut errs)?;
                    if !errs.is_empty() {
                        out.extend(errs);
                        push(out, path, "property name must be valid".into());
                    }
                }
            }
        }
        let properties = match s.get("properties") {
            Some(Json::Object(p)) => Some(p),
            None => None,
            Some(_) => return Err(Unsupported),
        };
        let patterns = match s.get("patternProperties") {
            Some(Json::Object(p)) => Some(p),
            None => None,
            Some(_) => return Err(Unsupported),
        };
        if let Some(extra) = s.get("additionalProperties") {
            if !always_valid(extra) {
                for (key, value) in map {
                    if properties.is_some_and(|p| p.contains_key(key)) {
                        continue;
                    }
                    let mut matched = false;
                    if let Some(pats) = patterns {
                        for pat in pats.keys() {
                            if self.matches(pat, key)? {
                                matched = true;
                                break;
                            }
                        }
                    }
                    if matched {
                        continue;
                    }
                    if extra == &Json::Bool(false) {
                        out.push(AjvError {
                            path: path.to_string(),
                            message: "must NOT have additional properties".into(),
                            additional: Some(key.clone()),
                        });
                    } else {
                        self.validate(extra, value, &child(path, key), out)?;
                    }
                }
            }
        }
        if let Some(deps) = s.get("dependencies") {
            let deps = deps.as_object().ok_or(Unsupported)?;
            // property lists first, then schemas (Ajv splits them)
            for (prop, list) in deps {
                let Json::Array(list) = list else { continue };
                if list.is_empty() || !map.contains_key(prop) {
                    continue;
                }
                let names = list
                    .iter()
                    .map(|d| d.as_str().ok_or(Unsupported))
                    .collect::<R<Vec<_>>>()?;
                let noun = if names.len() == 1 {
                    "property"
                } else {
                    "properties"
                };
                for d in &names {
                    if !map.contains_key(*d) {
                        push(
                            out,
                            path,
                            format!(
                                "must have {noun} {} when property {prop} is present",
                                names.join(", ")
                            ),
                        );
                    }
                }
            }
            for (prop, sub) in deps {
                if sub.is_array() || !map.contains_key(prop) {
                    continue;
                }
                self.validate(sub, data, path, out)?;
            }
        }
        if let Some(props) = properties {
            for (prop, sub) in props {
                if let Some(value) = map.get(prop) {
                    self.validate(sub, value, &child(path, prop), out)?;
                }
            }
        }
        if let Some(pats) = patterns {
            for (pat, sub) in pats {
                for (key, value) in map {
                    if self.matches(pat, key)? {
                        self.validate(sub, value, &child(path, key), out)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// `max*` / `min*` of a count (characters, items, properties), Ajv's words.
fn count_limits(
    s: &serde_json::Map<String, Json>,
    count: f64,
    (max, min): (&str, &str),
    noun: &str,
    path: &str,
    out: &mut Vec<AjvError>,
) -> R<()> {
    for (keyword, comp) in [(max, "more"), (min, "fewer")] {
        if let Some(limit) = s.get(keyword) {
            let l = limit.as_f64().ok_or(Unsupported)?;
            let bad = if keyword == max { count > l } else { count < l };
            if bad {
                push(
                    out,
                    path,
                    format!("must NOT have {comp} than {} {noun}", js_number(limit)?),
                );
            }
        }
    }
    Ok(())
}

fn push(out: &mut Vec<AjvError>, path: &str, message: String) {
    out.push(AjvError {
        path: path.to_string(),
        message,
        additional: None,
    });
}

/// Ajv's `uniqueItems` search: `(j, i)` of the pair it reports, if any.
///
/// With an `items` schema of scalar types Ajv keys items of those types by
/// value, walking down from the last one (others are skipped); otherwise it
/// compares every pair, from the last item down.
fn duplicate(items_schema: Option<&Json>, items: &[Json]) -> R<Option<(usize, usize)>> {
    if items.len() < 2 {
        return Ok(None);
    }
    let item_types = match items_schema {
        Some(Json::Object(m)) => schema_types(m)?,
        _ => Vec::new(),
    };
    let optimized =
        !item_types.is_empty() && !item_types.iter().any(|t| t == "object" || t == "array");
    if optimized {
        let mut seen: Vec<(&Json, usize)> = Vec::new();
        for i in (0..items.len()).rev() {
            let item = &items[i];
            let mut right_type = false;
            for t in &item_types {
                // Ajv's checkDataTypes: `number` covers `integer`
                right_type |= is_type(t, item)?;
            }
            if !right_type {
                continue;
            }
            // keys are by value and, with several types, by type too
            if let Some(&(_, j)) = seen
                .iter()
                .find(|(v, _)| same_key(v, item, item_types.len() > 1))
            {
                return Ok(Some((j, i)));
            }
            seen.retain(|(v, _)| !same_key(v, item, item_types.len() > 1));
            seen.push((item, i));
        }
        return Ok(None);
    }
    for i in (0..items.len()).rev() {
        for j in (0..i).rev() {
            if equal(&items[i], &items[j]) {
                return Ok(Some((j, i)));
            }
        }
    }
    Ok(None)
}

/// Whether Ajv's `indices[item]` lookup treats two scalars as the same key:
/// JavaScript property keys are strings, so `1` and `"1"` collide unless Ajv
/// suffixes strings (it does when the items have several types).
fn same_key(a: &Json, b: &Json, typed: bool) -> bool {
    let key = |v: &Json| -> String {
        match v {
            Json::String(s) => {
                if typed {
                    format!("{s}_")
                } else {
                    s.clone()
                }
            }
            Json::Number(_) => crate::serde_conv::js_number(v),
            other => other.to_string(),
        }
    };
    key(a) == key(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// conf's message part: `` `path` message `` joined by "; ".
    fn conf(schema: Json, data: Json) -> String {
        errors(&schema, &data)
            .unwrap()
            .iter()
            .map(|e| {
                format!(
                    "`{}` {}",
                    e.path.strip_prefix('/').unwrap_or(&e.path),
                    e.message
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    // Every expected text below is what conf 10.2 (ajv 8, allErrors) prints for
    // the same schema and value, wrapped as conf wraps `schema` (the first path
    // segment is the top-level key).
    fn wrap(key: &str, schema: Json) -> Json {
        json!({ "type": "object", "properties": { key: schema } })
    }

    #[test]
    fn conf_complex_schema() {
        let foo = json!({ "type": "string", "maxLength": 3, "pattern": "[def]+" });
        let bar = json!({ "type": "array", "uniqueItems": true, "maxItems": 3, "items": { "type": "integer" } });
        assert_eq!(
            conf(wrap("foo", foo), json!({ "foo": "abca" })),
            "`foo` must NOT have more than 3 characters; `foo` must match pattern \"[def]+\""
        );
        assert_eq!(
            conf(wrap("bar", bar), json!({ "bar": [1, 1, 2, "a"] })),
            "`bar` must NOT have more than 3 items; `bar/3` must be integer; `bar` must NOT have duplicate items (items ## 1 and 0 are identical)"
        );
    }

    #[test]
    fn type_errors_first_or_in_their_group() {
        // a single type with keywords of its group: reported in that group's place
        let s = json!({ "type": "string", "enum": ["a"], "maxLength": 1 });
        assert_eq!(
            conf(wrap("k", s), json!({ "k": 5 })),
            "`k` must be equal to one of the allowed values; `k` must be string"
        );
        // otherwise first
        let s = json!({ "type": "integer", "minimum": 5, "enum": [7] });
        assert_eq!(
            conf(wrap("k", s), json!({ "k": 2.5 })),
            "`k` must be integer; `k` must be equal to one of the allowed values; `k` must be >= 5"
        );
        let s = json!({ "type": ["string", "null"] });
        assert_eq!(
            conf(wrap("k", s), json!({ "k": 1 })),
            "`k` must be string,null"
        );
        let s = json!({ "type": "string", "nullable": true });
        assert_eq!(conf(wrap("k", s), json!({ "k": 1 })), "`k` must be string");
        // another type's group still runs
        let s = json!({ "type": "string", "maxLength": 3, "minimum": 5 });
        assert_eq!(
            conf(wrap("k", s), json!({ "k": 1 })),
            "`k` must be >= 5; `k` must be string"
        );
    }

    #[test]
    fn number_keywords() {
        let s = json!({ "maximum": 10, "minimum": 20, "exclusiveMaximum": 10, "exclusiveMinimum": 20, "multipleOf": 0.5 });
        assert_eq!(
            conf(wrap("n", s), json!({ "n": 10.25 })),
            "`n` must be <= 10; `n` must be >= 20; `n` must be < 10; `n` must be > 20; `n` must be multiple of 0.5"
        );
        assert_eq!(
            conf(wrap("n", json!({ "maximum": 1e21 })), json!({ "n": 2e21 })),
            "`n` must be <= 1e+21"
        );
    }

    #[test]
    fn string_keywords() {
        let s = json!({ "minLength": 3, "maxLength": 1, "pattern": "^a", "format": "email" });
        assert_eq!(
            conf(wrap("s", s), json!({ "s": "bb" })),
            "`s` must NOT have more than 1 characters; `s` must NOT have fewer than 3 characters; `s` must match pattern \"^a\"; `s` must match format \"email\""
        );
        // code points, as Ajv's ucs2length counts
        assert_eq!(
            conf(wrap("s", json!({ "maxLength": 1 })), json!({ "s": "🦄" })),
            ""
        );
        assert_eq!(
            conf(
                wrap("s", json!({ "type": "string", "format": "uri" })),
                json!({ "s": "bar" })
            ),
            "`s` must match format \"uri\""
        );
    }

    #[test]
    fn array_keywords() {
        let s = json!({ "minItems": 5, "items": [{ "type": "string" }], "additionalItems": false, "contains": { "type": "boolean" } });
        assert_eq!(
            conf(wrap("a", s), json!({ "a": [1, 2] })),
            "`a` must NOT have fewer than 5 items; `a` must NOT have more than 1 items; `a/0` must be string; `a/0` must be boolean; `a/1` must be boolean; `a` must contain at least 1 valid item(s)"
        );
        let s = json!({ "items": [{}], "additionalItems": { "type": "string" } });
        assert_eq!(
            conf(wrap("a", s), json!({ "a": [1, 2, "x", 3] })),
            "`a/1` must be string; `a/3` must be string"
        );
        // uniqueItems without scalar item types compares every pair from the end
        let s = json!({ "uniqueItems": true });
        assert_eq!(
            conf(wrap("a", s), json!({ "a": [{ "x": 1 }, 2, { "x": 1 }, 2] })),
            "`a` must NOT have duplicate items (items ## 1 and 3 are identical)"
        );
        // with several scalar types, 1 and "1" differ
        let s = json!({ "uniqueItems": true, "items": { "type": ["number", "string"] } });
        assert_eq!(conf(wrap("a", s.clone()), json!({ "a": [1, "1"] })), "");
        assert_eq!(
            conf(wrap("a", s), json!({ "a": ["x", 1, "x", 1] })),
            "`a` must NOT have duplicate items (items ## 3 and 1 are identical)"
        );
        // items of other types are skipped
        let s = json!({ "uniqueItems": true, "items": { "type": "integer" } });
        assert_eq!(
            conf(wrap("a", s), json!({ "a": [1.5, 1.5] })),
            "`a/0` must be integer; `a/1` must be integer"
        );
    }

    #[test]
    fn object_keywords() {
        let s = json!({
            "maxProperties": 1, "minProperties": 9, "required": ["x", "y", "z"],
            "propertyNames": { "pattern": "^[a-z]$" },
            "additionalProperties": false,
            "dependencies": { "a": ["x", "y"], "b": { "required": ["q"] }, "c": ["y"] },
            "properties": { "b": { "type": "string" }, "a": { "type": "string" } },
            "patternProperties": { "^c": { "type": "boolean" } }
        });
        assert_eq!(
            conf(wrap("o", s), json!({ "o": { "a": 1, "QQ": 2, "b": 3, "c": 4, "zz": 5 } })),
            "`o` must NOT have more than 1 properties; `o` must NOT have fewer than 9 properties; \
             `o` must have required property 'x'; `o` must have required property 'y'; `o` must have required property 'z'; \
             `o` must match pattern \"^[a-z]$\"; `o` property name must be valid; \
             `o` must match pattern \"^[a-z]$\"; `o` property name must be valid; \
             `o` must NOT have additional properties; `o` must NOT have additional properties; \
             `o` must have properties x, y when property a is present; `o` must have properties x, y when property a is present; \
             `o` must have property y when property c is present; \
             `o` must have required property 'q'; \
             `o/b` must be string; `o/a` must be string; `o/c` must be boolean"
        );
        let s = json!({ "additionalProperties": { "type": "number" }, "properties": { "k": {} } });
        assert_eq!(
            conf(
                wrap("o", s),
                json!({ "o": { "k": "x", "x": "y", "a/b~": "z" } })
            ),
            "`o/x` must be number; `o/a~1b~0` must be number"
        );
        let e = errors(
            &wrap("o", json!({ "additionalProperties": false })),
            &json!({ "o": { "p": 1 } }),
        )
        .unwrap();
        assert_eq!(e[0].additional.as_deref(), Some("p"));
    }

    #[test]
    fn composite_keywords_keep_their_branch_errors() {
        let s = json!({ "anyOf": [{ "type": "string" }, { "minimum": 5 }] });
        assert_eq!(
            conf(wrap("k", s), json!({ "k": 1 })),
            "`k` must be string; `k` must be >= 5; `k` must match a schema in anyOf"
        );
        let s = json!({ "oneOf": [{ "type": "number" }, { "minimum": 0 }, { "type": "string" }] });
        assert_eq!(
            conf(wrap("k", s), json!({ "k": 1 })),
            "`k` must match exactly one schema in oneOf"
        );
        let s = json!({ "oneOf": [{ "type": "string" }, { "type": "number" }, { "minimum": 0 }, { "type": "null" }] });
        assert_eq!(
            conf(wrap("k", s), json!({ "k": 1 })),
            "`k` must be string; `k` must match exactly one schema in oneOf"
        );
        assert_eq!(
            conf(
                wrap(
                    "k",
                    json!({ "oneOf": [{ "type": "string" }, { "type": "boolean" }] })
                ),
                json!({ "k": 1 })
            ),
            "`k` must be string; `k` must be boolean; `k` must match exactly one schema in oneOf"
        );
        let s = json!({ "allOf": [{ "type": "string" }, { "minimum": 5 }], "not": { "type": "number" } });
        assert_eq!(
            conf(wrap("k", s), json!({ "k": 1 })),
            "`k` must NOT be valid; `k` must be string; `k` must be >= 5"
        );
        let s = json!({ "if": { "type": "number" }, "then": { "minimum": 5 }, "else": { "maxLength": 1 } });
        assert_eq!(
            conf(wrap("k", s.clone()), json!({ "k": 1 })),
            "`k` must be >= 5; `k` must match \"then\" schema"
        );
        assert_eq!(
            conf(wrap("k", s), json!({ "k": "ab" })),
            "`k` must NOT have more than 1 characters; `k` must match \"else\" schema"
        );
        assert_eq!(
            conf(
                wrap("k", json!({ "const": [1, { "a": 2 }] })),
                json!({ "k": [1, { "a": 3 }] })
            ),
            "`k` must be equal to constant"
        );
        assert_eq!(
            conf(
                wrap("k", json!({ "const": { "a": 1, "b": 2 } })),
                json!({ "k": { "b": 2, "a": 1 } })
            ),
            ""
        );
        assert_eq!(
            conf(wrap("k", false.into()), json!({ "k": 1 })),
            "`k` boolean schema is false"
        );
    }

    #[test]
    fn local_references() {
        let s = json!({
            "type": "object",
            "definitions": { "pos": { "type": "integer", "minimum": 1 } },
            "properties": { "a": { "$ref": "#/definitions/pos" }, "self": { "$ref": "#" } }
        });
        assert_eq!(
            conf(s, json!({ "a": 0, "self": { "a": "x" } })),
            "`a` must be >= 1; `self/a` must be integer"
        );
        assert!(errors(&json!({ "$ref": "other.json" }), &json!(1)).is_err());
        assert!(errors(&json!({ "prefixItems": [] }), &json!([])).is_err());
        // a reference cycle that never reaches the data
        let cyc = json!({ "definitions": { "a": { "$ref": "#/definitions/b" }, "b": { "$ref": "#/definitions/a" } }, "$ref": "#/definitions/a" });
        assert!(errors(&cyc, &json!(1)).is_err());
    }
}
