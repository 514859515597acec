'use strict';

/** Human output helpers and the progress bar of the support command. */

/** `n` bytes as text (`1.2 KB`). */
function bytes(n) {
  if (typeof n !== 'number') return '-';
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  do {
    v /= 1024;
    u++;
  } while (v >= 1024 && u < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** An ISO time, or '-'. */
function time(ms) {
  return typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : '-';
}

/** A JSON value shortened for one line. */
function short(value, max = 80) {
  let text;
  try {
    text = JSON.stringify(value);
  } catch {
    text = String(value);
  }
  if (text === undefined) text = 'undefined';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** RFC 6901 pointer → readable path (`/a/b~1c` → `a.b/c` style kept as the pointer). */
function pointer(p) {
  return p === '' ? '(the whole store)' : p;
}

/**
 * The lines of a change's diff: each forward operation with the value it
 * replaced (found in the inverse at the same path).
 */
function diffLines(patch, inverse) {
  const before = new Map();
  for (const op of inverse || []) {
    if (op.op === 'add' || op.op === 'replace') before.set(op.path, op.value);
  }
  return (patch || []).map(op => {
    const p = pointer(op.path);
    switch (op.op) {
      case 'add':
        return `+ ${p} = ${short(op.value)}`;
      case 'remove':
        return before.has(op.path) ? `- ${p} (was ${short(before.get(op.path))})` : `- ${p}`;
      case 'replace':
        return before.has(op.path)
          ? `~ ${p}: ${short(before.get(op.path), 60)} → ${short(op.value, 60)}`
          : `~ ${p} = ${short(op.value)}`;
      default:
        return `${op.op} ${p}${op.from !== undefined ? ` from ${op.from}` : ''}`;
    }
  });
}

/** Left-aligned columns. */
function table(rows) {
  if (rows.length === 0) return '';
  const widths = [];
  for (const r of rows) r.forEach((c, i) => { widths[i] = Math.max(widths[i] || 0, String(c).length); });
  return rows.map(r => r.map((c, i) => (i === r.length - 1 ? String(c) : String(c).padEnd(widths[i]))).join('  ')).join('\n');
}

/**
 * A progress bar on stderr, drawn only when stderr is a terminal (never into
 * a pipe or a file, so `--json` output and logs stay clean), and only for work
 * that lasts: it appears after 300 ms. `TAD_STORE_PROGRESS=always|never`
 * overrides the terminal check.
 */
function progress(label, total, stream = process.stderr) {
  const mode = process.env.TAD_STORE_PROGRESS;
  const on = mode === 'always' || (mode !== 'never' && Boolean(stream.isTTY));
  const started = Date.now();
  let shown = false;
  let last = 0;
  const draw = done => {
    const width = Math.max(10, Math.min(40, (stream.columns || 80) - label.length - 30));
    const ratio = total > 0 ? Math.min(1, done / total) : 1;
    const fill = Math.round(ratio * width);
    stream.write(`\r${label} [${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${String(Math.floor(ratio * 100)).padStart(3)}% ${done}/${total}`);
    shown = true;
  };
  return {
    update(done) {
      if (!on) return;
      const now = Date.now();
      if (mode !== 'always' && now - started < 300) return;
      if (shown && now - last < 100 && done < total) return;
      last = now;
      draw(done);
    },
    end() {
      if (shown) stream.write(stream.isTTY ? '\r\x1b[K' : '\n');
    },
  };
}

module.exports = { bytes, time, short, diffLines, table, progress };
