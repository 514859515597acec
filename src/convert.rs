//! Conversions of core values to what JS takes: JSON text handed over
//! without a copy, change lists (their values are document values: JSON).

use napi::bindgen_prelude::*;

use tad_store_core::ops::KeyChange;
use tad_store_core::value::{to_json, write_json, write_list, write_string, Value};

/// JSON text handed to JS without an intermediate copy; ASCII text (the usual
/// case) becomes a one-byte string by a plain copy instead of UTF-8 decoding.
/// Measured on a 7 MB document: ~2× faster than returning a `String`.
pub struct JsonText(pub(crate) Vec<u8>);

impl TypeName for JsonText {
    fn type_name() -> &'static str {
        "String"
    }

    fn value_type() -> ValueType {
        ValueType::String
    }
}

impl ToNapiValue for JsonText {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        let mut result = std::ptr::null_mut();
        let ptr = val.0.as_ptr() as *const std::ffi::c_char;
        let len = val.0.len() as isize;
        let status = if val.0.is_ascii() {
            // SAFETY: `ptr`/`len` are the live bytes of `val` (ASCII, so as
            // Latin-1 they are the same characters), which Node-API copies
            // before returning; `env` is valid per this trait's contract.
            unsafe { sys::napi_create_string_latin1(env, ptr, len, &mut result) }
        } else {
            // SAFETY: as above; the bytes are UTF-8 (our serializer's output).
            unsafe { sys::napi_create_string_utf8(env, ptr, len, &mut result) }
        };
        if status != sys::Status::napi_ok {
            return Err(Error::new(
                Status::GenericFailure,
                "could not create a JS string".to_string(),
            ));
        }
        Ok(result)
    }
}

pub(crate) fn text(out: Vec<u8>) -> String {
    // every writer below emits valid UTF-8
    String::from_utf8(out).unwrap_or_default()
}

pub(crate) fn json_of(v: &Value) -> String {
    text(to_json(v, false))
}

/// `[{k, o?, n?}]` (absent = undefined).
pub(crate) fn write_changes(out: &mut Vec<u8>, changes: &[KeyChange]) {
    write_list(out, changes, |out, c| {
        out.extend_from_slice(b"{\"k\":");
        write_string(out, &c.key);
        if let Some(o) = &c.old {
            out.extend_from_slice(b",\"o\":");
            write_json(out, o, false);
        }
        if let Some(n) = &c.new {
            out.extend_from_slice(b",\"n\":");
            write_json(out, n, false);
        }
        out.push(b'}');
    });
}

pub(crate) fn changes_json(changes: &[KeyChange]) -> String {
    let mut out = Vec::with_capacity(64);
    write_changes(&mut out, changes);
    text(out)
}

/// What `storeSet` (and `update()`'s set) return for a change: the old value's
/// JSON (`""` when absent or not wanted) when the change is exactly the one
/// asked for, else `"!"` and the change list (the schema's defaults changed
/// the value or other keys).
pub(crate) fn set_result((changes, exact): (Vec<KeyChange>, bool)) -> String {
    if exact {
        changes[0].old.as_ref().map(json_of).unwrap_or_default()
    } else {
        format!("!{}", changes_json(&changes))
    }
}

pub(crate) fn strings_json(list: &[String]) -> String {
    let mut out = Vec::new();
    write_list(&mut out, list, |o, e| write_string(o, e));
    text(out)
}

/// A key from JS, in the core's JS-string encoding
/// (`tad_store_core::value::encode_utf16`). JS strings are UTF-16 and a key
/// may hold an unpaired surrogate (`'k\ud800'`), which Node-API's UTF-8
/// conversion would turn into U+FFFD (making `'k\ud800'` and `'k\udc00'` one
/// key): the key is read as UTF-16 code units — into a buffer on the stack,
/// in one call, for keys shorter than `STACK_UNITS` units — and encoded by
/// the core. Parameters of this type are declared `string` in the typings
/// (`#[napi(ts_arg_type = "string")]`).
pub struct Key(pub(crate) String);

/// Keys shorter than this are read in one Node-API call, without a heap
/// buffer (the buffer is not zeroed: 2 KiB of stack).
const STACK_UNITS: usize = 1024;

impl TypeName for Key {
    fn type_name() -> &'static str {
        "String"
    }

    fn value_type() -> ValueType {
        ValueType::String
    }
}

impl ValidateNapiValue for Key {}

fn not_a_string() -> Error {
    Error::new(
        Status::StringExpected,
        "Expected the key to be a string".to_string(),
    )
}

impl FromNapiValue for Key {
    unsafe fn from_napi_value(env: sys::napi_env, v: sys::napi_value) -> Result<Self> {
        use std::mem::MaybeUninit;
        use tad_store_core::value::encode_utf16;
        let mut stack = [MaybeUninit::<u16>::uninit(); STACK_UNITS];
        let mut n = 0;
        // SAFETY: `env`/`v` are the valid pair Node-API handed to this call;
        // Node-API writes at most `STACK_UNITS` units (the NUL included) into
        // the buffer, which is writable for that many.
        let status = unsafe {
            sys::napi_get_value_string_utf16(env, v, stack.as_mut_ptr().cast(), STACK_UNITS, &mut n)
        };
        if status != sys::Status::napi_ok {
            return Err(not_a_string());
        }
        if n < STACK_UNITS - 1 {
            // SAFETY: Node-API initialized the first `n` units (it reports
            // how many it wrote), and `n < STACK_UNITS`.
            let units = unsafe { std::slice::from_raw_parts(stack.as_ptr().cast::<u16>(), n) };
            return Ok(Key(encode_utf16(units)));
        }
        // a long key (the buffer may have cut it): its length, then all of it
        let mut len = 0;
        // SAFETY: a NULL buffer asks only for the length, in units.
        let status =
            unsafe { sys::napi_get_value_string_utf16(env, v, std::ptr::null_mut(), 0, &mut len) };
        if status != sys::Status::napi_ok {
            return Err(not_a_string());
        }
        let mut heap = vec![0u16; len + 1];
        // SAFETY: `heap` is writable for `len + 1` units, which bounds the copy.
        let status = unsafe {
            sys::napi_get_value_string_utf16(env, v, heap.as_mut_ptr(), heap.len(), &mut n)
        };
        if status != sys::Status::napi_ok {
            return Err(not_a_string());
        }
        Ok(Key(encode_utf16(&heap[..n])))
    }
}
