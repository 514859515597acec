'use strict';

/**
 * Crash safety (SPEC 4.2-4.4, 5): a child process applies a deterministic
 * sequence of operations (fixtures/crash-child.js) and is killed with SIGKILL
 * at a random moment; the same store directory is reused round after round, so
 * each round starts from the state the previous crash left. After each kill:
 *
 * - the store file, if present, parses as JSON (never torn);
 * - reopening reports no quarantine and no journal damage (a kill can only
 *   tear the journal's last line, which is cut silently);
 * - the recovered document deep-equals the model's state after exactly some
 *   prefix of the operations, and that prefix is not shorter than the one the
 *   previous round verified (that state was closed cleanly);
 * - in 'sync' mode the prefix includes every op the child acknowledged.
 * - leftover temp files only come from killed children, never from our clean
 *   reopen + close; the count is reported.
 *
 * Seed: CRASH_SEED=<n> to replay a run's kill timings; CRASH_ROUNDS=<n> per mode.
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');

const { Store, tmpDir, rng } = require('./helpers.js');
const ops = require('./fixtures/crash-child.js');

const CHILD = path.join(__dirname, 'fixtures', 'crash-child.js');
const ROUNDS = Number(process.env.CRASH_ROUNDS) || 30;
const SEED = Number(process.env.CRASH_SEED) || (Date.now() % 1_000_000);

/** First stamp op number strictly after n. */
function nextStamp(n) {
  let k = n + 1;
  while (!ops.isStamp(k)) k++;
  return k;
}

/** The last stamp at or before n (0 when none). */
function stampAtOrBefore(n) {
  let k = n;
  while (k > 0 && !ops.isStamp(k)) k--;
  return k;
}

function listTemps(dir) {
  const out = [];
  for (const d of [dir, path.join(dir, 'storeHistory')]) {
    if (!fs.existsSync(d)) continue;
    for (const name of fs.readdirSync(d)) if (name.endsWith('.tmp')) out.push(path.join(d, name));
  }
  return out;
}

function listSuspicious(dir) {
  const out = [];
  for (const d of [dir, path.join(dir, 'storeHistory')]) {
    if (!fs.existsSync(d)) continue;
    for (const name of fs.readdirSync(d)) if (/corrupt|damaged/.test(name)) out.push(path.join(d, name));
  }
  return out;
}

/**
 * Runs the child from op `first`; kills it after `delay` ms counted from the
 * spawn (`fromSpawn`) or from its `ready` line. Resolves when its pipes close.
 */
function runChild(dir, durability, first, delay, fromSpawn) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, durability, String(first)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let lastAck = 0;
    let ready = false;
    let stderr = '';
    let pending = '';
    let timer = null;
    let killedAt = null;
    const kill = () => {
      if (killedAt === null) {
        killedAt = Date.now();
        child.kill('SIGKILL');
      }
    };
    const arm = () => {
      if (timer === null) timer = setTimeout(kill, delay);
    };
    if (fromSpawn) arm();
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', chunk => {
      pending += chunk;
      let nl;
      while ((nl = pending.indexOf('\n')) !== -1) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line.startsWith('ack ')) {
          const n = Number(line.slice(4));
          if (n > lastAck) lastAck = n;
        } else if (line.startsWith('ready ')) {
          ready = true;
          arm();
        }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', chunk => {
      stderr += chunk;
    });
    // a safety net: never let a round hang
    const guard = setTimeout(kill, 15_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(guard);
      resolve({ code, signal, lastAck, ready, stderr, pid: child.pid });
    });
  });
}

