'use strict';

/**
 * Migration planning with conf's rules (npm semver, including ranges such as
 * `>=1.2 <2`, `1.0.x`, `^1.2.0` and `||`); exact versions run in semver order.
 */
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

module.exports = {
  get semver() {
    return semver();
  },
  isRange,
  shouldPerform,
  normalize,
  plan,
};
