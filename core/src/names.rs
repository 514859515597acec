//! File and directory names the store uses, checked against the rules of the
//! platform it runs on before anything is created, so a name the OS would
//! refuse, alter or misread is a clear `TypeError` at `new Store()` rather than
//! an `E_IO` on the first write (or a file written somewhere else).
//!
//! Windows (the Win32 path rules; NTFS, FAT, exFAT, SMB):
//! - reserved device names `CON`, `PRN`, `AUX`, `NUL`, `COM0`–`COM9`,
//!   `LPT0`–`LPT9` (and `COM¹²³`/`LPT¹²³`), `CONIN$`, `CONOUT$`, in any case,
//!   with or without an extension (`nul.json` is the null device on Windows 10,
//!   and every SMB server refuses them);
//! - a name ending in `.` or ` ` (Win32 strips them: `config.` opens `config`,
//!   while `\\?\` paths, which std uses past 260 characters and Node always,
//!   keep them: the store and another program would see two files);
//! - the characters `< > : " / \ | ? *` and U+0000–U+001F;
//! - more than 255 UTF-16 units in one name.
//!
//! macOS and Linux: NUL, and more than 255 bytes (UTF-8) in one name.
//!
//! Everywhere, the store's own file name must leave room for the longest
//! suffix the store appends to it ([`SUFFIX_ROOM`]: temp files, the journal,
//! kept copies). Whole paths are not limited to `MAX_PATH` (260): Rust's std
//! turns absolute paths of 260 UTF-16 units or more into `\\?\` paths (see
//! `maybe_verbatim` in std's `sys/path/windows.rs`), Node's `fs` passes every
//! path through `path.toNamespacedPath`, and the watcher watches canonical
//! (`\\?\`) directories, so long paths work without the long-path registry
//! setting. Names that differ only in case are one file on Windows and macOS
//! volumes: the registry finds the open store by the file itself
//! (`registry::open`), so two spellings share one core.

use std::path::{Component, Path};

use crate::error::{Error, Result};

/// Whose naming rules apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rules {
    Windows,
    /// macOS, Linux and the other Unixes.
    Unix,
}

impl Rules {
    /// The rules of the platform this runs on.
    pub const fn current() -> Rules {
        if cfg!(windows) {
            Rules::Windows
        } else {
            Rules::Unix
        }
    }
}

/// The history directory's name when `history.directory` is not given
/// (beside the store file): the journal, the lock, migration snapshots.
pub const HISTORY_DIR: &str = "storeHistory";
/// The backup directory's name when `backups.directory` is not given (beside
/// the store file).
pub const BACKUP_DIR: &str = "backups";
/// What a damaged file kept aside is named after: `<file>.corrupt-<ms>`.
pub const CORRUPT_INFIX: &str = ".corrupt-";
/// With custom `serialize`: the store's own JSON document,
/// `storeHistory/<file>.data.json`.
pub const DATA_SUFFIX: &str = ".data.json";
/// With custom `serialize`: what the last export wrote,
/// `storeHistory/<file>.serialized.json`.
pub const MARK_SUFFIX: &str = ".serialized.json";

/// `<file>.corrupt-<ms>`: the name of a copy of the damaged file `file_name`
/// kept aside at `ms` (milliseconds since 1970).
pub fn quarantine_name(file_name: &str, ms: u64) -> String {
    format!("{file_name}{CORRUPT_INFIX}{ms}")
}

/// The longest name of one path component on every file system the store
/// supports (NTFS, exFAT, FAT: 255 UTF-16 units; APFS, HFS+, ext4, XFS,
/// Btrfs: 255 bytes).
pub const MAX_NAME: usize = 255;

/// Room kept for the suffixes the store appends to its file's name: temp
/// files `.<name>.<pid>.<n>.tmp` (up to 37 more), the journal's temp file
/// `.<name>.journal.<pid>.<n>.tmp` (45), kept copies `<name>.corrupt-<ms>`,
/// and the custom-serialize copy `<name>.data.json` with its journal's temp
/// file (55).
pub const SUFFIX_ROOM: usize = 64;

const WINDOWS_RESERVED: [&str; 32] = [
    "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "COM0", "COM1", "COM2", "COM3", "COM4",
    "COM5", "COM6", "COM7", "COM8", "COM9", "COM¹", "COM²", "COM³", "LPT0", "LPT1", "LPT2", "LPT3",
    "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9", "LPT¹", "LPT²", "LPT³",
];

