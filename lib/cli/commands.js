'use strict';

/**
 * The support command's commands. Each takes the parsed `{ values,
 * positionals }` and returns `{ data, text, exitCode? }`: `data` is what
 * `--json` prints, `text` the human output. Read-only commands use only the
 * inspector (no write, no lock, no repair); `rollback` and `restore` open the
 * store as a writer.
 */

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { cliError, exitCodeOf, EXIT } = require('./errors.js');
const { storePaths, keysOf, inspect, openWriter } = require('./store.js');
const { bytes, time, diffLines, table, progress } = require('./format.js');

/** A time option: ISO date/time, or a duration back from now (`30m`, `2h`, `7d`). */
function parseTime(text, option) {
  const rel = /^(\d+(?:\.\d+)?)(s|m|h|d|w)$/.exec(text);
  if (rel) {
    const unit = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 }[rel[2]];
    return Date.now() - Number(rel[1]) * unit;
  }
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) {
    throw cliError('E_USAGE', `${option} takes an ISO time (2026-12-01T10:00:00Z) or a duration back from now (30m, 2h, 7d), not ${JSON.stringify(text)}`);
  }
  return ms;
}

/** The store version migrations recorded (`__internal__.migrations.version`). */
function versionOf(inspector) {
  const text = inspector.document(false);
  if (text === null) return null;
  try {
    const doc = JSON.parse(text);
    const v = doc && doc.__internal__ && doc.__internal__.migrations && doc.__internal__.migrations.version;
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}

/**
 * A sealed journal read without any key: the history cannot be read, which
 * is not damage (only `history`, `verify` and `rollback` need the key).
 */
function keyOnlyForHistory(s, keyGiven) {
  return Boolean(s.journal.fatal) && s.journal.fatal.code === 'E_SECRET_KEY' && !keyGiven;
}

/**
 * A new store whose file is not written yet: a change is durable in the
 * journal, and the file follows at the first checkpoint. The journal then
 * holds every change from the first and no checkpoint.
 */
function notWrittenYet(s) {
  const j = s.journal;
  return !s.document.file.exists && j.file.exists && !j.fatal && !j.damaged && j.checkpoints === 0 && j.firstSeq === 1;
}

/** What the store's next open would do, from what was read (no repair here). */
function recoveryReport(s, keyGiven = false) {
  const items = [];
  const d = s.document;
  const j = s.journal;
  if (keyOnlyForHistory(s, keyGiven)) {
    items.push({ code: null, what: 'encrypted-history', message: 'The history is encrypted (secretKeys or encryptionKey): give the key (--key-file or --encryption-key-file) to read or check it' });
  }
  if (notWrittenYet(s)) {
    // a new store: a change is durable in the journal; the file follows at the first checkpoint
    items.push({ code: null, what: 'not-written-yet', message: 'The store file is not written yet: the journal holds every change from the first, and the store writes the file at its next checkpoint' });
  } else if (!d.file.exists && j.file.exists) {
    items.push({ code: 'E_CORRUPT', what: 'missing-file', message: 'The store file is missing but its journal is there: the next open rebuilds it from the journal (or the newest valid backup plus the journal)' });
  }
  if (d.error) {
    items.push({ code: d.error.code, what: 'document', message: d.error.code === 'E_SECRET_KEY' ? d.error.message : `The store file does not read (${d.error.message}). The next open keeps it aside as ${path.basename(s.document.path)}.corrupt-<ms> and rebuilds the newest valid state from the journal or a backup` });
  }
  if (j.fatal && !keyOnlyForHistory(s, keyGiven)) items.push({ code: j.fatal.code, what: 'journal', message: j.fatal.message });
  if (j.damaged) {
    items.push({ code: 'E_JOURNAL', what: 'journal', message: `The journal is damaged: ${j.damaged}. The next open keeps the lines from there aside (.damaged-<ms>) and does not trust them` });
  }
  if (j.torn) {
    items.push({ code: null, what: 'torn-line', message: 'The journal\'s last line is incomplete: an append in progress (another process is writing) or a crash during one; it was never acknowledged and the next writer cuts it' });
  }
  if (s.anchor.state === 'unmatched' && !j.fatal) {
    items.push({ code: 'E_HISTORY_MISMATCH', what: 'external-edit', message: 'The store file matches no state the journal records: another program edited it while the store was closed (the next open records the edit as an `external-edit` entry), or it was damaged' });
  }
  if (s.anchor.state === 'seq' && j.lastSeq !== null && j.lastSeq > s.anchor.seq) {
    items.push({ code: null, what: 'pending', message: `${j.lastSeq - s.anchor.seq} change(s) are in the journal but not yet in the store file (an app writing now writes them within moments; otherwise the next open replays them)` });
  }
  if (d.invalidUtf8) items.push({ code: null, what: 'invalid-utf8', message: 'The store file holds bytes that are not UTF-8 (read as U+FFFD, as electron-store reads them)' });
  if (s.quarantined.length > 0) {
    items.push({ code: null, what: 'quarantined', message: `${s.quarantined.length} damaged or refused file(s) kept aside earlier: ${s.quarantined.map(p => path.basename(p)).join(', ')}` });
  }
  if (s.temps.length > 0) {
    items.push({ code: null, what: 'temp-files', message: `${s.temps.length} temp file(s): a write in progress, or left by a crashed writer (removed at the next open)` });
  }
  return items;
}

/** The exit code for an inspection: damaged, key problems, or fine. */
function healthExit(s, keyGiven) {
  if (s.journal.fatal && !keyOnlyForHistory(s, keyGiven)) return exitCodeOf(s.journal.fatal.code);
  if (s.document.error) return exitCodeOf(s.document.error.code);
  if (s.journal.damaged || (!s.document.file.exists && s.journal.file.exists && !notWrittenYet(s))) return EXIT.DAMAGED;
  return EXIT.OK;
}

function errorOf(s, keyGiven) {
  if (s.journal.fatal && !keyOnlyForHistory(s, keyGiven)) return s.journal.fatal;
  if (s.document.error) return s.document.error;
  if (s.journal.damaged) return { code: 'E_JOURNAL', message: `The journal is damaged: ${s.journal.damaged}` };
  if (!s.document.file.exists && !notWrittenYet(s)) return { code: 'E_CORRUPT', message: 'The store file is missing (its journal is there)' };
  return null;
}

function entriesOf(inspector, sinceMs, patches) {
  return JSON.parse(inspector.entries(sinceMs, patches));
}

function backupsOf(inspector) {
  return JSON.parse(inspector.backups()).map(b => ({ kind: b.kind, file: b.backup.file, path: b.backup.path, ...b.backup.metadata }));
}

// ---------------------------------------------------------------------------

function cmdInspect({ values, positionals }) {
  const paths = storePaths(positionals[0], values);
  const keys = keysOf(values);
  const keyGiven = Boolean(keys.secretKey || keys.encryptionKey);
  const { inspector, summary: s } = inspect(paths, keys);
  const last = entriesOf(inspector, undefined, false).slice(-10).reverse();
  let backups = [];
  let backupsError = null;
  try {
    backups = backupsOf(inspector);
  } catch (error) {
    backupsError = { code: error.code, message: error.message };
  }
  const newest = backups.find(b => b.backupTime !== undefined);
  const data = {
    path: paths.doc,
    version: versionOf(inspector),
    document: {
      exists: s.document.file.exists,
      size: s.document.file.size,
      modified: s.document.file.mtime === null ? null : time(s.document.file.mtime),
      keyCount: s.document.keys ? s.document.keys.length : null,
      keys: s.document.keys,
      encryptedKeys: s.document.sealed.map(p => p.join('.')),
      error: s.document.error,
    },
    journal: {
      path: s.journal.path,
      exists: s.journal.file.exists,
      size: s.journal.file.size,
      changes: s.journal.changes,
      checkpoints: s.journal.checkpoints,
      firstSeq: s.journal.firstSeq,
      lastSeq: s.journal.lastSeq,
      firstChange: s.journal.firstTime === null ? null : time(s.journal.firstTime),
      lastChange: s.journal.lastTime === null ? null : time(s.journal.lastTime),
      lastCheckpoint: s.journal.lastCheckpoint,
    },
    state: s.anchor,
    lastChanges: last.map(e => ({ seq: e.seq, timestamp: e.timestamp, operation: e.operation, keys: e.keys })),
    backups: { count: backups.length, newest: newest ? newest.backupTime : null, error: backupsError },
    recovery: recoveryReport(s, keyGiven),
  };
  const lines = [];
  lines.push(`Store    ${paths.doc}`);
  lines.push(`Version  ${data.version || '(no migrations recorded)'}`);
  if (s.document.file.exists) {
    lines.push(`File     ${bytes(s.document.file.size)}, modified ${data.document.modified}${s.document.error ? `, DOES NOT READ: ${s.document.error.code}` : ''}`);
  } else {
    lines.push('File     MISSING');
  }
  if (s.document.keys) {
    lines.push(`Keys     ${s.document.keys.length}`);
    const rows = s.document.keys.map(k => [`  ${k.key}`, k.type, bytes(k.bytes)]);
    if (rows.length) lines.push(table(rows));
  }
  if (data.document.encryptedKeys.length) lines.push(`Encrypted values at: ${data.document.encryptedKeys.join(', ')}`);
  lines.push(`Journal  ${s.journal.file.exists ? `${bytes(s.journal.file.size)}, ${s.journal.changes} change(s)${s.journal.changes ? ` (#${s.journal.firstSeq}–#${s.journal.lastSeq}, ${data.journal.firstChange} – ${data.journal.lastChange})` : ''}, ${s.journal.checkpoints} checkpoint(s)` : 'none'}`);
  const state = s.anchor.state === 'seq' ? `the file holds the state after change #${s.anchor.seq}`
    : s.anchor.state === 'no-history' ? 'no history yet'
      : s.anchor.state === 'unmatched' ? 'the file matches no state in the journal' : 'the file cannot be read';
  lines.push(`State    ${state}`);
  lines.push(`Backups  ${backups.length}${newest ? `, newest ${newest.backupTime} (${newest.reason})` : ''}${backupsError ? ` (cannot list: ${backupsError.code})` : ''}`);
  if (last.length) {
    lines.push('Last changes');
    lines.push(table(last.map(e => [`  #${e.seq}`, e.timestamp, e.operation, e.keys.join(', ')])));
  }
  lines.push(data.recovery.length ? 'Recovery' : 'Recovery: nothing to recover');
  for (const r of data.recovery) lines.push(`  - ${r.code ? `[${r.code}] ` : ''}${r.message}`);
  return { data, text: lines.join('\n'), exitCode: healthExit(s, keyGiven), error: errorOf(s, keyGiven) };
}

function cmdHistory({ values, positionals }) {
  const paths = storePaths(positionals[0], values);
  const since = values.since === undefined ? undefined : parseTime(values.since, '--since');
  const { inspector, summary: s } = inspect(paths, keysOf(values));
  if (s.journal.fatal) throw cliError(s.journal.fatal.code, s.journal.fatal.message);
  let entries = entriesOf(inspector, since, true);
  if (values.limit !== undefined) {
    const n = Number(values.limit);
    if (!Number.isSafeInteger(n) || n < 1) throw cliError('E_USAGE', `--limit takes a positive integer, not ${JSON.stringify(values.limit)}`);
    entries = entries.slice(-n);
  }
  const data = {
    path: paths.doc,
    since: since === undefined ? null : time(since),
    totalEntries: s.journal.changes,
    entries,
    damaged: s.journal.damaged,
    torn: s.journal.torn,
  };
  const lines = [];
  if (entries.length === 0) lines.push(since === undefined ? 'No history entries.' : `No history entries since ${data.since}.`);
  for (const e of entries) {
    lines.push(`#${e.seq}  ${e.timestamp}  ${e.operation}  ${e.keys.join(', ')}${e.reversible ? '' : '  (cannot be undone)'}`);
    for (const l of diffLines(e.patch, e.inverse)) lines.push(`    ${l}`);
  }
  if (s.journal.damaged) lines.push(`WARNING: the journal is damaged after these entries: ${s.journal.damaged}`);
  const exitCode = s.journal.damaged ? EXIT.DAMAGED : EXIT.OK;
  return { data, text: lines.join('\n'), exitCode, error: s.journal.damaged ? { code: 'E_JOURNAL', message: `The journal is damaged: ${s.journal.damaged} (the entries before it are shown)` } : null };
}

/** Runs the verification with a progress bar; returns the result JSON. */
function runVerify(inspector, label = 'verifying') {
  const total = inspector.verifyBegin();
  const bar = progress(label, total);
  let done = 0;
  try {
    while (done < total) {
      done = inspector.verifyStep(64);
      bar.update(done);
    }
  } finally {
    bar.end();
  }
  return JSON.parse(inspector.verifyResult());
}

/** The exit code of a verification: the gravest failure decides. */
function verifyExit(result) {
  const failed = result.checks.filter(c => !c.ok);
  if (failed.length === 0) return EXIT.OK;
  const codes = failed.map(c => exitCodeOf(c.code === 'E_FILE_MISSING' ? 'E_CORRUPT' : c.code));
  for (const want of [EXIT.KEY, EXIT.DAMAGED, EXIT.NOT_FOUND]) if (codes.includes(want)) return want;
  return EXIT.VERIFY_FAILED;
}

function cmdVerify({ values, positionals }) {
  const paths = storePaths(positionals[0], values);
  const { inspector, summary } = inspect(paths, keysOf(values));
  const result = runVerify(inspector);
  if (summary.document.error && summary.document.error.code === 'E_SECRET_KEY') {
    // an encrypted file read without its key is not damaged
    for (const c of result.checks) {
      if (c.kind === 'document' && !c.ok) Object.assign(c, { code: 'E_SECRET_KEY', detail: summary.document.error.message });
    }
  }
  const failed = result.checks.filter(c => !c.ok);
  const skipped = result.checks.filter(c => c.skipped);
  const count = kind => result.checks.filter(c => c.kind === kind && c.ok && !c.skipped).length;
  const data = { path: paths.doc, ok: result.ok, checks: result.checks };
  const lines = [];
  lines.push(`${result.ok ? 'OK' : 'FAILED'}: ${paths.doc}`);
  const chain = count('chain') > 0 ? 'journal hash chain, ' : 'no journal yet, ';
  lines.push(`  ${chain}document, ${count('replay') + count('undo')} history entries replayed or undone, ${count('backup')} backup(s), ${count('snapshot')} migration snapshot(s) verified`);
  for (const c of failed) lines.push(`  FAIL [${c.code}] ${c.kind} ${c.subject}: ${c.detail}`);
  for (const c of skipped) lines.push(`  note ${c.kind} ${c.subject}: ${c.detail}`);
  const exitCode = verifyExit(result);
  const error = failed.length ? { code: exitCode === EXIT.VERIFY_FAILED ? 'E_VERIFY_FAILED' : failed[0].code, message: `${failed.length} check(s) failed; the first: ${failed[0].kind} ${failed[0].subject}: ${failed[0].detail}` } : null;
  return { data, text: lines.join('\n'), exitCode, error };
}

function rollbackTarget(to) {
  if (to === undefined) throw cliError('E_USAGE', 'rollback needs --to <ISO time|seq>');
  if (/^\d+$/.test(to)) {
    const seq = Number(to);
    if (!Number.isSafeInteger(seq)) throw cliError('E_USAGE', `--to ${to}: not a change number`);
    return { kind: 0, value: seq, label: `change #${seq}` };
  }
  const ms = Date.parse(to);
  if (!Number.isFinite(ms)) throw cliError('E_USAGE', `--to takes an ISO time (2026-12-01T10:00:00Z) or a change number (seq), not ${JSON.stringify(to)}`);
  return { kind: 1, value: ms, label: new Date(ms).toISOString() };
}

function secretKeysOption(values) {
  if (values['secret-keys'] === undefined) return [];
  return values['secret-keys'].split(',').map(k => k.trim()).filter(Boolean);
}

async function cmdRollback({ values, positionals }) {
  const paths = storePaths(positionals[0], values);
  const target = rollbackTarget(values.to);
  const keys = keysOf(values);
  const { inspector, summary } = inspect(paths, keys);
  if (summary.journal.fatal) throw cliError(summary.journal.fatal.code, summary.journal.fatal.message);
  if (values['dry-run']) {
    const plan = JSON.parse(inspector.rollbackPlan(target.kind, target.value));
    const data = { path: paths.doc, dryRun: true, to: target.label, ...plan };
    const lines = [`Dry run: rolling back to ${target.label} would undo ${plan.reverted} change(s) (#${plan.fromSeq} → state after #${plan.targetSeq}); nothing was changed.`];
    if (plan.patch.length === 0) lines.push('  (no difference)');
    for (const l of diffLines(plan.patch, plan.inverse)) lines.push(`  ${l}`);
    return { data, text: lines.join('\n') };
  }
  const backupCount = safeBackupCount(inspector);
  const store = openWriter(paths, keys, summary, secretKeysOption(values), backupCount);
  let result;
  try {
    result = target.kind === 0 ? await store.rollbackToSeq(target.value) : await store.rollbackToTimestamp(target.value);
    await store.flush();
  } finally {
    store.close({ force: true });
  }
  const data = { path: paths.doc, dryRun: false, to: target.label, ...result };
  return { data, text: `Rolled back to ${target.label}: ${result.changesReverted} change(s) undone; the store is now the state after change #${result.seq}. The rollback is itself a history entry (undo it with another rollback).` };
}

function safeBackupCount(inspector) {
  try {
    return backupsOf(inspector).length;
  } catch {
    return 0;
  }
}

function cmdBackups({ values, positionals }) {
  const paths = storePaths(positionals[0], values);
  const { inspector } = inspect(paths, keysOf(values));
  const list = backupsOf(inspector);
  const data = { path: paths.doc, backups: list };
  const text = list.length === 0
    ? 'No backups.'
    : table([['KIND', 'FILE', 'TIME', 'REASON', 'SEQ', 'SIZE'], ...list.map(b => (b.backupTime === undefined
      ? [b.kind, b.file, '(metadata encrypted: give --key-file)', '', '', '']
      : [b.kind, b.file, b.backupTime, b.reason, b.seq, bytes(b.size)]))]);
  return { data, text };
}

async function cmdRestore({ values, positionals }) {
  const paths = storePaths(positionals[0], values);
  const name = positionals[1];
  if (!name) throw cliError('E_USAGE', 'restore needs the backup: tad-store restore <file> <backup> (a file name from `tad-store backups`)');
  const keys = keysOf(values);
  const { inspector, summary } = inspect(paths, keys);
  if (summary.journal.fatal) throw cliError(summary.journal.fatal.code, summary.journal.fatal.message);
  const list = backupsOf(inspector);
  const found = list.find(b => b.file === name || b.path === name || b.path === path.resolve(name));
  if (!found) {
    throw cliError('E_BACKUP_NOT_FOUND', `No backup ${JSON.stringify(name)} of ${paths.doc}; \`tad-store backups ${positionals[0]}\` lists them`);
  }
  const store = openWriter(paths, keys, summary, secretKeysOption(values), list.length);
  try {
    if (found.kind === 'snapshot') await store.restoreMigrationBackup(found.file);
    else await store.restoreBackup(found.file);
    await store.flush();
  } finally {
    store.close({ force: true });
  }
  const data = { path: paths.doc, restored: found.file, kind: found.kind, backupTime: found.backupTime, seq: found.seq };
  return { data, text: `Restored ${found.file} (taken ${found.backupTime}, ${found.reason}). The state before it was backed up first (reason before-restore), and the restore is a history entry.` };
}

function cmdExport({ values, positionals }) {
  const paths = storePaths(positionals[0], values);
  const keys = keysOf(values);
  const { inspector, summary: s } = inspect(paths, keys);
  if (s.document.error && s.document.error.code === 'E_SECRET_KEY') throw cliError('E_SECRET_KEY', s.document.error.message);
  if (keys.secretKey && s.journal.fatal) throw cliError(s.journal.fatal.code, s.journal.fatal.message);
  let document;
  let seq = null;
  let source = 'file';
  try {
    const latest = JSON.parse(inspector.latest());
    document = latest.document;
    seq = latest.seq;
    source = 'file+journal';
  } catch (error) {
    if (s.document.error) throw cliError(s.document.error.code, `Cannot export: ${s.document.error.message}`);
    if (!s.document.file.exists) throw cliError('E_CORRUPT', `Cannot export: the store file ${paths.doc} is missing (open the store once to rebuild it from its journal)`);
    if (error.code !== 'E_SECRET_KEY' && error.code !== 'E_HISTORY_MISMATCH') throw error;
    document = JSON.parse(inspector.document(false));
  }
  const sealed = s.document.sealed.map(p => p.join('.'));
  // the file's own format: electron-store's tab-indented JSON
  const text = values.json ? JSON.stringify(document) : JSON.stringify(document, null, '\t');
  return { data: document, text, raw: text, meta: { seq, source, sealed } };
}

// -- doctor ------------------------------------------------------------------

function modeOf(file) {
  try {
    const st = fs.statSync(file);
    return process.platform === 'win32' ? null : `0${(st.mode & 0o777).toString(8)}`;
  } catch {
    return null;
  }
}

function diskFree(dir) {
  try {
    if (typeof fs.statfsSync !== 'function') return null;
    const st = fs.statfsSync(dir);
    return { free: st.bavail * st.bsize, total: st.blocks * st.bsize };
  } catch {
    return null;
  }
}

/** Every string and number in a JSON value (the doctor makes sure none is in its report). */
function collectValues(value, out) {
  const todo = [value];
  while (todo.length) {
    const v = todo.pop();
    if (typeof v === 'string') {
      if (v.length >= 3) out.add(v);
    } else if (typeof v === 'number') {
      const t = String(v);
      if (t.length >= 4) out.add(t);
    } else if (v && typeof v === 'object') {
      for (const c of Array.isArray(v) ? v : Object.values(v)) todo.push(c);
    }
  }
  return out;
}

function redact(text, values, keys) {
  let out = text.replace(/\b[0-9a-f]{64}\b/g, '<sha256>');
  const home = os.homedir();
  if (home && home.length > 1) out = out.split(home).join('~');
  // longest first, so a value inside another is not left half
  for (const v of [...values].sort((a, b) => b.length - a.length)) {
    if (v.length >= 3 && out.includes(v)) out = out.split(v).join('<redacted>');
  }
  for (const k of keys) {
    for (const form of [k.toString('hex'), k.toString('base64'), k.toString('utf8')]) {
      if (form.length >= 8 && out.includes(form)) out = out.split(form).join('<redacted>');
    }
  }
  return out;
}

function cmdDoctor({ values, positionals }) {
  const started = process.hrtime.bigint();
  const ms = since => Number(process.hrtime.bigint() - since) / 1e6;
  const paths = storePaths(positionals[0], values);
  const keys = keysOf(values);
  let t = process.hrtime.bigint();
  const { inspector, summary: s } = inspect(paths, keys);
  const readMs = ms(t);
  t = process.hrtime.bigint();
  const result = runVerify(inspector, 'checking');
  const verifyMs = ms(t);
  let backups = [];
  let backupsError = null;
  try {
    backups = backupsOf(inspector);
  } catch (error) {
    backupsError = error.code;
  }
  const entries = s.journal.fatal ? [] : entriesOf(inspector, undefined, false);
  const ops = {};
  for (const e of entries) ops[e.operation] = (ops[e.operation] || 0) + 1;
  const span = entries.length > 1 ? entries[entries.length - 1].time - entries[0].time : 0;
  let pkg = {};
  try {
    pkg = require('../../package.json');
  } catch {}
  const { native } = require('./store.js');
  const keyGiven = Boolean(keys.secretKey || keys.encryptionKey);
  const recovery = recoveryReport(s, keyGiven).map(r => ({ code: r.code, what: r.what }));
  // an encrypted history read without the key is not checked, not unhealthy
  const unchecked = keyOnlyForHistory(s, keyGiven);
  const failures = result.checks.filter(c => !c.ok && !(unchecked && c.code === 'E_SECRET_KEY')).map(c => ({ kind: c.kind, subject: c.kind === 'backup' || c.kind === 'snapshot' ? c.subject : c.subject.startsWith('change') ? c.subject : path.basename(c.subject), code: c.code, detail: c.detail }));
  const report = {
    report: 'tad-store doctor',
    generated: new Date().toISOString(),
    healthy: failures.length === 0 && recovery.every(r => r.code === null),
    historyChecked: !unchecked,
    tool: { tadStore: pkg.version || null, node: process.version, binding: native().__napiBindingTarget || null },
    platform: { os: process.platform, release: os.release(), arch: process.arch, cpus: os.cpus().length, memory: os.totalmem(), electron: process.versions.electron || null },
    store: {
      file: redact(paths.doc, [], []),
      document: {
        exists: s.document.file.exists,
        size: s.document.file.size,
        modified: s.document.file.mtime === null ? null : time(s.document.file.mtime),
        readable: s.document.file.exists && !s.document.error,
        error: s.document.error ? s.document.error.code : null,
        keyCount: s.document.keys ? s.document.keys.length : null,
        keys: s.document.keys ? s.document.keys.map(k => ({ key: k.key, type: k.type, bytes: k.bytes })) : null,
        encryptedValues: s.document.sealed.length,
        invalidUtf8: s.document.invalidUtf8,
        mode: modeOf(paths.doc),
      },
      journal: {
        exists: s.journal.file.exists,
        size: s.journal.file.size,
        changes: s.journal.changes,
        checkpoints: s.journal.checkpoints,
        firstSeq: s.journal.firstSeq,
        lastSeq: s.journal.lastSeq,
        lastChange: s.journal.lastTime === null ? null : time(s.journal.lastTime),
        lastCheckpoint: s.journal.lastCheckpoint,
        lastCheckpointTime: s.journal.lastCheckpointTime === null ? null : time(s.journal.lastCheckpointTime),
        torn: s.journal.torn,
        damaged: s.journal.damaged !== null,
        readable: !s.journal.fatal,
        mode: modeOf(path.join(paths.historyDir, `${path.basename(paths.doc)}.journal`)),
        operations: ops,
      },
      state: s.anchor,
      lockFile: fs.existsSync(s.lockFile),
      quarantined: s.quarantined.map(p => path.basename(p)),
      tempFiles: s.temps.length,
      backups: {
        count: backups.filter(b => b.kind === 'backup').length,
        migrationSnapshots: backups.filter(b => b.kind === 'snapshot').length,
        totalSize: backups.reduce((n, b) => n + (b.size || 0), 0),
        newest: backups.find(b => b.backupTime !== undefined)?.backupTime ?? null,
        oldest: backups.filter(b => b.backupTime !== undefined).pop()?.backupTime ?? null,
        metadataEncrypted: backups.filter(b => b.backupTime === undefined).length,
        reasons: backups.reduce((m, b) => {
          if (b.reason !== undefined) m[b.reason] = (m[b.reason] || 0) + 1;
          return m;
        }, {}),
        error: backupsError,
      },
      disk: diskFree(paths.dir),
    },
    timings: {
      readMs: Number(readMs.toFixed(2)),
      verifyMs: Number(verifyMs.toFixed(2)),
      totalMs: 0,
      readRetries: s.retries,
      historySpanHours: Number((span / 3600e3).toFixed(2)),
      changesPerHour: span > 0 ? Number((entries.length / (span / 3600e3)).toFixed(2)) : null,
      checkpointLagMs: s.journal.lastTime !== null && s.journal.lastCheckpointTime !== null ? Math.max(0, s.journal.lastCheckpointTime - s.journal.lastTime) : null,
    },
    verify: { ok: failures.length === 0, checks: result.checks.length, failures },
    recovery,
  };
  report.timings.totalMs = Number(ms(started).toFixed(2));
  // nothing of the store's values (nor the key) may be in the report
  const secrets = new Set();
  const docText = inspector.document(false);
  if (docText !== null) collectValues(JSON.parse(docText), secrets);
  if (!s.journal.fatal) {
    try {
      collectValues(JSON.parse(inspector.latest()).document, secrets);
    } catch {}
    for (const e of entriesOf(inspector, undefined, true)) {
      for (const op of [...e.patch, ...(e.inverse || [])]) if (op.value !== undefined) collectValues(op.value, secrets);
    }
  }
  // key names and codes are not secrets even when a value spells one
  for (const k of report.store.document.keys || []) secrets.delete(k.key);
  const keyBytes = [keys.secretKey, keys.encryptionKey].filter(Boolean);
  // every string (and object key) of the report, one by one: numbers stay numbers
  const clean = v => {
    if (typeof v === 'string') return redact(v, secrets, keyBytes);
    if (Array.isArray(v)) return v.map(clean);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, c]) => [redact(k, secrets, keyBytes), clean(c)]));
    return v;
  };
  const safe = clean(report);
  const lines = [
    `# tad-store doctor report (${safe.generated})`,
    '',
    `healthy: ${safe.healthy ? 'yes' : 'NO'}${safe.historyChecked ? '' : ' (the history is encrypted and was not checked: no key given)'}`,
    `tad-store ${safe.tool.tadStore}, Node ${safe.tool.node}, binding ${safe.tool.binding}`,
    `platform: ${safe.platform.os} ${safe.platform.release} ${safe.platform.arch}, ${safe.platform.cpus} CPUs${safe.platform.electron ? `, Electron ${safe.platform.electron}` : ''}`,
    `store: ${safe.store.file}`,
    `document: ${safe.store.document.exists ? `${bytes(safe.store.document.size)}, ${safe.store.document.keyCount ?? '?'} keys, mode ${safe.store.document.mode}${safe.store.document.error ? `, error ${safe.store.document.error}` : ''}` : 'missing'}`,
    `journal: ${safe.store.journal.exists ? `${bytes(safe.store.journal.size)}, ${safe.store.journal.changes} changes (#${safe.store.journal.firstSeq}–#${safe.store.journal.lastSeq}), ${safe.store.journal.checkpoints} checkpoints${safe.store.journal.damaged ? ', DAMAGED' : ''}${safe.store.journal.torn ? ', torn last line' : ''}${safe.store.journal.readable ? '' : ', not readable without the key'}` : 'none'}`,
    `state: ${JSON.stringify(safe.store.state)}`,
    `backups: ${safe.store.backups.count} (+${safe.store.backups.migrationSnapshots} migration snapshots), ${bytes(safe.store.backups.totalSize)}, newest ${safe.store.backups.newest || '-'}`,
    `disk: ${safe.store.disk ? `${bytes(safe.store.disk.free)} free of ${bytes(safe.store.disk.total)}` : 'unknown'}`,
    `timings: read ${safe.timings.readMs} ms, verify ${safe.timings.verifyMs} ms, total ${safe.timings.totalMs} ms`,
    `verify: ${safe.verify.ok ? 'OK' : 'FAILED'} (${safe.verify.checks} checks)`,
    ...safe.verify.failures.map(f => `  - [${f.code}] ${f.kind} ${f.subject}: ${f.detail}`),
    `recovery: ${safe.recovery.length ? safe.recovery.map(r => r.code || r.what).join(', ') : 'nothing'}`,
    '',
    'No values or secrets are in this report (key names and sizes only).',
  ];
  return { data: safe, text: lines.join('\n') };
}

module.exports = {
  inspect: cmdInspect,
  history: cmdHistory,
  verify: cmdVerify,
  rollback: cmdRollback,
  backups: cmdBackups,
  restore: cmdRestore,
  export: cmdExport,
  doctor: cmdDoctor,
};
