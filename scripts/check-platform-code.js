'use strict';
// Checks that every platform-specific API in the Rust sources sits behind a
// #[cfg] that guarantees its platform, so Windows and macOS builds compile by
// construction even where only Linux is built: `std::os::unix`, `std::os::fd`
// and `libc::` need `unix` (libc is a `cfg(unix)` dependency), `std::os::linux`,
// `libc::SYS_*` and Linux-only calls (`renameat2`, `statx`, `fallocate`,
// `sync_file_range`, `copy_file_range`, `fdatasync`, `O_TMPFILE`, `O_DIRECT`,
// `inotify_*`) need `target_os = "linux"`, Apple-only ones (`F_FULLFSYNC`,
// `F_BARRIERFSYNC`, `F_NOCACHE`, `F_GETPATH`) need `target_os = "macos"` (or
// `target_vendor = "apple"`), `std::os::windows`, `windows_sys::` and
// `winapi::` need `windows`. An OS error number written as a literal
// (`from_raw_os_error(28)`, `raw_os_error() == Some(5)`, `errno: 28`) means
// another error on another OS (ENOSPC is 28 on Linux and macOS, 28 is
// ERROR_OUT_OF_PAPER on Windows; ENOTEMPTY is 39 on Linux, 66 on macOS):
// name it (`libc::ENOSPC`, `error::raw::NO_SPACE`) or put it under a cfg
// naming one OS. `cfg!(...)` in an `if` is no guard (both branches are
// compiled everywhere). Cargo.toml files must not list libc outside a
// `[target.'cfg(unix)'...]` table.
//
// The JS specs (`__test__/*.js`) run on Linux, macOS and Windows too: they may
// not read Unix modes directly (`.mode & 0o777`: use helpers.js' `fileMode` /
// `assertMode` behind `HAS_MODES`), assert a self-inflicted SIGKILL's signal
// (Windows reports exit code 1: use `assertSelfKilled`), or compare an errno
// with a number (use `os.constants.errno`).
//
//   node scripts/check-platform-code.js   prints each problem; exit 1 if any

const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const RUST_DIRS = ['src', 'core/src', 'core/tests', 'core/examples', 'core/benches'];
const MANIFESTS = ['Cargo.toml', 'core/Cargo.toml'];
const SPEC_DIR = '__test__';
// the helpers that implement the portable forms, and the checker's own samples
const SPEC_EXEMPT = new Set(['helpers.js', 'platform.spec.js']);

const LINUX_ONLY = ['renameat2', 'statx', 'fallocate', 'fallocate64', 'sync_file_range', 'copy_file_range', 'fdatasync', 'O_TMPFILE', 'O_DIRECT', 'inotify_init', 'inotify_init1', 'inotify_add_watch', 'inotify_rm_watch', 'RENAME_EXCHANGE', 'RENAME_NOREPLACE'];
const APPLE_ONLY = ['F_FULLFSYNC', 'F_BARRIERFSYNC', 'F_NOCACHE', 'F_GETPATH'];