const WINDOWS_INVALID: &[char] = &['<', '>', ':', '"', '/', '\\', '|', '?', '*'];

/// The length of `name` as the platform counts it.
fn length(name: &str, rules: Rules) -> usize {
    match rules {
        Rules::Windows => name.encode_utf16().count(),
        Rules::Unix => name.len(),
    }
}

/// Why `name` (one path component) cannot be used under `rules`, if it
/// cannot. `max` is the longest it may be.
pub fn problem(name: &str, rules: Rules, max: usize) -> Option<String> {
    if name.is_empty() {
        return Some("an empty name".into());
    }
    if name.contains('\0') {
        return Some("a NUL character".into());
    }
    if rules == Rules::Windows {
        if let Some(c) = name
            .chars()
            .find(|c| WINDOWS_INVALID.contains(c) || (*c as u32) < 0x20)
        {
            return Some(if (c as u32) < 0x20 {
                format!(
                    "the control character U+{:04X}, which Windows refuses",
                    c as u32
                )
            } else {
                format!("the character `{c}`, which Windows refuses in names")
            });
        }
        if name.ends_with('.') || name.ends_with(' ') {
            return Some(
                "a trailing dot or space, which Windows drops (the file would be another one)"
                    .into(),
            );
        }
        // the part before the first dot, trailing spaces aside: `nul.json`,
        // `NUL .txt` and `Com1.tar.gz` are devices
        let stem = name.split('.').next().unwrap_or("").trim_end_matches(' ');
        if WINDOWS_RESERVED
            .iter()
            .any(|r| r.eq_ignore_ascii_case(stem))
        {
            return Some(format!(
                "`{stem}`, a reserved device name on Windows (CON, PRN, AUX, NUL, COM0-9, LPT0-9, CONIN$, CONOUT$, with or without an extension)"
            ));
        }
    }
    let n = length(name, rules);
    if n > max {
        let unit = match rules {
            Rules::Windows => "UTF-16 units",
            Rules::Unix => "bytes",
        };
        return Some(format!(
            "{n} {unit}, more than the {max} this name may have"
        ));
    }
    None
}

fn refuse(what: &str, path: &Path, name: &str, why: String) -> Error {
    Error::InvalidArgument(format!(
        "The {what} {} cannot be used: its name `{name}` has {why}. Choose another `name`, `cwd` or directory option",
        path.display()
    ))
}

/// Checks every name in `path` (the last one against `last_max`).
fn check_path(what: &str, path: &Path, rules: Rules, last_max: usize) -> Result<()> {
    let names: Vec<_> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s),
            _ => None,
        })
        .collect();
    for (i, s) in names.iter().enumerate() {
        // a name that is not Unicode was given as bytes by the OS itself
        let Some(name) = s.to_str() else { continue };
        let max = if i + 1 == names.len() {
            last_max
        } else {
            MAX_NAME
        };
        if let Some(why) = problem(name, rules, max) {
            return Err(refuse(what, path, name, why));
        }
    }
    Ok(())
}

