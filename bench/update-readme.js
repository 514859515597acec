'use strict';

// Rewrites the README's benchmark block (between `<!-- bench:start -->` and
// `<!-- bench:end -->` in "Performance") from bench/results.json: every number in it
// comes from that one full `npm run bench` run, with the run's date and machine load.
//
//   node bench/update-readme.js [results.json] [--force]   (--force: accept a partial run)

const fs = require('node:fs');
const path = require('node:path');

const args = process.argv.slice(2);
const force = args.includes('--force');
const file = path.resolve(args.find((a) => !a.startsWith('--')) || path.join(__dirname, 'results.json'));
const README = path.join(__dirname, '..', 'README.md');
const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

const run = JSON.parse(fs.readFileSync(file, 'utf8'));
if (!run.fullRun && !force) {
  console.error(`${file} is from a partial run (${run.args.join(' ')}); the README's table comes from a full \`npm run bench\` (--force to use it anyway)`);
  process.exit(1);
}

function fmtTime(v) {
  if (!Number.isFinite(v)) return '—';
  if (v < 1e3) return `${v.toFixed(0)} ns`;
  if (v < 1e6) return `${(v / 1e3).toFixed(v < 1e4 ? 2 : 1)} µs`;
  if (v < 1e9) return `${(v / 1e6).toFixed(v < 1e7 ? 2 : 1)} ms`;
  return `${(v / 1e9).toFixed(2)} s`;
}

const find = (id, size) => run.rows.find((r) => r.id === id && (size === undefined || r.size === size));
/** The cell's median alone (`full`: the text with its p95). */
function cell(id, size, lib, full = false) {
  const r = find(id, size);
  if (!r || !r[lib]) return '—';
  const c = r[lib];
  if (full || c.v === null || c.v === undefined) return c.text;
  return /MB|KB/.test(c.text) && !/s\b/.test(c.text) ? c.text : fmtTime(c.v);
}
function ratio(id, size, a, b) {
  const r = find(id, size);
  if (!r || !r[a] || !r[b] || !Number.isFinite(r[a].v) || !Number.isFinite(r[b].v) || r[b].v <= 0) return '—';
  const x = r[a].v / r[b].v;
  return x >= 0.01 ? `${x.toFixed(2)}×` : `${x.toPrecision(2)}×`;
}

