'use strict';

/**
 * `tad-store`, the support command: look at a user's store, check it, and put
 * it back as it was. Arguments are parsed with node:util `parseArgs` (strict:
 * an unknown option is a usage error). Human output by default, `--json` for
 * scripts; errors go to stderr with their code (and, with `--json`, as
 * `{ "error": { code, message, exitCode } }` on stdout), and each kind of
 * failure has its own exit code (see errors.js).
 */

const { parseArgs } = require('node:util');
const { EXIT, exitCodeOf, cliError } = require('./errors.js');
const { STORE_OPTIONS } = require('./store.js');

const COMMON = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

const KEY_HELP = `Store options:
  --history-dir <dir>          the store's history directory (default: <dir of file>/storeHistory)
  --backup-dir <dir>           its backup directory (default: <dir of file>/backups)
  --key-file <file>            the secretKey the store's secretKeys were encrypted with
  --encryption-key-file <file> electron-store's encryptionKey, for a store written with it
  --key-encoding raw|hex|base64  how the key file holds the key (default raw bytes)
  --json                       machine-readable output
  -h, --help                   this help`;

const COMMANDS = {
  inspect: {
    usage: 'tad-store inspect <file> [options]',
    summary: 'keys, sizes, version, last changes and what the next open would recover',
    help: `Shows the store at <file> (the JSON document, e.g. ~/.config/MyApp/config.json):
its top-level keys with their sizes (never their values), the version migrations
recorded, the journal (history) and which change the file holds, the last 10
changes, the backups, and a recovery report: what the store's next open would
repair (a damaged or missing file, a damaged journal, changes not yet in the
file, an edit made while the store was closed, files kept aside).

Reads only: nothing on disk changes and no lock is taken, so it is safe on a
store a running app has open. Exit code 0, or 4 when the store is damaged, 5
when a key is needed or wrong.`,
    options: {},
  },
  history: {
    usage: 'tad-store history <file> [--since <time>] [--limit <n>] [options]',
    summary: 'history entries with their keys and diffs',
    help: `Lists the change history (oldest first): each entry's number, time,
operation, keys, and its diff (~ changed, + added, - removed, with the value
before). --since takes an ISO time or a duration back from now (30m, 2h, 7d);
--limit keeps the last <n>. With secretKeys, the history is encrypted: give the
key (--key-file), and its diffs then show the secret values.

Reads only. Exit code 4 when the journal is damaged (the entries before the
damage are still shown), 5 when the key is needed or wrong.`,
    options: { since: { type: 'string' }, limit: { type: 'string' } },
  },
  verify: {
    usage: 'tad-store verify <file> [options]',
    summary: 'check the hash chain, the document against the journal, and every backup',
    help: `Checks everything that can be checked: the journal's hash chain and
sequence, that the store file is a state the journal records, that every later
entry replays onto it and every earlier one undoes exactly to its recorded hash
(what a rollback relies on), and every backup and migration snapshot against its
recorded hash. A progress bar is drawn on stderr when it is a terminal.

Reads only. Exit code 0 only when everything verifies; otherwise 4 (something
is damaged), 5 (key needed or wrong), 1 (something else does not verify, e.g.
the file was edited while the store was closed).`,
    options: {},
  },
  rollback: {
    usage: 'tad-store rollback <file> --to <ISO time|seq> [--dry-run] [--secret-keys a,b] [options]',
    summary: 'put the store back as it was at a time or after a change',
    help: `Makes the store exactly what it was at --to (an ISO time, or a change
number from \`history\`): every later change is undone, newest first, and the
result is checked against the recorded hash before anything changes. The
rollback is itself a history entry, so it can be undone.

It opens the store as a writer (taking the store's lock for the write, like any
process using it; an app that has the store open sees the change as another
process's). --dry-run shows the diff and changes nothing (no lock).
With secretKeys give --key-file; the secret paths are taken from the file, add
others with --secret-keys.

Exit code 7 when the time is older than the kept history, 6 when another
process holds the lock and does not let it go (10 s without writing).`,
    options: { to: { type: 'string' }, 'dry-run': { type: 'boolean' }, 'secret-keys': { type: 'string' } },
  },
  backups: {
    usage: 'tad-store backups <file> [options]',
    summary: 'list the backups and migration snapshots',
    help: `Lists the backups (backups/) and migration snapshots
(storeHistory/migrations/) of the store, newest first: file, time, reason,
change number and size. \`verify\` checks them. Reads only.`,
    options: {},
  },
  restore: {
    usage: 'tad-store restore <file> <backup> [--secret-keys a,b] [options]',
    summary: 'restore a backup (or migration snapshot)',
    help: `Restores <backup> (a file name from \`tad-store backups\`, or its path):
its hash is checked first, the current state is backed up (reason
before-restore), and the restore is a history entry (roll it back like any
change). Opens the store as a writer (takes its lock for the write).

Exit code 3 when there is no such backup, 4 when it does not verify, 6 when the
lock is held and does not clear.`,
    options: { 'secret-keys': { type: 'string' } },
  },
  export: {
    usage: 'tad-store export <file> [options] > store.json',
    summary: 'the document as JSON (secrets stay sealed unless a key is given)',
    help: `Prints the store's document as JSON: the file plus any change already in
the journal but not yet in the file (an app writing at this moment), checked
against the journal. Tab-indented like the file; --json prints it on one line.
Values under secretKeys stay sealed ("$tad-secret:v1:…") unless the key is
given with --key-file. Reads only.`,
    options: {},
  },
  doctor: {
    usage: 'tad-store doctor <file> [options] > report.txt',
    summary: 'a shareable health report for a bug report (no values, no secrets)',
    help: `One report to attach to a bug report: health, sizes, key names, history
and backup counts, timings, verification failures, what the next open would
recover, and the platform (OS, Node, tad-store version, disk space). It holds no
value of the store and no secret: every value (and the key, if given) is
searched for in the report and removed, hashes are dropped, and the home
directory is written as ~. Reads only; exit code 0 whenever the report was made.`,
    options: {},
  },
};

