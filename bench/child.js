'use strict';

// One run in a fresh process, for the rows a long-running bench process cannot measure:
//   node child.js <tad|sqlite|conf> <modulePath> <target> <baseline|full|cold>
// <target>: the store's directory (tad, conf) or database file (sqlite).
//   baseline  require the library only
//   full      open the store, 100 gets, 100 sets, 3 whole-store reads, make it durable
//             (tad: flush + close; sqlite: checkpoint + close; conf: its sets wrote the file)
//   cold      require, then open and one small get: how long each took (ns)
// Prints one JSON line. Peak memory is VmHWM from /proc/self/status: the high-water
// mark of this process's own address space, which starts afresh at exec.
// (`process.resourceUsage().maxRSS` does not: Linux carries ru_maxrss across execve,
// so in a child spawned by a big parent it starts at the parent's peak.)
// Nothing else is required before the timed `require` (the first line below).

const t0 = process.hrtime.bigint();
const [lib, modulePath, target, mode] = process.argv.slice(2);

const GET_KEYS = ['user.name', 'user.locale', 'user.email', 'user.preferences.digest', 'user.id'];

function open(Lib) {
  if (lib === 'tad') return new Lib({ cwd: target, name: 'config', durability: 'deferred', backups: { onStart: false, interval: 0 } });
  if (lib === 'conf') return new Lib({ cwd: target, configName: 'config' });
  const { SqliteSettings } = require('./sqlite-model.js');
  return new SqliteSettings(Lib, target, { synchronous: 'NORMAL' });
}

function vmHWM() {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'));
    if (m) return { kb: Number(m[1]), source: 'VmHWM' };
  } catch {}
  return { kb: process.resourceUsage().maxRSS, source: 'maxRSS' };
}

async function main() {
  const Lib = require(modulePath);
  const t1 = process.hrtime.bigint();
  const out = { lib, mode };
  if (mode === 'cold') {
    const store = open(Lib);
    const v = store.get('user.locale');
    const t2 = process.hrtime.bigint();
    if (v !== 'en-GB') throw new Error(`first get returned ${JSON.stringify(v)}`);
    out.require = Number(t1 - t0);
    out.firstGet = Number(t2 - t0);
    out.sinceStart = performance.now() * 1e6; // process start (timeOrigin) → first get
    out.modules = Object.keys(require.cache).length;
    out.semverLoaded = Object.keys(require.cache).some((k) => /[\\/]node_modules[\\/]semver[\\/]/.test(k));
    if (lib === 'tad') store.close();
    else if (lib === 'sqlite') store.close();
  } else if (mode === 'full') {
    const store = open(Lib);
    let sink = 0;
    for (let i = 0; i < 100; i++) {
      const v = store.get(GET_KEYS[i % GET_KEYS.length]);
      if (v !== undefined) sink++;
    }
    for (let i = 0; i < 100; i++) store.set(`user.flags.mem${i}`, i);
    for (let i = 0; i < 3; i++) sink += Object.keys(store.store).length;
    if (lib === 'tad') {
      await store.flush();
      store.close();
    } else if (lib === 'sqlite') {
      store.checkpoint();
      store.close();
    }
    out.sink = sink;
  }
  const m = vmHWM();
  out.peakKB = m.kb;
  out.peakSource = m.source;
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