// What each API needs. `linux` implies `unix`.
const APIS = [
  { re: /\bstd::os::linux\b/g, needs: 'linux' },
  { re: /\blibc::SYS_\w+/g, needs: 'linux' },
  { re: new RegExp(`\\blibc::(?:${LINUX_ONLY.join('|')})\\b`, 'g'), needs: 'linux' },
  { re: new RegExp(`\\blibc::(?:${APPLE_ONLY.join('|')})\\b`, 'g'), needs: 'macos' },
  // an OS error number as a literal
  { re: /\bfrom_raw_os_error\s*\(\s*-?\d+/g, needs: 'one-os' },
  { re: /\braw_os_error\s*\(\s*\)\s*==\s*Some\s*\(\s*-?\d+/g, needs: 'one-os' },
  { re: /\berrno\s*:\s*-?\d+/g, needs: 'one-os' },
  { re: /\bstd::os::(?:unix|fd)\b/g, needs: 'unix' },
  { re: /\blibc::/g, needs: 'unix' },
  { re: /\buse\s+libc\b/g, needs: 'unix' },
  { re: /\bstd::os::windows\b/g, needs: 'windows' },
  { re: /\b(?:windows_sys|winapi)::/g, needs: 'windows' },
];

const UNIX_OSES = new Set(['linux', 'android', 'macos', 'ios', 'freebsd', 'openbsd', 'netbsd', 'dragonfly', 'solaris', 'illumos']);

/** Blanks out comments, strings and char literals (newlines kept, so offsets and lines stay). */
function stripNonCode(src) {
  const out = src.split('');
  const blank = (a, b) => { for (let k = a; k < b; k++) if (out[k] !== '\n') out[k] = ' '; };
  let i = 0;
  const n = src.length;
  const ident = c => /[A-Za-z0-9_]/.test(c || '');
  while (i < n) {
    const c = src[i];
    if (c === '/' && src[i + 1] === '/') {
      const e = src.indexOf('\n', i);
      const end = e < 0 ? n : e;
      blank(i, end);
      i = end;
    } else if (c === '/' && src[i + 1] === '*') {
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        if (src[j] === '/' && src[j + 1] === '*') { depth++; j += 2; } else if (src[j] === '*' && src[j + 1] === '/') { depth--; j += 2; } else j++;
      }
      blank(i, j);
      i = j;
    } else if ((c === 'r' || (c === 'b' && src[i + 1] === 'r')) && !ident(src[i - 1])) {
      const m = /^b?r(#*)"/.exec(src.slice(i, i + 260));
      if (!m) { i++; continue; }
      const close = `"${m[1]}`;
      const e = src.indexOf(close, i + m[0].length);
      const end = e < 0 ? n : e + close.length;
      blank(i, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      while (j < n && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      blank(i, j + 1);
      i = j + 1;
    } else if (c === '\'') {
      // a char literal ('x', '\n', '\'', '\u{..}') or a lifetime ('a, 'static)
      let end = -1;
      if (src[i + 1] === '\\') {
        const e = src.indexOf('\'', i + 3);
        end = e < 0 ? -1 : e + 1;
      } else if (src[i + 2] === '\'') end = i + 3;
      else if (src[i + 3] === '\'' && src.codePointAt(i + 1) > 0xffff) end = i + 4;
      if (end > 0) { blank(i, end); i = end; } else i++;
    } else {
      i++;
    }
  }
  return out.join('');
}

/** Splits a cfg predicate's arguments at top-level commas. */
function splitArgs(s) {
  const parts = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')') depth--;
    else if (s[i] === ',' && depth === 0) { parts.push(s.slice(start, i)); start = i + 1; }
  }
  parts.push(s.slice(start));
  return parts.map(p => p.trim()).filter(Boolean);
}

/**
 * The platform families a cfg predicate guarantees (`unix`, `linux`,
 * `windows`). `all` guarantees what any part does, `any` what every part does,
 * `not(...)` nothing.
 */
function guarantees(pred) {
  pred = pred.trim();
  const call = /^(all|any|not)\s*\(([\s\S]*)\)$/.exec(pred);
  if (call) {
    if (call[1] === 'not') return new Set();
    const sets = splitArgs(call[2]).map(p => guarantees(p));
    if (call[1] === 'all') return new Set(sets.flatMap(s => [...s]));
    if (sets.length === 0) return new Set();
    return new Set([...sets[0]].filter(f => sets.every(s => s.has(f))));
  }
  if (pred === 'unix') return new Set(['unix']);
  if (pred === 'windows') return new Set(['windows']);
  // `--cfg tad_check_windows` (npm run check:windows) type-checks the Windows
  // syscall module elsewhere: windows-sys is a dependency under that cfg too
  if (pred === 'tad_check_windows') return new Set(['windows']);
  const kv = /^(target_os|target_family|target_vendor)\s*=\s*"?(\w+)"?$/.exec(pred);
  if (kv) {
    const v = kv[2];
    if (kv[1] === 'target_family') return new Set(v === 'unix' ? ['unix'] : v === 'windows' ? ['windows'] : []);
    if (kv[1] === 'target_vendor') return new Set(v === 'apple' ? ['macos', 'unix', 'one-os'] : []);
    if (v === 'linux' || v === 'android') return new Set(['linux', 'unix', 'one-os']);
    if (v === 'windows') return new Set(['windows', 'one-os']);
    if (v === 'macos' || v === 'ios') return new Set(['macos', 'unix', 'one-os']);
    if (UNIX_OSES.has(v)) return new Set(['unix', 'one-os']);
  }
  return new Set();
}

/**
 * Every use of a platform API in `src` not guarded for its platform:
 * `[{ line, api, needs }]`.
 */
function scan(src) {
  const code = stripNonCode(src);
  const lineAt = off => src.slice(0, off).split('\n').length;
  // one report per position (`libc::SYS_x` matches two patterns: keep the stricter)
  const useAt = new Map();
  for (const { re, needs } of APIS) {
    for (const m of code.matchAll(re)) {
      const prev = useAt.get(m.index);
      if (!prev || (prev.needs === 'unix' && needs !== 'unix')) useAt.set(m.index, { api: m[0], needs });
    }
  }

  const violations = [];
  let fileGuard = new Set();
  const stack = []; // one per open bracket: { guard, brace, ownsPending }
  let pending = null; // the cfg of the item being read: { guard, depth }
  const active = () => {
    const s = new Set(fileGuard);
    for (const b of stack) for (const f of b.guard) s.add(f);
    if (pending) for (const f of pending.guard) s.add(f);
    return s;
  };
  const ok = (needs, g) => g.has(needs) || (needs === 'unix' && (g.has('linux') || g.has('macos'))) || (needs === 'one-os' && g.has('windows'));

  for (let i = 0; i < code.length; i++) {
    const u = useAt.get(i);
    if (u) {
      if (!ok(u.needs, active())) violations.push({ line: lineAt(i), api: u.api, needs: u.needs });
      continue;
    }
    const c = code[i];
    if (c === '#' && (code[i + 1] === '[' || (code[i + 1] === '!' && code[i + 2] === '['))) {
      const inner = code[i + 1] === '!';
      const open = i + (inner ? 2 : 1);
      let depth = 0;
      let j = open;
      for (; j < code.length; j++) {
        if (code[j] === '[') depth++;
        else if (code[j] === ']' && --depth === 0) break;
      }
      const text = src.slice(open + 1, j).trim();
      const cfg = /^cfg\s*\(([\s\S]*)\)$/.exec(text);
      if (cfg) {
        const g = guarantees(cfg[1]);
        if (inner && stack.length === 0) fileGuard = new Set([...fileGuard, ...g]);
        else if (inner) for (const f of g) stack[stack.length - 1].guard.add(f);
        else if (pending && pending.depth === stack.length) for (const f of g) pending.guard.add(f);
        else pending = { guard: new Set(g), depth: stack.length };
      }
      i = j;
      continue;
    }
    if (c === '{' || c === '(' || c === '[') {
      const ownsPending = pending && pending.depth === stack.length;
      stack.push({ guard: ownsPending ? new Set(pending.guard) : new Set(), brace: c === '{', ownsPending });
      continue;
    }
    if (c === '}' || c === ')' || c === ']') {
      const b = stack.pop();
      if (pending && pending.depth > stack.length) pending = null; // the guarded thing was the last in its list
      if (b && b.ownsPending && b.brace && pending) {
        // the guarded item's block ended; an `else` continues it
        const rest = code.slice(i + 1).trimStart();
        if (!rest.startsWith('else')) pending = null;
      }
      continue;
    }
    if ((c === ';' || c === ',') && pending && pending.depth === stack.length) pending = null;
  }
  return violations;
}

const NEEDS_TEXT = {
  unix: 'needs #[cfg(unix)]',
  linux: 'needs #[cfg(target_os = "linux")]',
  macos: 'needs #[cfg(target_os = "macos")] (or target_vendor = "apple")',
  windows: 'needs #[cfg(windows)]',
  'one-os': 'is an OS error number that differs between OSes: name it (libc::E..., error::raw) or guard it with a cfg naming one OS',
};

/** What the JS specs may not assume (see the header). */
const SPEC_RULES = [
  { re: /\.mode\s*&\s*0o?[0-7]+/g, why: 'reads Unix mode bits (Windows has none): use fileMode()/assertMode() from helpers.js behind HAS_MODES' },
  { re: /\b(?:equal|strictEqual)\(\s*[\w.]*signal\w*\s*,\s*'SIGKILL'/g, why: 'asserts a SIGKILL signal; if the child killed itself, Windows reports exit code 1 instead: use assertSelfKilled() (a parent\'s child.kill() is reported as SIGKILL everywhere: mark that line `// parent kill`)' },
  { re: /\berrno\s*(?:,|===?|!==?)\s*-?\d+/g, why: 'compares an errno with a number: use os.constants.errno' },
];

/** Problems in a JS spec: `[{ line, why }]`. */
function scanSpec(src) {
  const out = [];
  const lines = src.split('\n');
  for (const { re, why } of SPEC_RULES) {
    for (const m of src.matchAll(re)) {
      const line = src.slice(0, m.index).split('\n').length;
      if (/\/\/ parent kill/.test(lines[line - 1])) continue;
      out.push({ line, why });
    }
  }
  return out.sort((a, b) => a.line - b.line);
}

/** Lines of a Cargo.toml that list libc outside a `cfg(unix)` target table. */
function scanManifest(text) {
  const bad = [];
  let section = '';
  text.split('\n').forEach((line, k) => {
    const head = /^\s*\[([^\]]+)\]/.exec(line);
    if (head) { section = head[1]; return; }
    if (/^\s*libc\s*=/.test(line) && !/^target\.'cfg\((unix|target_os\s*=\s*"linux")\)'\.(dev-)?dependencies$/.test(section)) {
      bad.push({ line: k + 1, section });
    }
  });
  return bad;
}

function rustFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return rustFiles(p);
    return e.name.endsWith('.rs') ? [p] : [];
  });
}

