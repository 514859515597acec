'use strict';

/**
 * tad-store/react (issue 21, part 2) with a real React renderer
 * (react-test-renderer, and react-dom/server), on React 18.3.1 and 19.3.1:
 * each scenario runs in a renderer child process (fixtures/renderer-client-child.js
 * with TAD_REACT), React 18 from __test__/react18 (a file: devDependency with
 * its own node_modules). The hook's components read tad-store/renderer's
 * client on the seed's preload, over the process boundary, against
 * registerStoreIpc on a real Store here.
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { fixture } = require('./helpers.js');
const { registerStoreIpc } = require('../ipc');
const { FakeIpcMain, openRenderer } = require('./renderer-harness.js');

const VERSIONS = { 18: '18.3.1', 19: '19.3.1' };
const REACT18 = path.join(__dirname, 'react18', 'node_modules', 'react');

for (const [major, version] of Object.entries(VERSIONS)) {
  test(`React ${major}: React ${version} is what runs`, async t => {
    if (major === '18') assert.ok(fs.existsSync(REACT18), 'React 18 is installed under __test__/react18 (npm ci installs it: it is a file: devDependency)');
    const fx = fixture(t);
    const store = fx.open({ backups: false });
    const ipcMain = new FakeIpcMain();
    registerStoreIpc(ipcMain, store);
    const r = await openRenderer(t, ipcMain, { react: major });
    assert.equal(await r.call('reactVersion'), version);
  });

  test(`React ${major}: useStore has the seed's shape, loads, and re-renders only the components whose key changed`, async t => {
    const fx = fixture(t);
    const store = fx.open({
      backups: false,
      defaults: { settings: { theme: 'dark', size: 12, colors: { bg: 1 } }, other: 1, list: [1], counter: 0 },
      schema: { port: { type: 'number' } },
    });
    const ipcMain = new FakeIpcMain();
    registerStoreIpc(ipcMain, store);
    const r = await openRenderer(t, ipcMain, { react: major });
    const KEYS = ['settings', 'settings.theme', 'settings.size', 'settings.colors', 'other', 'list', 'missing', 'counter', 'port'];
    const mounted = await r.call('react', KEYS, [{}, 'light', 0, {}, 0, [], 'fallback', 0, 80]);
    assert.deepStrictEqual(mounted, { version, error: null, status: 'ready' });
    let state = await r.call('reactState');
    // the first render, before the cache was loaded: the default, loading; then the stored value, once
    assert.deepStrictEqual(state.history['settings.theme'], [{ value: 'light', loading: true, error: null }, { value: 'dark', loading: false, error: null }]);
    assert.deepStrictEqual(state.history.missing, [{ value: 'fallback', loading: true, error: null }, { value: 'fallback', loading: false, error: null }]);
    assert.deepStrictEqual(state.last.settings, { value: { theme: 'dark', size: 12, colors: { bg: 1 } }, loading: false, error: null });
    assert.deepStrictEqual(state.last['settings.theme'], { value: 'dark', loading: false, error: null });
    assert.deepStrictEqual(state.last.missing, { value: 'fallback', loading: false, error: null }, 'no stored value: the default');
    const counts = () => ({ ...state.renders });
    let before = counts();
    const rendered = (now) => KEYS.filter(k => now.renders[k] !== before[k]).sort();

    store.set('other', 2);
    state = await r.call('reactState');
    assert.deepStrictEqual(rendered(state), ['other']);
    assert.equal(state.last.other.value, 2);
    before = counts();

    store.set('settings.theme', 'light');
    state = await r.call('reactState');
    assert.deepStrictEqual(rendered(state), ['settings', 'settings.theme'], 'the key and its parent; not its sibling');
    before = counts();

    // a bulk change that sends 'settings' again, equal, and a new 'list': only the list
    const backup = await store.createBackup('b');
    store.store = { ...store.store, settings: { theme: 'light', size: 12, colors: { bg: 1 } }, list: [1, 2] };
    state = await r.call('reactState');
    assert.deepStrictEqual(rendered(state), ['list']);
    assert.deepStrictEqual(state.last.list.value, [1, 2]);
    before = counts();

    // restore: 'settings' and 'list' come back as they were in the backup (theme light, list [1]):
    // one event for all of 'settings', in which the colors object is equal: its component stays
    store.set('settings.size', 13);
    await store.restoreBackup(path.basename(backup));
    state = await r.call('reactState');
    assert.deepStrictEqual(rendered(state), ['list', 'settings', 'settings.size']);
    assert.equal(state.last['settings.size'].value, 12);
    before = counts();

    // a change nobody reads: no render at all
    store.set('unread', 1);
    state = await r.call('reactState');
    assert.deepStrictEqual(rendered(state), []);

    // updateValue: written through the main process; the value arrives with the event
    let last = await r.call('reactUpdate', 'settings.theme', 'blue');
    assert.deepStrictEqual(last, { value: 'blue', loading: false, error: null });
    assert.equal(store.get('settings.theme'), 'blue');
    last = await r.call('reactUpdate', 'counter', undefined, 5);
    assert.equal(last.value, 5, 'an updater function gets the current value');
    assert.equal(store.get('counter'), 5);
    // a refused write: error set (with its code), the value unchanged
    last = await r.call('reactUpdate', 'port', 'not a number');
    assert.equal(last.value, 80);
    assert.equal(last.error.code, 'E_SCHEMA');
    assert.match(last.error.message, /E_SCHEMA/);
    assert.equal(store.get('port'), undefined);
    last = await r.call('reactUpdate', 'port', 8080);
    assert.deepStrictEqual(last, { value: 8080, loading: false, error: null }, 'the next update clears the error');
    // deleted: back to the default
    store.delete('other');
    state = await r.call('reactState');
    assert.equal(state.last.other.value, 0);
    await r.call('reactUnmount');
    // unmounted: nothing renders and nothing throws
    store.set('other', 3);
    assert.equal(await r.call('get', 'other'), 3);
  });

  test(`React ${major}: a failed load shows as error, with its code`, async t => {
    const fx = fixture(t);
    const store = fx.open({ backups: false, defaults: { a: 1 } });
    const ipcMain = new FakeIpcMain();
    registerStoreIpc(ipcMain, store, { allowedOrigins: ['app://elsewhere'] });
    const r = await openRenderer(t, ipcMain, { react: major });
    const mounted = await r.call('react', ['a'], [0]);
    assert.equal(mounted.status, 'error');
    assert.equal(mounted.error.code, 'E_FORBIDDEN_SENDER');
    const state = await r.call('reactState');
    assert.equal(state.last.a.loading, false);
    assert.equal(state.last.a.value, 0);
    assert.equal(state.last.a.error.code, 'E_FORBIDDEN_SENDER');
  });

  test(`React ${major}: no tearing: a store change during a concurrent render never commits two values (a useState hook does)`, async t => {
    const fx = fixture(t);
    const store = fx.open({ backups: false });
    const ipcMain = new FakeIpcMain();
    registerStoreIpc(ipcMain, store);
    const r = await openRenderer(t, ipcMain, { react: major });
    const ours = await r.call('tearing', false);
    assert.ok(ours.trees.length > 0);
    for (const tree of ours.trees) assert.equal(new Set(tree).size, 1, `a committed tree showed ${[...new Set(tree)].join(' and ')}`);
    assert.deepStrictEqual(new Set(ours.final), new Set([String(ours.store)]));
    assert.equal(ours.store, 200, 'both changes happened');
    // the control: the same scenario with the seed's kind of hook commits a torn tree
    const naive = await r.call('tearing', true);
    assert.ok(naive.trees.some(tree => new Set(tree).size > 1), 'the scenario does produce tearing without useSyncExternalStore');
  });

  test(`React ${major}: server rendering (react-dom/server) gives the default and loading`, async t => {
    const fx = fixture(t);
    const store = fx.open({ backups: false });
    const ipcMain = new FakeIpcMain();
    registerStoreIpc(ipcMain, store);
    const r = await openRenderer(t, ipcMain, { react: major });
    assert.equal(await r.call('ssr'), '<p>light|true|null</p>');
  });
}