/// Checks the store file `doc` and the directories the store creates files
/// in (journal, backups) under `rules`.
pub fn check_store_paths(doc: &Path, history: &Path, backups: &Path, rules: Rules) -> Result<()> {
    check_path("store file", doc, rules, MAX_NAME - SUFFIX_ROOM)?;
    check_path("history directory", history, rules, MAX_NAME)?;
    check_path("backup directory", backups, rules, MAX_NAME)
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: Rules = Rules::Windows;
    const U: Rules = Rules::Unix;

    fn bad(name: &str, rules: Rules) -> String {
        problem(name, rules, MAX_NAME).unwrap_or_else(|| panic!("{name:?} should be refused"))
    }

    #[test]
    fn windows_reserved_names_with_or_without_extension_in_any_case() {
        for name in [
            "CON",
            "con",
            "Con.json",
            "NUL.tar.gz",
            "nul .json",
            "aux",
            "PRN.txt",
            "COM1",
            "com9.json",
            "LPT1",
            "lpt0.x",
            "COM¹.json",
            "lpt³",
            "CONIN$",
            "conout$.json",
        ] {
            assert!(bad(name, W).contains("reserved device name"), "{name}");
            assert_eq!(problem(name, U, MAX_NAME), None, "{name} is fine on Unix");
        }
        for name in [
            "config",
            "CONFIG.json",
            "console",
            "com10",
            "lpt",
            "nul_",
            "auxiliary.json",
            "con-settings",
            "prn1",
            "x.con",
            "my.nul.json",
        ] {
            assert_eq!(problem(name, W, MAX_NAME), None, "{name}");
        }
    }

    #[test]
    fn windows_trailing_dots_spaces_and_characters() {
        for name in ["config.", "config ", "config. .", "a.json "] {
            assert!(bad(name, W).contains("trailing dot or space"), "{name}");
            assert_eq!(problem(name, U, MAX_NAME), None);
        }
        for (name, c) in [
            ("a<b", "<"),
            ("a>b", ">"),
            ("c:d", ":"),
            ("q\"", "\""),
            ("a|b", "|"),
            ("why?", "?"),
            ("star*", "*"),
            ("back\\slash", "\\"),
        ] {
            assert!(bad(name, W).contains(&format!("`{c}`")), "{name}");
            assert_eq!(problem(name, U, MAX_NAME), None, "{name} is fine on Unix");
        }
        assert!(bad("tab\there", W).contains("U+0009"));
        assert!(bad("nul\0byte", U).contains("NUL"));
        assert!(bad("", U).contains("empty"));
        // a leading dot, inner dots and spaces are fine
        assert_eq!(problem(".config.json", W, MAX_NAME), None);
        assert_eq!(problem("my settings.v2.json", W, MAX_NAME), None);
    }

    #[test]
    fn lengths_are_counted_as_each_platform_counts() {
        let max = MAX_NAME - SUFFIX_ROOM;
        let ascii = "a".repeat(max);
        assert_eq!(problem(&ascii, W, max), None);
        assert_eq!(problem(&ascii, U, max), None);
        assert!(bad(&"a".repeat(MAX_NAME + 1), U).contains("256 bytes"));
        assert!(bad(&"a".repeat(MAX_NAME + 1), W).contains("256 UTF-16 units"));
        // 100 × 'é': 100 UTF-16 units, 200 bytes
        let accented = "é".repeat(100);
        assert_eq!(problem(&accented, W, max), None);
        assert!(problem(&accented, U, max).unwrap().contains("200 bytes"));
        // an astral character is two UTF-16 units and four bytes
        assert!(problem(&"😀".repeat(96), W, max)
            .unwrap()
            .contains("192 UTF-16"));
    }

    #[test]
    fn store_paths_name_the_part_that_fails() {
        let root = Path::new("/home/u/app");
        let ok = check_store_paths(
            &root.join("config.json"),
            &root.join("storeHistory"),
            &root.join("backups"),
            W,
        );
        assert!(ok.is_ok());
        let e = check_store_paths(
            &root.join("CON.json"),
            &root.join("storeHistory"),
            &root.join("backups"),
            W,
        )
        .unwrap_err();
        assert_eq!(e.code(), "E_INVALID_ARGUMENT");
        assert!(e.is_type_error());
        assert!(e.to_string().contains("store file") && e.to_string().contains("`CON.json`"));
        let e = check_store_paths(
            &root.join("config.json"),
            &root.join("aux").join("history"),
            &root.join("backups"),
            W,
        )
        .unwrap_err();
        assert!(e.to_string().contains("history directory"), "{e}");
        let e = check_store_paths(
            &root.join("config.json"),
            &root.join("storeHistory"),
            &root.join("backups."),
            W,
        )
        .unwrap_err();
        assert!(e.to_string().contains("backup directory"), "{e}");
        // the store file keeps room for its suffixes; a directory does not
        let long = "a".repeat(MAX_NAME - SUFFIX_ROOM + 1);
        assert!(check_store_paths(&root.join(&long), root, root, U).is_err());
        assert!(check_store_paths(&root.join("c.json"), &root.join(&long), root, U).is_ok());
        // the same paths under Unix rules: only lengths and NUL
        assert!(check_store_paths(&root.join("CON.json"), root, &root.join("b."), U).is_ok());
        // paths far longer than MAX_PATH are fine: std and Node use \\?\ paths
        let deep: std::path::PathBuf = (0..40).map(|i| format!("level-{i:02}")).collect();
        assert!(deep.to_string_lossy().len() > 300);
        assert!(check_store_paths(&root.join(&deep).join("c.json"), root, root, W).is_ok());
    }

    #[test]
    fn the_current_rules() {
        assert_eq!(
            Rules::current(),
            if cfg!(windows) {
                Rules::Windows
            } else {
                Rules::Unix
            }
        );
    }
}
