//! Key paths: electron-store's dot notation (`a.b.c`, `\.` escapes a dot) and
//! RFC 6901 JSON Pointers (used in the journal's patches).

use crate::error::{Error, Result};

/// Segments refused anywhere in a key (prototype pollution vectors).
pub const FORBIDDEN_SEGMENTS: [&str; 3] = ["__proto__", "prototype", "constructor"];

/// Splits a key into segments.
///
/// With dot notation this follows dot-prop 6 (what conf 10 uses): split on `.`, and a
/// segment ending in `\` is joined to the next one with a literal `.`. Without dot
/// notation the whole key is one segment. Forbidden segments are an error.
pub fn segments(key: &str, dot_notation: bool) -> Result<Vec<String>> {
    let segs = split(key, dot_notation);
    check_segments(key, &segs)?;
    Ok(segs)
}

/// [`segments`] without the check of forbidden segments (JS matches change
/// listeners with it).
pub fn split(key: &str, dot_notation: bool) -> Vec<String> {
    if !dot_notation {
        vec![key.to_string()]
    } else if !key.contains('\\') {
        key.split('.').map(str::to_string).collect()
    } else {
        let parts: Vec<&str> = key.split('.').collect();
        let mut out = Vec::with_capacity(parts.len());
        let mut i = 0;
        while i < parts.len() {
            let mut p = parts[i].to_string();
            while p.ends_with('\\') && i + 1 < parts.len() {
                p.pop();
                p.push('.');
                i += 1;
                p.push_str(parts[i]);
            }
            out.push(p);
            i += 1;
        }
        out
    }
}

/// Refuses prototype-polluting segments.
pub fn check_segments(key: &str, segs: &[String]) -> Result<()> {
    if let Some(bad) = segs
        .iter()
        .find(|s| FORBIDDEN_SEGMENTS.contains(&s.as_str()))
    {
        return Err(Error::ForbiddenKey {
            key: key.to_string(),
            segment: bad.clone(),
        });
    }
    Ok(())
}

/// Encodes segments as an RFC 6901 JSON Pointer (`""` is the whole document).
pub fn to_pointer(segs: &[String]) -> String {
    let mut out = String::new();
    for s in segs {
        out.push('/');
        for c in s.chars() {
            match c {
                '~' => out.push_str("~0"),
                '/' => out.push_str("~1"),
                c => out.push(c),
            }
        }
    }
    out
}

/// Decodes an RFC 6901 JSON Pointer into segments.
pub fn from_pointer(ptr: &str) -> Result<Vec<String>> {
    if ptr.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = ptr.strip_prefix('/') else {
        return Err(Error::BadPatch(format!(
            "JSON pointer must start with '/': {ptr:?}"
        )));
    };
    rest.split('/')
        .map(|raw| {
            let mut out = String::with_capacity(raw.len());
            let mut chars = raw.chars();
            while let Some(c) = chars.next() {
                if c == '~' {
                    match chars.next() {
                        Some('0') => out.push('~'),
                        Some('1') => out.push('/'),
                        _ => {
                            return Err(Error::BadPatch(format!(
                                "bad '~' escape in pointer {ptr:?}"
                            )))
                        }
                    }
                } else {
                    out.push(c);
                }
            }
            Ok(out)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(k: &str) -> Vec<String> {
        segments(k, true).unwrap()
    }

    #[test]
    fn dot_paths_follow_dot_prop() {
        assert_eq!(segs("a.b.c"), ["a", "b", "c"]);
        assert_eq!(segs("a\\.b.c"), ["a.b", "c"]);
        assert_eq!(segs("a\\.b\\.c"), ["a.b.c"]);
        assert_eq!(segs(""), [""]);
        assert_eq!(segs("a..b"), ["a", "", "b"]);
        assert_eq!(segs("trailing\\"), ["trailing\\"]);
        assert_eq!(segments("a.b", false).unwrap(), ["a.b"]);
    }

    #[test]
    fn forbidden_segments_are_refused() {
        for k in ["__proto__", "a.__proto__.b", "constructor.x", "x.prototype"] {
            assert!(
                matches!(segments(k, true), Err(Error::ForbiddenKey { .. })),
                "{k}"
            );
        }
        assert!(segments("__proto__", false).is_err());
        assert!(segments("a.__proto__", false).is_ok());
    }

    #[test]
    fn pointers_round_trip() {
        let cases: Vec<Vec<String>> = vec![
            vec![],
            vec!["".into()],
            vec!["a/b".into(), "~x".into(), "c.d".into(), "[0]".into()],
            vec!["ünï".into(), "0".into()],
        ];
        for c in cases {
            let p = to_pointer(&c);
            assert_eq!(from_pointer(&p).unwrap(), c, "{p}");
        }
        assert_eq!(to_pointer(&["a/b".into(), "m~n".into()]), "/a~1b/m~0n");
        assert!(from_pointer("a").is_err());
        assert!(from_pointer("/a~2").is_err());
    }
}
