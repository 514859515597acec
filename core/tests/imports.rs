//! The core's rooms import each other without circles (ARCHITECTURE-core.md,
//! "Who may import whom").
//!
//! Reads `core/src`, lists every reference one module makes to another
//! (`use crate::…`, `crate::x::y` in code, `super::…`), and fails when a
//! circle passes through two rooms. A room is a top-level module (`store`,
//! `log`, `watch`, ...); a folder room's files may use each other and their
//! `mod.rs` (inside a room is not a circle between rooms). A module depends
//! on what it names and, when it is a folder, on everything in it: the
//! circle `watch` → `store` → `store::watching` → `watch` is caught, while
//! `error` → `fs::platform` (a leaf file that names nothing of the crate) and
//! `fs` → `error` is not a circle.
//!
//! `cargo test -p tad_store_core --test imports -- --nocapture` prints the
//! edges between rooms.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (segments from the crate root) of a source file.
fn module_of(rel: &Path) -> Vec<String> {
    let mut segs: Vec<String> = rel
        .iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    let last = segs.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs").to_string();
    if stem != "mod" && stem != "lib" {
        segs.push(stem);
    }
    segs
}

fn sources(dir: &Path, root: &Path, out: &mut Vec<(Vec<String>, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            sources(&p, root, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let text = std::fs::read_to_string(&p).expect("read source");
            out.push((module_of(p.strip_prefix(root).expect("under src")), text));
        }
    }
}

