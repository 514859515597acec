'use strict';

/**
 * The downgrade guard (issue 20): `onNewerVersion: 'allow' | 'read-only' |
 * 'throw'`. A store whose `__internal__.migrations.version` is higher than
 * this app's `projectVersion` was last migrated by a newer version of the
 * app (the user downgraded). 'allow' (the default) opens it as electron-store
 * does; 'read-only' opens it for reading (writes fail with `E_READ_ONLY`);
 * 'throw' refuses it with `E_NEWER_VERSION`. In both, opening changes nothing
 * on disk (no defaults, migrations, sanitizing or start backup).
 */

const { storeError } = require('./errors.js');

const MODES = ['allow', 'read-only', 'throw'];

function checkOption(value) {
  if (value === undefined) return 'allow';
  if (!MODES.includes(value)) {
    throw new TypeError(`Expected \`onNewerVersion\` to be 'allow', 'read-only' or 'throw', got ${typeof value === 'string' ? JSON.stringify(value) : typeof value}`);
  }
  return value;
}

/**
 * The version that last migrated the store when it is newer than `ours`,
 * else null (no version recorded, or either is not plain semver).
 */
function newerVersion(recorded, ours) {
  if (typeof recorded !== 'string' || typeof ours !== 'string') return null;
  // (semver is loaded only when a version must be compared)
  const semver = require('./migrations.js').semver;
  if (!semver.valid(recorded) || !semver.valid(ours)) return null;
  return semver.gt(recorded, ours) ? recorded : null;
}

function newerVersionError(file, newer, ours) {
  return storeError('E_NEWER_VERSION', `tad-store: ${file} was last migrated by version ${newer} of the app, newer than this version (${ours}); it was not opened and nothing was changed (onNewerVersion: 'throw'). Update the app, or restore a migration backup taken before that version (listMigrationBackups(), restoreMigrationBackup())`, { newerVersion: newer, projectVersion: ours });
}

function readOnlyError(file, newer, ours) {
  return storeError('E_READ_ONLY', `tad-store: ${file} was last migrated by version ${newer} of the app, newer than this version (${ours}); it is open for reading only (onNewerVersion: 'read-only') and nothing was changed. Update the app, or restore a migration backup taken before version ${newer} (restoreMigrationBackup())`, { newerVersion: newer, projectVersion: ours });
}

/** A migration snapshot's versions, from the reason the store gave it (`migration <from> -> <to>`). */
function snapshotVersions(info) {
  const reason = info && info.metadata && info.metadata.reason;
  const m = typeof reason === 'string' ? /^migration (\S+) -> (\S+)$/.exec(reason) : null;
  return m ? { fromVersion: m[1], toVersion: m[2] } : { fromVersion: null, toVersion: null };
}

module.exports = { checkOption, newerVersion, newerVersionError, readOnlyError, snapshotVersions };