const sizes = ['1 KB', '10 MB'].filter((s) => run.rows.some((r) => r.size === s));
const out = [];
out.push(START);
out.push('');
const loadPer = Object.entries(run.loadPerSize || {}).map(([s, l]) => `${s} ${Number(l).toFixed(2)}`).join(', ');
out.push(`From one full \`npm run bench\` run: ${run.date}, Node ${run.node}, ${run.cpus} CPUs (${run.cpuModel}), **load average (1/5/15 min) ${run.loadStart} at the start, ${run.loadEnd} at the end** (1-min load when each size began: ${loadPer}), ${run.sqlite.error ? `SQLite column: ${run.sqlite.error}` : `better-sqlite3 ${run.sqlite.betterSqlite3} (SQLite ${run.sqlite.sqlite})`}, ${run.seconds} s. Every number in this block comes from that run; the full table (p95s, every size, notes) is [bench/results.md](bench/results.md). Medians; ratios are tad / SQLite (< 1: tad-store faster or smaller).`);
out.push('');
out.push(`| metric | ${sizes.map((s) => `${s}: tad | SQLite | conf@10 | tad/SQLite`).join(' | ')} |`);
out.push(`|---|${sizes.map(() => '---|---|---|---').join('|')}|`);
const main = [
  ['warm open (module loaded)', 'open'],
  ['cold start: `require` → first `get` (fresh process)', 'cold'],
  ['`require` alone (fresh process)', 'require'],
  ["small `get('user.locale')`", 'get'],
  ['`set` in bursts, calling thread (tad deferred, SQLite NORMAL)', 'set'],
  ['durable `set`, one at a time (median, p95)', 'durable', true],
  ['  reference: fsync\'d 200-byte append, interleaved (median, p95)', 'durable-ref', true],
  ['100 sets until durable', 'hundred-durable'],
  ['whole-store read (`store`)', 'whole'],
  ['peak RSS (VmHWM, fresh process)', 'rss'],
];
for (const [label, id, full] of main) {
  out.push(`| ${label} | ${sizes.map((s) => `${cell(id, s, 'tad', full)} | ${cell(id, s, 'sqlite', full)} | ${cell(id, s, 'conf', full)} | ${ratio(id, s, 'tad', 'sqlite')}`).join(' | ')} |`);
}
out.push('');
out.push('Several processes on one store (1 KB), same run:');
out.push('');
out.push('| metric | tad | SQLite | conf@10 |');
out.push('|---|---|---|---|');
for (const n of [2, 4]) {
  out.push(`| ${n} processes × 1,000 durable sets: wall time | ${cell(`procs${n}-wall`, undefined, 'tad')} | ${cell(`procs${n}-wall`, undefined, 'sqlite')} | ${cell(`procs${n}-wall`, undefined, 'conf')} |`);
  out.push(`| ${n} processes × 1,000 durable sets: updates kept | ${cell(`procs${n}-kept`, undefined, 'tad')} | ${cell(`procs${n}-kept`, undefined, 'sqlite')} | ${cell(`procs${n}-kept`, undefined, 'conf')} |`);
}
out.push(`| lock hand-off: a durable set waiting for another process's lock, done after it is let go | ${cell('handoff', undefined, 'tad')} | ${cell('handoff', undefined, 'sqlite')} | — |`);
out.push(`|   the same durable set, nobody holding the lock | ${cell('handoff-ref', undefined, 'tad')} | ${cell('handoff-ref', undefined, 'sqlite')} | — |`);
out.push(`| watch: editor save → change event / another process's \`set\` → change event | ${cell('watch-editor', undefined, 'tad')} / ${cell('watch-remote', undefined, 'tad')} | no notification | up to ~10 s |`);
out.push(`| \`get\` / deferred \`set\` (calling thread) with watching on | ${cell('watch-get', undefined, 'tad')} / ${cell('watch-set', undefined, 'tad')} | — | — |`);
out.push('');
if (find('secret-get')) {
  out.push('Secrets at rest (2 KB store; conf@10 with `encryptionKey`), same run:');
  out.push('');
  out.push('| metric | tad | conf@10 (`encryptionKey`) |');
  out.push('|---|---|---|');
  out.push(`| \`get('ai.apiKey')\`, \`secretKeys\` store / \`encryptionKey\` store | ${cell('secret-get', undefined, 'tad')} / ${cell('legacy-get', undefined, 'tad')} | ${cell('secret-get', undefined, 'conf')} |`);
  out.push(`| deferred \`set\` of a secret, calling thread (\`secretKeys\` / \`encryptionKey\`) | ${cell('secret-set', undefined, 'tad')} / ${cell('legacy-set', undefined, 'tad')} | ${cell('secret-set', undefined, 'conf')} |`);
  out.push(`| one secret \`set\` until \`await flush()\` (\`secretKeys\` / \`encryptionKey\`) | ${cell('secret-flush', undefined, 'tad')} | — |`);
  out.push('');
}
if (run.rows.some((r) => r.id === 'backup' && r.size === '10 MB')) {
  out.push('Big-store operations at 10 MB (tad only), same run:');
  out.push('');
  out.push('| operation | until it resolves | longest hold of the JS thread | reference |');
  out.push('|---|---|---|---|');
  out.push(`| \`createBackup()\` | ${cell('backup', '10 MB', 'tad')} | ${cell('backup-hold', '10 MB', 'tad')} | copy + fsync ${cell('copy-fsync', '10 MB', 'tad')} |`);
  out.push(`| \`restoreBackup()\` | ${cell('restore', '10 MB', 'tad')} | ${cell('restore-hold', '10 MB', 'tad')} | until flushed ${cell('restore-flushed', '10 MB', 'tad')} |`);
  out.push(`| \`rollbackToSeq()\` over 100 changes | ${cell('rollback', '10 MB', 'tad')} | ${cell('rollback-hold', '10 MB', 'tad')} | until flushed ${cell('rollback-flushed', '10 MB', 'tad')}; one document write ${cell('doc-write', '10 MB', 'tad')} |`);
  const wide = find('wide-object-calling', '10 MB');
  const keys = wide ? (/(\d+)-key object/.exec(wide.metric) || [])[1] : null;
  out.push(`| a \`set\` inside the widest object${keys ? ` (${Number(keys).toLocaleString('en-US')} keys)` : ''}: writer-thread CPU per set | calling thread ${cell('wide-object-calling', '10 MB', 'tad')}; 1000 until flushed ${cell('wide-object-flushed', '10 MB', 'tad')} | — | writer CPU ${cell('wide-object-writer', '10 MB', 'tad')} per set (a small key: ${cell('wide-narrow-writer', '10 MB', 'tad')}) |`);
  out.push('');
}
const t = run.targets;
const tally = t[0] || '';
const fails = t.filter((l) => l.startsWith('- FAIL'));
const passes = t.filter((l) => l.startsWith('- PASS'));
const skips = t.filter((l) => l.startsWith('- SKIP'));
out.push(`Targets, as the bench judged them in this run: ${tally.replace(/\*\*/g, '')}.`);
out.push('');
if (fails.length) out.push(...fails);
out.push('');
out.push(`<details><summary>${passes.length} targets met${skips.length ? `, ${skips.length} skipped` : ''}</summary>`);
out.push('');
out.push(...passes, ...skips);
out.push('');
out.push('</details>');
out.push('');
out.push(END);

const readme = fs.readFileSync(README, 'utf8');
const a = readme.indexOf(START);
const b = readme.indexOf(END);
if (a < 0 || b < a) {
  console.error(`README.md has no ${START} … ${END} block`);
  process.exit(1);
}
fs.writeFileSync(README, readme.slice(0, a) + out.join('\n') + readme.slice(b + END.length));
console.log(`README.md: benchmark block rewritten from ${path.relative(process.cwd(), file)} (${run.date})`);
