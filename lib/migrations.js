'use strict';

/**
 * Migrations with conf's rules: planning (npm semver, including ranges such
 * as `>=1.2 <2`, `1.0.x`, `^1.2.0` and `||`; exact versions run in semver
 * order) and the runner the constructor calls inside its opening transaction.
 */

const { storeError } = require('./errors.js');
// loaded on first use (a store given migrations): `require('semver')` is most
// of the time `require('tad-store')` would otherwise take in a fresh process
let semverModule = null;
const semver = () => semverModule || (semverModule = require('semver'));

const isRange = version => semver().clean(version) === null;

/** conf's `_shouldPerformMigration`. */
function shouldPerform(candidate, previous, target) {
  if (isRange(candidate)) {
    if (previous !== '0.0.0' && semver().satisfies(previous, candidate)) return false;
    return semver().satisfies(target, candidate);
  }
  if (semver().lte(candidate, previous)) return false;
  if (semver().gt(candidate, target)) return false;
  return true;
}

/**
 * Both forms — electron-store's `{ '<version or range>': fn }` and the seed's
 * `[{ version, name, up, down }]` — as `[{ key, name, up }]`, checked.
 */
function normalize(migrations) {
  const steps = [];
  if (Array.isArray(migrations)) {
    migrations.forEach((m, i) => {
      if (m === null || typeof m !== 'object') throw new TypeError(`Expected migrations[${i}] to be an object { version, name, up }`);
      if (typeof m.version !== 'string') throw new TypeError(`Expected migrations[${i}].version to be a version string`);
      if (typeof m.up !== 'function') throw new TypeError(`Expected migrations[${i}].up to be a function`);
      steps.push({ key: m.version, name: typeof m.name === 'string' ? m.name : m.version, up: m.up });
    });
  } else if (migrations !== null && typeof migrations === 'object') {
    for (const [key, fn] of Object.entries(migrations)) {
      if (typeof fn !== 'function') throw new TypeError(`Expected the migration for ${JSON.stringify(key)} to be a function`);
      steps.push({ key, name: key, up: fn });
    }
  } else {
    throw new TypeError('Expected `migrations` to be an object of { version: fn } or an array of { version, name, up }');
  }
  for (const s of steps) {
    if (semver().valid(s.key) === null && semver().validRange(s.key) === null) {
      throw new TypeError(`The migration key ${JSON.stringify(s.key)} is neither a version nor an npm version range`);
    }
  }
  return steps;
}

/**
 * The steps to run from `previous` to `target`. A range runs where it is
 * declared, as in conf (it has no place on the version line: `<3.0.0` is not
 * "before 1.0.0"); the exact versions due run in semver order, in the places
 * exact versions take in the declaration (conf runs them in declaration
 * order too, so `{ '2.0.0': b, '1.0.0': a }` runs b before a there).
 */
function plan(steps, previous, target) {
  const due = steps.filter(s => shouldPerform(s.key, previous, target));
  const exact = due.filter(s => !isRange(s.key)).sort((a, b) => semver().compare(a.key, b.key));
  let next = 0;
  return due.map(s => (isRange(s.key) ? s : exact[next++]));
}

/**
 * Runs the migrations (inside the opening transaction), as conf does: from
 * the recorded version (0.0.0 when none, a new store included unless
 * `migrateNewStore: false`) up to `projectVersion`. A snapshot of an
 * existing store is written durably first; if a step throws, E_MIGRATION
 * names it (the caller's transaction is undone, so the file stays
 * byte-identical). Returns whether a step ran.
 *
 * `store` is what each step and `beforeEachMigration` get; `run` is the
 * store's side: `{ path, existed, recorded, setVersion(version),
 * snapshot(reason), withoutSchema(fn), newer(version) }` — `recorded` the
 * version found (undefined: none), `newer` told of a store last migrated by
 * a newer version (nothing is run then, nothing undone).
 */
function runMigrations(store, opts, run) {
  const target = opts.projectVersion;
  if (!target) throw storeError('E_MIGRATION', 'Project version could not be inferred. Please specify the `projectVersion` option.');
  if (!semver().valid(target)) throw new TypeError(`Expected \`projectVersion\` to be a semver version, got ${JSON.stringify(target)}`);
  const { recorded } = run;
  if (!run.existed && recorded === undefined && opts.migrateNewStore === false) {
    // `migrateNewStore: false`: a new store starts at the current version
    run.setVersion(target);
    return false;
  }
  let previous = typeof recorded === 'string' ? recorded : '0.0.0';
  if (semver().valid(previous) && semver().gt(previous, target)) {
    // written by a newer version of the app: run nothing, undo nothing
    run.newer(previous);
    process.emitWarning(`tad-store: ${run.path} was last migrated by version ${previous}, newer than this app's ${target}; no migration was run and the data was left as it is`, { code: 'TAD_STORE_NEWER_VERSION' });
    return false;
  }
  const steps = plan(opts.steps, previous, target);
  if (steps.length === 0) {
    if (isRange(previous) || !semver().eq(previous, target)) run.setVersion(target);
    return false;
  }
  // (a new store has nothing to keep: its transaction undoes a failed run)
  const snapshot = run.existed ? run.snapshot(`migration ${previous} -> ${target}`) : null;
  let step;
  try {
    run.withoutSchema(() => {
      for (step of steps) {
        if (opts.beforeEachMigration) {
          opts.beforeEachMigration(store, { fromVersion: previous, toVersion: step.key, finalVersion: target, versions: steps.map(s => s.key) });
        }
        const result = step.up(store);
        if (result && typeof result.then === 'function') {
          result.then(() => {}, () => {});
          throw new Error('it returned a Promise: migrations run inside the constructor and must be synchronous');
        }
        run.setVersion(step.key);
        previous = step.key;
      }
      if (isRange(previous) || !semver().eq(previous, target)) run.setVersion(target);
    });
  } catch (error) {
    const message = error && error.message ? error.message : String(error);
    throw storeError('E_MIGRATION', `Migration ${JSON.stringify(step.name)} failed: ${message}. The store was left as it was before the migrations${snapshot ? `; the snapshot ${snapshot.file} is kept (see listMigrationBackups())` : ''}`, { cause: error, migration: step.name });
  }
  return true;
}

module.exports = {
  get semver() {
    return semver();
  },
  isRange,
  shouldPerform,
  normalize,
  plan,
  runMigrations,
};
