'use strict';

// One peak-memory run in a fresh process:
//   node mem-child.js <tad|conf> <modulePath> <dir> <baseline|full>
// `baseline` only requires the library; `full` opens the store in <dir>, does
// 100 gets, 100 sets, 3 whole-store reads, flushes/closes. Prints one JSON line.
// tad runs with automatic backups off (as in bench.js), so no backup at open.

const [lib, modulePath, dir, mode] = process.argv.slice(2);

const GET_KEYS = ['settings.theme', 'settings.fontSize', 'settings.editor.tabSize', 'user.name', 'ai.defaultProvider'];

async function main() {
  const Lib = require(modulePath);
  const out = { lib, mode };
  if (mode === 'full') {
    const store = lib === 'tad' ? new Lib({ cwd: dir, name: 'config', durability: 'deferred', backups: { onStart: false, interval: 0 } }) : new Lib({ cwd: dir, configName: 'config' });
    let sink = 0;
    for (let i = 0; i < 100; i++) {
      const v = store.get(GET_KEYS[i % GET_KEYS.length]);
      if (v !== undefined) sink++;
    }
    for (let i = 0; i < 100; i++) store.set(`settings.flags.mem${i}`, i);
    for (let i = 0; i < 3; i++) sink += Object.keys(store.store).length;
    if (lib === 'tad') {
      await store.flush();
      store.close();
    }
    out.sink = sink;
  }
  const ru = process.resourceUsage();
  out.maxRSS = ru.maxRSS; // KB
  out.rss = Math.round(process.memoryUsage().rss / 1024);
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});
