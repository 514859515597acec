//! The native store's options (built by `lib/` from the public options) and
//! their translation into the core's `StoreOptions`, codec included.

use std::path::PathBuf;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;

use tad_store_core::defaults::Defaults;
use tad_store_core::schema::{self, Schema};
use tad_store_core::{Durability, Error as CoreError, StoreOptions};

/// Options for the native store (built by `index.js` from the public options).
#[napi(object)]
pub struct BindingOptions {
    /// The document file.
    pub path: String,
    /// The journal / history directory.
    pub history_dir: String,
    /// File mode for created files.
    pub mode: u32,
    /// `'deferred'` or `'sync'`.
    pub durability: String,
    pub clear_invalid_config: bool,
    /// Change records kept in the journal.
    pub history_max: u32,
    /// Keys are dot paths (`a.b`), as electron-store's `accessPropertiesByDotNotation`.
    pub dot_notation: bool,
    /// Directory of backups.
    pub backup_dir: String,
    /// Backups kept.
    pub max_backups: u32,
    /// electron-store's `schema` (a properties map), as JSON.
    pub schema: Option<String>,
    /// A JSON Schema for the whole document, as JSON.
    pub root_schema: Option<String>,
    /// electron-store's `defaults` (an object), as JSON.
    pub defaults: Option<String>,
    /// Write the document as compact JSON (`serialize: JSON.stringify`).
    pub compact: Option<bool>,
    /// `secretKeys`: dot paths whose values are encrypted at rest.
    pub secret_keys: Option<Vec<String>>,
    /// The key for `secretKeys` (at least 16 bytes).
    pub secret_key: Option<Buffer>,
    /// electron-store 8's `encryptionKey`, as bytes (a string as UTF-8).
    pub encryption_key: Option<Buffer>,
    /// The store file as the app sees it (with custom `serialize`, not
    /// `path`): whether it exists decides conf's `defaults` merge.
    pub file: Option<String>,
    /// Begin the constructor's transaction (not when the store is read-only).
    pub begin: Option<bool>,
    /// Fill the `defaults` and the schema's defaults in now.
    pub fill_defaults: Option<bool>,
    /// `defaultsLayer`: `defaults` and schema defaults are read through and
    /// never written to the file.
    pub defaults_layer: Option<bool>,
    /// A key the constructor reads next (the migrations' version), read
    /// after the defaults are filled in.
    pub read_key: Option<String>,
}

pub(crate) fn store_options(o: BindingOptions) -> tad_store_core::Result<StoreOptions> {
    let mut s = StoreOptions::new(PathBuf::from(&o.path));
    s.history_dir = PathBuf::from(&o.history_dir);
    s.mode = o.mode & 0o777;
    s.durability = match o.durability.as_str() {
        "deferred" => Durability::Deferred,
        "sync" => Durability::Sync,
        other => {
            return Err(CoreError::InvalidArgument(format!(
                "Expected `durability` to be 'deferred' or 'sync', got {other:?}"
            )))
        }
    };
    s.clear_invalid_config = o.clear_invalid_config;
    s.compact = o.compact.unwrap_or(false);
    s.codec = codec_of(&o, s.compact)?;
    s.history_max = o.history_max as usize;
    s.dot_notation = o.dot_notation;
    s.defaults_layer = o.defaults_layer.unwrap_or(false);
    s.backup_dir = PathBuf::from(&o.backup_dir);
    s.max_backups = o.max_backups as usize;
    let json = |t: &Option<String>, what: &str| -> tad_store_core::Result<Option<schema::Json>> {
        t.as_deref()
            .map(|t| {
                schema::parse_json(t).map_err(|e| {
                    CoreError::InvalidArgument(format!("The `{what}` option is not JSON: {e}"))
                })
            })
            .transpose()
    };
    let (props, root) = (
        json(&o.schema, "schema")?,
        json(&o.root_schema, "rootSchema")?,
    );
    if props.is_some() || root.is_some() {
        s.schema = Some(Arc::new(Schema::new(props.as_ref(), root.as_ref())?));
    }
    s.defaults = Arc::new(Defaults::from_json(
        o.defaults.as_deref().map(str::as_bytes),
        props.as_ref(),
        root.as_ref(),
    )?);
    Ok(s)
}

/// The codec for `secretKeys` + `secretKey`, or `encryptionKey`, or none.
pub(crate) fn codec_of(
    o: &BindingOptions,
    compact: bool,
) -> tad_store_core::Result<Arc<dyn tad_store_core::codec::Codec>> {
    use tad_store_core::crypto::{LegacyCodec, SecretCodec};
    let secrets = o.secret_keys.as_deref().unwrap_or_default();
    match (&o.encryption_key, secrets.is_empty(), &o.secret_key) {
        (Some(_), false, _) => Err(CoreError::Unsupported(
            "`encryptionKey` encrypts the whole file already: leave `secretKeys` out, or use `secretKeys` with `secretKey` instead".into(),
        )),
        (Some(k), true, _) => Ok(Arc::new(LegacyCodec::new(k)?)),
        (None, false, None) => Err(CoreError::SecretKey(format!(
            "`secretKeys` ({}) needs `secretKey`: a Buffer of at least 16 bytes, or a function returning one (e.g. from Electron's safeStorage)",
            secrets.join(", ")
        ))),
        (None, false, Some(k)) => {
            let mut paths = Vec::with_capacity(secrets.len());
            for name in secrets {
                if name.is_empty() {
                    return Err(CoreError::InvalidArgument(
                        "`secretKeys` holds an empty key".into(),
                    ));
                }
                paths.push(tad_store_core::path::segments(name, o.dot_notation)?);
            }
            Ok(Arc::new(SecretCodec::new(
                paths,
                secrets.to_vec(),
                k,
                !compact,
            )?))
        }
        (None, true, _) => Ok(Arc::new(tad_store_core::codec::Plain)),
    }
}
