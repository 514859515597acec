//! Our JSON tree to and from `serde_json`'s (for the schema validator and the
//! schema defaults), and numbers written as JavaScript writes them (in Ajv's
//! messages). A leaf: `schema` and `defaults` both use it.

use std::sync::Arc;

use crate::value::{display, encode, write_number, Map, Str, Value};

/// Our value as a `serde_json::Value` (for the validator).
pub fn to_serde(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Number(n) => {
            if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
                serde_json::Value::from(*n as i64)
            } else {
                serde_json::Number::from_f64(*n)
                    .map(serde_json::Value::Number)
                    .unwrap_or(serde_json::Value::Null)
            }
        }
        // (an unpaired surrogate is seen as U+FFFD: one character, as Ajv counts it)
        Value::String(s) => serde_json::Value::String(display(s).into_owned()),
        Value::Array(a) => serde_json::Value::Array(a.iter().map(to_serde).collect()),
        Value::Object(m) => serde_json::Value::Object(
            m.iter()
                .map(|(k, v)| (display(k).into_owned(), to_serde(v)))
                .collect(),
        ),
    }
}

/// A `serde_json::Value` as ours.
pub fn from_serde(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(s) => Value::String(Str::from(encode(s).as_ref())),
        serde_json::Value::Array(a) => crate::value::array(a.iter().map(from_serde).collect()),
        serde_json::Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                out.insert(Str::from(encode(k).as_ref()), from_serde(v));
            }
            Value::Object(Arc::new(out))
        }
    }
}

pub(crate) fn js_number(v: &serde_json::Value) -> String {
    match v.as_f64() {
        Some(f) => {
            let mut b = Vec::new();
            write_number(&mut b, f);
            String::from_utf8(b).unwrap_or_default()
        }
        None => v.to_string(),
    }
}