for (const durability of ['deferred', 'sync']) {
  test(`kill -9 at random moments never loses a prefix (${durability})`, async t => {
    const random = rng(SEED + (durability === 'sync' ? 1 : 0));
    const dir = tmpDir();
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'config.json');
    const childPids = new Set();
    let prefix = 0; // verified: the store holds exactly ops 1..prefix
    let model = {}; // state after ops 1..prefix
    let checked = 0;
    let maxTemps = 0;
    const started = Date.now();
    t.diagnostic(`seed ${SEED} (CRASH_SEED=${SEED} to replay), ${ROUNDS} rounds`);

    for (let round = 0; round < ROUNDS; round++) {
      // every 5th round kills early, counted from the spawn (during startup/recovery)
      const fromSpawn = round % 5 === 4;
      const delay = fromSpawn ? 20 + random.int(130) : 20 + random.int(381);
      const where = `round ${round} (${durability}, kill ${delay} ms after ${fromSpawn ? 'spawn' : 'ready'}, resumed at op ${prefix + 1}, seed ${SEED})`;
      const res = await runChild(dir, durability, prefix + 1, delay, fromSpawn);
      childPids.add(res.pid);
      assert.equal(res.signal, 'SIGKILL', `${where}: child exited by itself (code ${res.code}): ${res.stderr}`); // parent kill

      // 4.2: the document file is never torn
      if (fs.existsSync(file)) {
        const text = fs.readFileSync(file, 'utf8');
        assert.doesNotThrow(() => JSON.parse(text), `${where}: config.json does not parse (${text.length} bytes)`);
      } else {
        assert.equal(prefix, 0, `${where}: config.json vanished`);
      }

      // 4.3: reopen gives the state after some prefix
      const store = new Store({ cwd: dir });
      let state;
      let info;
      try {
        state = { ...store.store };
        info = store.getStoreInfo();
      } finally {
        store.close();
      }
      assert.equal(info.recovery.quarantined, null, `${where}: the store file was quarantined`);
      assert.equal(info.recovery.journalDamage, null, `${where}: journal damage after a kill`);
      assert.deepEqual(listSuspicious(dir), [], `${where}: files kept aside`);

      const m = state.op === undefined ? 0 : state.op;
      assert.ok(Number.isInteger(m) && m >= 0, `${where}: recovered op ${m}`);
      assert.ok(
        m >= stampAtOrBefore(prefix),
        `${where}: went back to op ${m}, but the previous round verified op ${prefix} (closed cleanly)`,
      );
      // advance the model to the first candidate, then try each op up to the next stamp
      let work = structuredClone(model);
      let k = prefix;
      const from = Math.max(m, prefix);
      while (k < from) ops.applyOp(work, ++k);
      const last = m === 0 ? 0 : nextStamp(m) - 1; // m === 0: only the empty prefix carries no stamp
      let found = -1;
      for (;;) {
        checked++;
        if (isDeepEqual(state, work)) {
          // ops that change nothing (a delete of a missing key) give the same
          // state: the recovered state is the one after the longest such
          // prefix (else an acknowledged no-op looked lost)
          while (k < last) {
            const next = structuredClone(work);
            ops.applyOp(next, k + 1);
            if (!isDeepEqual(state, next)) break;
            work = next;
            k++;
          }
          found = k;
          break;
        }
        if (k >= last) break;
        ops.applyOp(work, ++k);
      }
      if (found === -1) {
        // show a diff against the prefix that ends at the recovered stamp
        const expected = structuredClone(model);
        for (let n = prefix + 1; n <= Math.max(m, prefix); n++) ops.applyOp(expected, n);
        assert.deepStrictEqual(state, expected, `${where}: recovered state (op ${m}) is not the state after any prefix in [${from}, ${last}]`);
        assert.fail(`${where}: no prefix matched`);
      }

      // 5: every acknowledged write survives (sync: the set returned;
      // deferred: a flush() resolved after it, durable in the journal only)
      assert.ok(found >= res.lastAck, `${where}: recovered prefix ${found} < acknowledged op ${res.lastAck}`);

      // temp files: only killed children may leave them; our reopen+close leaves none
      const temps = listTemps(dir);
      for (const tmp of temps) {
        const pid = Number(/\.(\d+)\.\d+\.tmp$/.exec(path.basename(tmp))?.[1]);
        assert.ok(childPids.has(pid), `${where}: temp file not from a killed child: ${tmp}`);
      }
      maxTemps = Math.max(maxTemps, temps.length);

      t.diagnostic(`${where}: recovered op ${found} (+${found - prefix})${durability === 'sync' ? `, last ack ${res.lastAck}` : ''}, temps ${temps.length}`);
      prefix = found;
      model = work;
    }

    const temps = listTemps(dir);
    t.diagnostic(
      `${durability}: ${ROUNDS} rounds, reached op ${prefix}, ${checked} prefix comparisons, ` +
        `${temps.length} leftover temp files at the end (max ${maxTemps}), ${Date.now() - started} ms`,
    );
    // leftovers must not break anything: a final clean open/modify/close/reopen works
    const store = new Store({ cwd: dir });
    ops.runOp(store, prefix + 1);
    ops.applyOp(model, prefix + 1);
    store.close();
    const again = new Store({ cwd: dir });
    try {
      assert.deepStrictEqual({ ...again.store }, model);
    } finally {
      again.close();
    }
  });
}

function isDeepEqual(a, b) {
  return require('node:util').isDeepStrictEqual(a, b);
}
