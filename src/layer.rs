//! `defaultsLayer`: `inspect(key)` and the user's own values (what
//! migrations read). The rules live in `tad_store_core::layer`.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use tad_store_core::value::{to_json, write_json, write_string};

use crate::convert::{text, JsonText, Key};
use crate::errors::run;
use crate::handles::store;

/// `inspect(key)` as JSON text: `{"source": "user" | "default" | "none",
/// "value"?, "defaultValue"?, "userValue"?}` (a missing member is undefined).
#[napi]
pub fn store_inspect(env: Env, h: u32, #[napi(ts_arg_type = "string")] key: Key) -> Result<String> {
    let s = store(&env, h)?;
    run(&env, "inspect", || {
        let i = s.inspect(&key.0)?;
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(b"{\"source\":");
        write_string(&mut out, i.source.name());
        for (name, v) in [
            ("value", &i.value),
            ("defaultValue", &i.default_value),
            ("userValue", &i.user_value),
        ] {
            if let Some(v) = v {
                out.push(b',');
                write_string(&mut out, name);
                out.push(b':');
                write_json(&mut out, v, false);
            }
        }
        out.push(b'}');
        Ok(text(out))
    })
}

/// The user's own values as compact JSON (with `defaultsLayer`, the document
/// without the defaults; otherwise the same as `storeToJson`).
#[napi(ts_return_type = "string")]
pub fn store_user_json(env: Env, h: u32) -> Result<JsonText> {
    let s = store(&env, h)?;
    run(&env, "read", || {
        Ok(JsonText(to_json(&s.user_snapshot()?, false)))
    })
}
