'use strict';

/**
 * The main-process side of the renderer specs (renderer.spec.js,
 * preload.spec.js, react.spec.js): this process plays Electron's main (an
 * `ipcMain` with `handle` / `removeHandler`), and each "renderer" is a child
 * process forked with `serialization: 'advanced'` (values structured-cloned,
 * as Electron's IPC clones them) running fixtures/renderer-client-child.js,
 * behind a `webContents`-shaped object whose `send` crosses to the child.
 * Messages to one child keep their order (one pipe), as Electron keeps a
 * window's messages in order: an event sent before a call's answer arrives
 * before it.
 */

const path = require('node:path');
const { fork } = require('node:child_process');
const { EventEmitter } = require('node:events');

const CHILD = path.join(__dirname, 'fixtures', 'renderer-client-child.js');
// every wait is for an event, with a deadline generous enough for a loaded
// machine: it fails the test loudly instead of hanging it
const DEADLINE = 60_000;

class FakeIpcMain {
  constructor() { this.handlers = new Map(); }
  handle(channel, fn) {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, fn);
  }
  removeHandler(channel) { this.handlers.delete(channel); }
}

/**
 * Starts a renderer process. `preload`: `'seed'` (the seed's store-preload.js,
 * verbatim) or `'tad'` (tad-store/preload over a stand-in contextBridge);
 * `react`: `'18'` or `'19'` for the React commands; `wc`: an existing
 * webContents to attach to (a window that reloads keeps its webContents);
 * `intercept(event, channel, args, next)`: wraps every handled call.
 */
async function openRenderer(t, ipcMain, options = {}) {
  const { url = 'app://main/index.html', frame = true, preload = 'seed', react = null, intercept = null } = options;
  const env = { ...process.env, TAD_PRELOAD: preload };
  if (react) env.TAD_REACT = react;
  if (options.atomic) env.TAD_ATOMIC = '1';
  const child = fork(CHILD, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env });
  // a message to a renderer that is being killed: EPIPE (the test already knows it is gone)
  child.on('error', (error) => { if (error.code !== 'EPIPE') throw error; });
  let wc = options.wc;
  if (!wc) {
    wc = new EventEmitter();
    wc.destroyed = false;
    wc.sent = [];
    wc.isDestroyed = () => wc.destroyed;
  }
  wc.child = child;
  wc.send = (channel, payload) => {
    if (wc.destroyed) throw new Error('Object has been destroyed');
    wc.sent.push(payload);
    if (wc.child.connected) wc.child.send({ type: 'event', channel, payload });
  };
  const r = { child, wc, seen: [], notes: [], waiters: [], replies: new Map(), nextId: 0, invoked: [] };
  r.destroy = () => {
    wc.destroyed = true;
    wc.emit('destroyed');
    child.kill('SIGKILL');
  };
  /** Kills the process but keeps the webContents (a reload: the next openRenderer({ wc }) takes it). */
  r.kill = () => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
  const poke = () => {
    for (const w of r.waiters.slice()) {
      if (w.pred()) {
        r.waiters.splice(r.waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        w.resolve();
      }
    }
  };
  r.until = (pred, what) => new Promise((resolve, reject) => {
    if (pred()) return resolve();
    const w = { pred, resolve };
    w.timer = setTimeout(() => {
      r.waiters.splice(r.waiters.indexOf(w), 1);
      reject(new Error(`timed out: ${what}`));
    }, DEADLINE);
    r.waiters.push(w);
  });
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for the renderer to start')), DEADLINE);
    const onReady = (m) => {
      if (m.type !== 'ready') return; // the preload's calls can come first
      child.off('message', onReady);
      clearTimeout(timer);
      resolve(m);
    };
    child.on('message', onReady);
    child.once('exit', (code, signal) => { clearTimeout(timer); reject(new Error(`the renderer exited (${code ?? signal}) before it was ready`)); });
  });
  child.once('exit', (code, signal) => {
    for (const [id, p] of r.replies) {
      r.replies.delete(id);
      p.reject(new Error(`the renderer exited (${code ?? signal}) before answering call ${id}`));
    }
  });
  child.on('message', async (msg) => {
    if (msg.type === 'invoke') {
      r.invoked.push(msg.channel);
      const h = ipcMain.handlers.get(msg.channel);
      const event = { sender: wc, senderFrame: frame ? { url } : null };
      const answer = (m) => { if (child.connected) child.send(m); };
      if (!h) return answer({ type: 'result', id: msg.id, ok: false, message: `Error: No handler registered for '${msg.channel}'` });
      try {
        const next = () => h(event, ...msg.args);
        const value = await (intercept ? intercept(event, msg.channel, msg.args, next) : next());
        answer({ type: 'result', id: msg.id, ok: true, value });
      } catch (error) {
        // Electron passes on `${error}` only: name and message
        answer({ type: 'result', id: msg.id, ok: false, message: String(error) });
      }
    } else if (msg.type === 'seen') {
      r.seen.push(msg.change);
      poke();
    } else if (msg.type === 'note') {
      r.notes.push(msg.note);
      poke();
    } else if (msg.type === 'reply') {
      const p = r.replies.get(msg.id);
      if (!p) return;
      r.replies.delete(msg.id);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(Object.assign(new Error(msg.message), { code: msg.code }));
    }
  });
  r.call = (fn, ...args) => new Promise((resolve, reject) => {
    const id = ++r.nextId;
    const timer = setTimeout(() => {
      r.replies.delete(id);
      reject(new Error(`timed out waiting for the renderer's ${fn}(${args.map(a => JSON.stringify(a)).join(', ')})`));
    }, DEADLINE);
    const settle = f => v => { clearTimeout(timer); f(v); };
    r.replies.set(id, { resolve: settle(resolve), reject: settle(reject) });
    child.send({ type: 'call', id, fn, args });
  });
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  await ready;
  return r;
}

/** The store's whole document as plain JSON (what a renderer's cache must equal). */
const plainAll = (store) => JSON.parse(JSON.stringify(store.getAll()));

/** Resolves on the next change event of `store` that satisfies `pred` (deadline: fails loudly). */
function nextChange(store, pred, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error(`timed out: ${what}`)); }, DEADLINE);
    const off = store.onChange('*', (n, o, k) => {
      if (pred(k, n, o)) {
        clearTimeout(timer);
        off();
        resolve();
      }
    });
  });
}

module.exports = { FakeIpcMain, openRenderer, plainAll, nextChange, DEADLINE };