function checkRepo(base = root) {
  const problems = [];
  for (const dir of RUST_DIRS) {
    for (const file of rustFiles(path.join(base, dir))) {
      for (const v of scan(fs.readFileSync(file, 'utf8'))) {
        problems.push(`${path.relative(base, file)}:${v.line}: ${v.api} ${NEEDS_TEXT[v.needs]}`);
      }
    }
  }
  const specs = path.join(base, SPEC_DIR);
  if (fs.existsSync(specs)) {
    for (const name of fs.readdirSync(specs).filter(n => n.endsWith('.js') && !SPEC_EXEMPT.has(n)).sort()) {
      for (const v of scanSpec(fs.readFileSync(path.join(specs, name), 'utf8'))) {
        problems.push(`${SPEC_DIR}/${name}:${v.line}: ${v.why}`);
      }
    }
  }
  for (const m of MANIFESTS) {
    const file = path.join(base, m);
    if (!fs.existsSync(file)) continue;
    for (const v of scanManifest(fs.readFileSync(file, 'utf8'))) {
      problems.push(`${m}:${v.line}: libc listed under [${v.section}]; it belongs under [target.'cfg(unix)'.dependencies]`);
    }
  }
  return problems;
}

module.exports = { scan, scanManifest, scanSpec, checkRepo, stripNonCode };

if (require.main === module) {
  const problems = checkRepo();
  for (const p of problems) console.error(p);
  if (problems.length) {
    console.error(`check-platform-code: ${problems.length} platform-specific use(s) outside a matching #[cfg] or spec(s) assuming one OS`);
    process.exitCode = 1;
  } else {
    console.log('check-platform-code: every platform-specific API is behind a matching #[cfg], and the specs assume no one OS');
  }
}