/// The code without comments, string and char literals (so a path in a doc
/// comment or a message is not a reference).
fn code_only(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < c.len() {
        let next = c.get(i + 1).copied();
        if c[i] == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i] == '/' && next == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c[i] == 'r' && (next == Some('"') || next == Some('#')) && !ident_before(&c, i) {
            // raw string r"…" / r#"…"#
            let mut j = i + 1;
            let mut hashes = 0;
            while c.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if c.get(j) != Some(&'"') {
                out.push(c[i]);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= c.len() {
                    break;
                }
                if c[j] == '"' && (0..hashes).all(|k| c.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c[i] == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c[i] == '\'' {
            // a char literal ('x', '\n', '\u{..}') or a lifetime ('a)
            if next == Some('\\') {
                i += 2;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
                out.push_str("' '");
            } else if c.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push_str("' '");
            } else {
                out.push('\'');
                i += 1;
            }
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

fn ident_before(c: &[char], i: usize) -> bool {
    i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_')
}

fn ident_at(c: &[char], mut i: usize) -> (String, usize) {
    let mut s = String::new();
    while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
        s.push(c[i]);
        i += 1;
    }
    (s, i)
}

fn skip_ws(c: &[char], mut i: usize) -> usize {
    while i < c.len() && c[i].is_whitespace() {
        i += 1;
    }
    i
}

/// Parses a path or use tree at `i` (after `crate::`/`super::`): every full
/// path it names, relative to its start.
fn use_tree(c: &[char], i: usize, prefix: &[String], out: &mut Vec<Vec<String>>) -> usize {
    let mut i = skip_ws(c, i);
    let mut path = prefix.to_vec();
    loop {
        if c.get(i) == Some(&'{') {
            i += 1;
            loop {
                i = skip_ws(c, i);
                match c.get(i) {
                    Some('}') => return i + 1,
                    Some(',') => i += 1,
                    None => return i,
                    _ => {
                        let before = i;
                        i = use_tree(c, i, &path, out);
                        if i == before {
                            i += 1;
                        }
                    }
                }
            }
        }
        let (seg, j) = ident_at(c, i);
        if seg.is_empty() {
            // `*` or the end of the path
            out.push(path);
            return i;
        }
        path.push(seg);
        i = skip_ws(c, j);
        if c.get(i) == Some(&':') && c.get(i + 1) == Some(&':') {
            i = skip_ws(c, i + 2);
        } else {
            out.push(path);
            return i;
        }
    }
}

/// Every absolute path (from the crate root) module `me` names.
fn references(me: &[String], code: &str) -> Vec<Vec<String>> {
    let c: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    // inline modules (`mod tests { use super::*; }`) open here: `(name, the
    // brace depth inside it)`; `super` from inside one is the file's module
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < c.len() {
        if c[i] == '{' {
            depth += 1;
            i += 1;
            continue;
        }
        if c[i] == '}' {
            if inline.last().is_some_and(|(_, d)| *d == depth) {
                inline.pop();
            }
            depth = depth.saturating_sub(1);
            i += 1;
            continue;
        }
        if ident_before(&c, i) {
            i += 1;
            continue;
        }
        let (word, j) = ident_at(&c, i);
        if word == "mod" {
            let k = skip_ws(&c, j);
            let (name, e) = ident_at(&c, k);
            let e = skip_ws(&c, e);
            if !name.is_empty() && c.get(e) == Some(&'{') {
                depth += 1;
                inline.push((name, depth));
                i = e + 1;
                continue;
            }
        }
        if (word == "crate" || word == "super")
            && c.get(j) == Some(&':')
            && c.get(j + 1) == Some(&':')
        {
            let mut base: Vec<String> = if word == "crate" {
                Vec::new()
            } else {
                let mut here: Vec<String> = me.to_vec();
                here.extend(inline.iter().map(|(n, _)| n.clone()));
                here.pop();
                here
            };
            let mut k = j + 2;
            // super::super::…
            if word == "super" {
                loop {
                    let (w, e) = ident_at(&c, k);
                    if w == "super" && c.get(e) == Some(&':') && c.get(e + 1) == Some(&':') {
                        base.pop();
                        k = e + 2;
                    } else {
                        break;
                    }
                }
            }
            let mut found = Vec::new();
            let end = use_tree(&c, k, &[], &mut found);
            for f in found {
                let mut p = base.clone();
                p.extend(f);
                out.push(p);
            }
            i = end.max(i + 1);
        } else {
            i = j.max(i + 1);
        }
    }
    out
}

struct Graph {
    modules: BTreeSet<Vec<String>>,
    /// Module → modules it names (deepest module of each path).
    names: BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
}

fn graph(files: &[(Vec<String>, String)]) -> Graph {
    let modules: BTreeSet<Vec<String>> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut names: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (m, text) in files {
        let set = names.entry(m.clone()).or_default();
        for p in references(m, &code_only(text)) {
            let target = (1..=p.len())
                .rev()
                .map(|n| p[..n].to_vec())
                .find(|pre| modules.contains(pre));
            if let Some(t) = target {
                if &t != m && !t.is_empty() {
                    set.insert(t);
                }
            }
        }
    }
    Graph { modules, names }
}

/// Groups of modules that reach each other and span more than one room.
fn circles(g: &Graph) -> Vec<Vec<String>> {
    // a module depends on what it names and on the files inside it
    let mut deps: BTreeMap<&Vec<String>, BTreeSet<&Vec<String>>> = BTreeMap::new();
    for m in &g.modules {
        let d = deps.entry(m).or_default();
        if let Some(n) = g.names.get(m) {
            for t in n {
                // naming a module of one's own folder from its mod.rs is
                // containment, counted below
                if !t.starts_with(m) {
                    d.insert(t);
                }
            }
        }
        for child in &g.modules {
            if child.len() == m.len() + 1 && child.starts_with(m) && !m.is_empty() {
                d.insert(child);
            }
        }
    }
    // reachability (the graph is small): a circle through two rooms
    let reach = |from: &Vec<String>| -> BTreeSet<&Vec<String>> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from];
        while let Some(x) = todo.pop() {
            for y in deps.get(x).into_iter().flatten() {
                if seen.insert(*y) {
                    todo.push(y);
                }
            }
        }
        seen
    };
    let all: BTreeMap<&Vec<String>, BTreeSet<&Vec<String>>> =
        g.modules.iter().map(|m| (m, reach(m))).collect();
    let mut out: BTreeSet<Vec<String>> = BTreeSet::new();
    for (a, ra) in &all {
        let group: Vec<String> = ra
            .iter()
            .filter(|b| all.get(*b).is_some_and(|rb| rb.contains(a)))
            .map(|b| b.join("::"))
            .collect();
        let rooms: BTreeSet<&str> = group
            .iter()
            .map(|n| n.split("::").next().unwrap_or(""))
            .collect();
        if rooms.len() > 1 {
            let mut group = group;
            group.sort();
            out.insert(group);
        }
    }
    out.into_iter().collect()
}

fn room_edges(g: &Graph) -> BTreeSet<(String, String)> {
    let mut e = BTreeSet::new();
    for (m, n) in &g.names {
        for t in n {
            if let (Some(a), Some(b)) = (m.first(), t.first()) {
                if a != b {
                    e.insert((a.clone(), b.clone()));
                }
            }
        }
    }
    e
}

fn src_files() -> Vec<(Vec<String>, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &root, &mut files);
    files
}