function mainHelp() {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`);
  return `tad-store — look at, check and repair a tad-store (electron-store) store

Usage: tad-store <command> <file> [options]     (npx tad-store …)

Commands:
${rows.join('\n')}

<file> is the store's JSON document (e.g. ~/.config/MyApp/config.json); its
history and backups are found beside it. \`tad-store <command> --help\` for more.

${KEY_HELP}

Exit codes: 0 ok, 1 verification failed, 2 usage error, 3 store or backup not
found, 4 store damaged, 5 key needed or wrong, 6 lock held by another process,
7 outside the kept history, 8 other error.`;
}

function commandHelp(name) {
  const c = COMMANDS[name];
  return `Usage: ${c.usage}\n\n${c.help}\n\n${KEY_HELP}`;
}

function write(stream, text) {
  if (text === undefined || text === null) return;
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

function parse(name, args) {
  const positionalCount = name === 'restore' ? 2 : 1;
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { ...COMMON, ...STORE_OPTIONS, ...COMMANDS[name].options },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw cliError('E_USAGE', `${error.message.replace(/\. To specify a positional argument.*$/s, '')} (tad-store ${name} --help)`);
  }
  if (parsed.values.help) return parsed;
  if (parsed.positionals.length < positionalCount) {
    throw cliError('E_USAGE', `Missing argument: ${COMMANDS[name].usage}`);
  }
  if (parsed.positionals.length > positionalCount) {
    throw cliError('E_USAGE', `Unexpected argument ${JSON.stringify(parsed.positionals[positionalCount])}: ${COMMANDS[name].usage}`);
  }
  return parsed;
}

/** Runs the command line `argv` (without node and the script); resolves to the exit code. */
async function main(argv, io = { stdout: process.stdout, stderr: process.stderr }) {
  const wantsJson = argv.includes('--json');
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      const which = name === 'help' ? rest[0] : undefined;
      if (which !== undefined && !Object.hasOwn(COMMANDS, which)) throw cliError('E_USAGE', `Unknown command ${JSON.stringify(which)}`);
      write(name === undefined ? io.stderr : io.stdout, which ? commandHelp(which) : mainHelp());
      return name === undefined ? EXIT.USAGE : EXIT.OK;
    }
    if (name === '--version' || name === '-v') {
      write(io.stdout, require('../../package.json').version);
      return EXIT.OK;
    }
    if (!Object.hasOwn(COMMANDS, name)) {
      throw cliError('E_USAGE', `Unknown command ${JSON.stringify(name)}; the commands are ${Object.keys(COMMANDS).join(', ')} (tad-store --help)`);
    }
    const parsed = parse(name, rest);
    if (parsed.values.help) {
      write(io.stdout, commandHelp(name));
      return EXIT.OK;
    }
    const run = require('./commands.js')[name];
    const out = await run(parsed);
    if (name === 'export') {
      write(io.stdout, out.text);
    } else if (parsed.values.json) {
      write(io.stdout, JSON.stringify(out.error ? { ...out.data, error: { ...out.error, exitCode: out.exitCode } } : out.data, null, 2));
    } else {
      write(io.stdout, out.text);
    }
    if (out.error && !parsed.values.json) write(io.stderr, `tad-store: ${out.error.code}: ${out.error.message}`);
    return out.exitCode || EXIT.OK;
  } catch (error) {
    const code = typeof (error && error.code) === 'string' && error.code.startsWith('E_') ? error.code : 'E_INTERNAL';
    const exitCode = exitCodeOf(code);
    const message = error && error.message ? error.message : String(error);
    if (wantsJson) write(io.stdout, JSON.stringify({ error: { code, message, exitCode } }, null, 2));
    write(io.stderr, `tad-store: ${code}: ${message}`);
    if (code === 'E_INTERNAL' && error && error.stack && process.env.TAD_STORE_DEBUG) write(io.stderr, error.stack);
    return exitCode;
  }
}

module.exports = { main, COMMANDS };
