'use strict';

/**
 * Migration planning with conf's rules (npm semver, including ranges such as
 * `>=1.2 <2`, `1.0.x`, `^1.2.0` and `||`), but run in semver order.
 */
const semver = require('semver');

const isRange = version => semver.clean(version) === null;

/** conf's `_shouldPerformMigration`. */
function shouldPerform(candidate, previous, target) {
  if (isRange(candidate)) {
    if (previous !== '0.0.0' && semver.satisfies(previous, candidate)) return false;
    return semver.satisfies(target, candidate);
  }
  if (semver.lte(candidate, previous)) return false;
  if (semver.gt(candidate, target)) return false;
  return true;
}

/** The lowest version a key covers (a version, or a range's minimum). */
function floor(key) {
  if (!isRange(key)) return semver.clean(key);
  const min = semver.minVersion(key);
  return min ? min.version : '0.0.0';
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
    if (semver.valid(s.key) === null && semver.validRange(s.key) === null) {
      throw new TypeError(`The migration key ${JSON.stringify(s.key)} is neither a version nor an npm version range`);
    }
  }
  return steps;
}

/** The steps to run from `previous` to `target`, in semver order. */
function plan(steps, previous, target) {
  return steps
    .filter(s => shouldPerform(s.key, previous, target))
    .sort((a, b) => semver.compare(floor(a.key), floor(b.key)));
}

module.exports = { semver, isRange, shouldPerform, normalize, plan };
