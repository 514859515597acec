//! Rules the JS side needs that the core defines (called, never copied): the
//! names of the store's directories and kept files (read once at load), and
//! how a key splits into path segments.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use tad_store_core::names;
use tad_store_core::value::utf16_units;

use crate::convert::Key;

/// The names the store gives its directories and files
/// (`tad_store_core::names`).
#[napi(object)]
pub struct FileNames {
    /// The history directory beside the store file when `history.directory`
    /// is not given (`storeHistory`).
    pub history_dir: String,
    /// The backup directory beside the store file when `backups.directory`
    /// is not given (`backups`).
    pub backup_dir: String,
    /// A damaged file kept aside is `<file><corruptInfix><ms>` (`.corrupt-`).
    pub corrupt_infix: String,
    /// With custom `serialize`, the store's own document is
    /// `<historyDir>/<file><dataSuffix>` (`.data.json`).
    pub data_suffix: String,
}

/// The names the store gives its directories and files.
#[napi]
pub fn file_names() -> Result<FileNames> {
    Ok(FileNames {
        history_dir: names::HISTORY_DIR.into(),
        backup_dir: names::BACKUP_DIR.into(),
        corrupt_infix: names::CORRUPT_INFIX.into(),
        data_suffix: names::DATA_SUFFIX.into(),
    })
}

/// The path segments of `key` (dot-prop 6's splitting: `.` separates, `\.`
/// is a literal dot; the whole key without dot notation), as the core splits
/// it (`tad_store_core::path::split`). Forbidden segments are not checked
/// here (the calls that read or write do).
#[napi]
pub fn key_segments(
    #[napi(ts_arg_type = "string")] key: Key,
    dot_notation: bool,
) -> Result<Vec<Utf16String>> {
    Ok(tad_store_core::path::split(&key.0, dot_notation)
        .iter()
        .map(|s| Utf16String::from(utf16_units(s)))
        .collect())
}
