'use strict';

// Deterministic, realistic app-settings document for the benchmark.
// `makeDoc(scale, seed)` grows every collection with `scale`; `docForSize(bytes)`
// searches the scale whose `JSON.stringify(doc, null, '\t')` is closest to `bytes`.

function mulberry32(seed) {
  let a = seed >>> 0;
  return function next() {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  'alpha', 'beacon', 'cobalt', 'delta', 'ember', 'falcon', 'garnet', 'harbor', 'indigo', 'juniper',
  'kestrel', 'lumen', 'meridian', 'nimbus', 'orchid', 'prism', 'quartz', 'raven', 'sierra', 'tundra',
  'umbra', 'vertex', 'willow', 'xenon', 'yarrow', 'zephyr', 'api', 'client', 'server', 'utils',
  'components', 'hooks', 'store', 'config', 'tests', 'docs', 'scripts', 'assets', 'styles', 'models',
];
const EXTS = ['ts', 'tsx', 'js', 'json', 'md', 'rs', 'py', 'css', 'html', 'toml', 'yaml'];
const THEMES = ['dark', 'light', 'solarized-dark', 'solarized-light', 'monokai', 'dracula', 'nord'];
const COMMANDS = [
  'editor.action.formatDocument', 'workbench.action.quickOpen', 'editor.action.commentLine',
  'workbench.action.togglePanel', 'editor.action.rename', 'workbench.action.findInFiles',
  'editor.action.goToDefinition', 'workbench.action.splitEditor', 'ai.chat.open', 'ai.inline.accept',
  'terminal.new', 'git.commit', 'git.push', 'editor.fold', 'editor.unfold', 'view.zoomIn',
];
const MODS = ['ctrl', 'shift', 'alt', 'cmd'];
const KEYS = 'abcdefghijklmnopqrstuvwxyz0123456789'.split('').concat(['f1', 'f2', 'f5', 'f12', 'enter', 'tab', 'up', 'down']);
const ACTIONS = ['open', 'save', 'close', 'rename', 'search', 'run', 'debug', 'commit', 'chat', 'format'];
const PROVIDERS = ['openai', 'anthropic', 'google', 'mistral', 'ollama', 'azure', 'groq', 'together'];

const BASE_TS = 1_700_000_000_000;

function makeDoc(scale, seed = 0x7ad5) {
  const rnd = mulberry32(seed);
  const int = (n) => Math.floor(rnd() * n);
  const pick = (arr) => arr[int(arr.length)];
  const word = () => pick(WORDS);
  const ts = () => BASE_TS + int(90 * 24 * 3600 * 1000);
  const id = (prefix) => `${prefix}_${int(0xffffffff).toString(16).padStart(8, '0')}`;
  const filePath = (root) => `${root}/src/${word()}/${word()}-${int(1000)}.${pick(EXTS)}`;
  const count = (factor, min = 0) => Math.max(min, Math.floor(scale * factor));

  const keybindings = {};
  const nKeys = count(4, 1);
  for (let i = 0; i < nKeys; i++) {
    const cmd = i < COMMANDS.length ? COMMANDS[i] : `${pick(COMMANDS)}.${word()}${i}`;
    keybindings[cmd] = `${pick(MODS)}+${i % 3 === 0 ? `${pick(MODS)}+` : ''}${pick(KEYS)}`;
  }

  const settings = {
    theme: 'dark',
    fontSize: 14,
    fontFamily: 'JetBrains Mono',
    autoSave: true,
    editor: {
      tabSize: 2,
      wordWrap: 'on',
    },
    keybindings,
  };
  const nExtra = count(0.5);
  for (let i = 0; i < nExtra; i++) {
    settings.editor[`${word()}_${i}`] = rnd() < 0.5 ? rnd() < 0.5 : int(100);
  }

  const workspaces = [];
  const nWs = count(0.6);
  for (let i = 0; i < nWs; i++) {
    const name = `${word()}-${word()}`;
    const root = `/home/user/projects/${name}`;
    const openFiles = [];
    const nOpen = 1 + int(Math.min(12, 2 + scale * 0.02));
    for (let j = 0; j < nOpen; j++) openFiles.push(filePath(root));
    workspaces.push({
      id: id('ws'),
      name,
      path: root,
      openFiles,
      lastOpened: ts(),
      settings: {
        theme: rnd() < 0.2 ? pick(THEMES) : null,
        tabSize: pick([2, 4, 8]),
        formatOnSave: rnd() < 0.7,
        exclude: [`${root}/node_modules`, `${root}/dist`],
      },
    });
  }

  const recentFiles = [];
  const nRecent = count(1.5);
  for (let i = 0; i < nRecent; i++) {
    recentFiles.push({ path: filePath(`/home/user/projects/${word()}`), openedAt: ts(), pinned: rnd() < 0.1 });
  }

  const providers = [];
  const nProv = Math.min(PROVIDERS.length, count(0.05, scale >= 1 ? 1 : 0));
  for (let i = 0; i < nProv; i++) {
    const models = [];
    const nModels = 1 + int(Math.min(6, 1 + scale * 0.02));
    for (let j = 0; j < nModels; j++) {
      models.push({ id: `${PROVIDERS[i]}-${word()}-${j}`, contextWindow: pick([8192, 32768, 128000, 200000]), enabled: rnd() < 0.8 });
    }
    providers.push({ id: PROVIDERS[i], baseUrl: `https://api.${PROVIDERS[i]}.example.com/v1`, apiKeyRef: id('key'), models });
  }
  const conversations = {};
  const nConv = count(0.4);
  for (let i = 0; i < nConv; i++) {
    conversations[id('conv')] = { title: `${word()} ${word()} ${word()}`, model: nProv ? providers[int(nProv)].models[0].id : null, createdAt: ts(), messages: 1 + int(60) };
  }
  const ai = { defaultProvider: PROVIDERS[0], temperature: 0.2, providers, conversations };

  const user = {
    id: id('user'),
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    locale: 'en-GB',
    preferences: { telemetry: false, digest: 'weekly' },
  };

  const entries = {};
  const nHist = count(3);
  for (let i = 0; i < nHist; i++) {
    entries[id('h')] = { ts: ts(), action: pick(ACTIONS), target: filePath('/home/user/projects'), durationMs: int(5000) };
  }
  const history = { version: 3, lastPruned: ts(), entries };

  return { settings, workspaces, recentFiles, ai, user, history };
}

const sizeOf = (doc) => JSON.stringify(doc, null, '\t').length;

/**
 * The document whose tab-indented JSON is closest to `target` characters. Size is
 * about linear in `scale`: a few secant steps, then a short local search.
 */
function docForSize(target, seed) {
  const tryScale = (scale) => {
    const doc = makeDoc(scale, seed);
    return { doc, scale, size: sizeOf(doc) };
  };
  let best = tryScale(0);
  let a = best;
  let b = tryScale(1);
  const consider = (r) => {
    if (Math.abs(r.size - target) < Math.abs(best.size - target)) best = r;
  };
  consider(b);
  for (let i = 0; i < 8 && Math.abs(best.size - target) > target * 0.005; i++) {
    const slope = (b.size - a.size) / (b.scale - a.scale || 1);
    const next = Math.max(0, b.scale + (target - b.size) / (slope > 0 ? slope : 1000));
    a = b;
    b = tryScale(next);
    consider(b);
  }
  return best;
}

module.exports = { mulberry32, makeDoc, docForSize, sizeOf };