#[test]
fn no_circle_between_the_cores_rooms() {
    let files = src_files();
    assert!(files.len() > 20, "read {} files", files.len());
    let g = graph(&files);
    let edges = room_edges(&g);
    for (a, b) in &edges {
        println!("{a} -> {b}");
    }
    // the checker sees the edges the rooms are known to have
    for (a, b) in [("store", "log"), ("store", "watch"), ("registry", "handle")] {
        assert!(
            edges.contains(&(a.to_string(), b.to_string())),
            "{a} -> {b} not seen: {edges:?}"
        );
    }
    let found = circles(&g);
    assert!(
        found.is_empty(),
        "import circles between the core's rooms (break them: a small trait, or a lower module both use):\n{}",
        found
            .iter()
            .map(|c| format!("  {}", c.join(" <-> ")))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

fn file(module: &str, text: &str) -> (Vec<String>, String) {
    let m = if module.is_empty() {
        Vec::new()
    } else {
        module.split("::").map(String::from).collect()
    };
    (m, text.to_string())
}

#[test]
fn the_checker_finds_circles_through_folders_and_ignores_comments() {
    // the circle this renovation broke: store (a folder) and watch
    let files = vec![
        file("", "pub mod store; pub mod watch; pub mod error;"),
        file("store", "mod watching; use crate::error::Error;"),
        file(
            "store::watching",
            "use super::Core;\nuse crate::watch::{Source, Watcher};",
        ),
        file("watch", "use crate::store::{Core, ExternalOutcome};"),
        file("error", ""),
    ];
    let found = circles(&graph(&files));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains(&"watch".to_string()), "{found:?}");
    assert!(
        found[0].contains(&"store::watching".to_string()),
        "{found:?}"
    );

    // the same with the watcher knowing only a trait of its own: no circle;
    // a folder's files using each other and their mod.rs is not one either;
    // paths in comments and strings are not references
    let files = vec![
        file("", "pub mod store; pub mod watch;"),
        file("store", "mod watching; mod writer; use self::writer::X;"),
        file(
            "store::watching",
            "use super::{Core, writer::poke};\nuse crate::watch::{Watched};",
        ),
        file("store::writer", "use super::watching::WatchSet;"),
        file(
            "watch",
            "/// see [`crate::store::Core`]\n// crate::store::x\nconst S: &str = \"crate::store::y\";\npub trait Watched {}",
        ),
    ];
    let g = graph(&files);
    assert!(circles(&g).is_empty(), "{:?}", circles(&g));
    assert_eq!(
        room_edges(&g),
        BTreeSet::from([("store".to_string(), "watch".to_string())])
    );

    // `super` inside an inline module is the file's own module
    let files = vec![
        file("", ""),
        file("fs", "mod platform; use crate::error::Error;"),
        file(
            "fs::platform",
            "fn f() {}\n#[cfg(test)]\nmod tests {\n    use super::*;\n}",
        ),
        file("error", "fn g() { crate::fs::platform::f(); }"),
    ];
    let found = circles(&graph(&files));
    assert!(found.is_empty(), "{found:?}");

    // a nested path in a use tree, and `super::super`
    let files = vec![
        file("", ""),
        file("a", "mod b;"),
        file("a::b", "mod c;"),
        file(
            "a::b::c",
            "use super::super::x; use crate::{d::{self, e::F}};",
        ),
        file("d", "fn f() { crate::a::b::c::g(); }"),
        file("x", ""),
    ];
    let found = circles(&graph(&files));
    assert_eq!(found.len(), 1, "{found:?}");
    // `super::super::x` from a::b::c is an item of `a`, which holds a::b::c
    assert_eq!(found[0], ["a", "a::b", "a::b::c", "d"].map(String::from));
}
