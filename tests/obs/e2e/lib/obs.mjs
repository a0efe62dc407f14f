// SPDX-License-Identifier: GPL-2.0-or-later
// The real OBS Studio 29 (Debian's obs-studio) for the E2E tests and the demo: an Xvfb display of its own, a fresh
// HOME with a ready profile and scene collection, the andross module loaded from the build tree, obs-websocket driven
// with obs-websocket-js 5, the module's vendor requests and events, screenshots, the OBS log, a timed SIGINT exit,
// and clean-up of everything it started, also when a test fails or the test process is killed by a signal.
//
// Display choice: every test starts its own Xvfb, with `-displayfd`, so the X server picks a free display number
// itself and tells it when it is ready (no races between tests run in parallel, no xvfb-run needed around node).
// launchObs() starts one per OBS, or draws on one the test passes (`xvfb`, e.g. for a restart); with `display` the
// caller's own display is used instead (the demo on a desktop). OBS never sees the user's HOME: its HOME,
// XDG_CONFIG_HOME and the recordings are in a temporary folder.
// obs-websocket 5.1 has no bind-address setting: it listens on every interface, on a free port; the tests talk to it
// on 127.0.0.1 only. The tests run it without a password (the machine has no network); the demo sets one.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '../../../..');
export const NODE_DIR = path.join(REPO, 'tests/node');
export const BUILD_DIR = process.env.ANDROSS_BUILD_DIR || path.join(REPO, 'build');
export const PLUGIN_BIN = process.env.ANDROSS_OBS_PLUGIN_BIN || path.join(BUILD_DIR, 'obs-plugins/bin');
export const PLUGIN_DATA = process.env.ANDROSS_OBS_PLUGIN_DATA || path.join(BUILD_DIR, 'obs-plugins/data');
export const ANDROSS = process.env.ANDROSS_TOOL || path.join(BUILD_DIR, 'tools/andross');
export const REPLAY_DIR = process.env.ANDROSS_REPLAY_DIR || path.join(REPO, 'tests/replays');
export const SHOT_DIR = process.env.ANDROSS_SHOT_DIR || path.join(BUILD_DIR, 'test-logs/obs');

const require = createRequire(path.join(NODE_DIR, 'package.json'));
const { OBSWebSocket, EventSubscription } = require('obs-websocket-js/json');

// The canvas and the scene colours (OBS colours are 0xAABBGGRR). The screenshot check looks for these.
export const CANVAS = { width: 640, height: 360, fps: 30 };
export const GAME_RGB = [0x1e, 0x6e, 0xd2]; // a blue for the "Game" scene
export const BREAK_RGB = [0xd2, 0x8c, 0x1e]; // an orange for "Break"
const abgr = ([r, g, b]) => (0xff000000 | (b << 16) | (g << 8) | r) >>> 0;

const MIN_UP_MS = 2500; // see Obs.stop()

export const OBS_LAST_VERSION = (29 << 24) | (0 << 16) | 2; // what global.ini says so OBS shows no "what's new"

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Polls fn() until it returns a truthy value; resolves that value, or null after timeoutMs.
export async function waitFor(fn, timeoutMs, everyMs = 50) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() >= until) return null;
    await sleep(everyMs);
  }
}

// A free TCP port on 127.0.0.1 (bound and released: another process could take it in between, which the caller's
// bind then reports).
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Everything started here is remembered, and killed when the test process exits in any way.

const live = new Set(); // child processes
const tempDirs = new Set();

function killAllSync() {
  for (const child of live) {
    try {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
  if (!process.env.ANDROSS_KEEP_TMP) {
    for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
  }
}
process.on('exit', killAllSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    killAllSync();
    process.exit(128 + os.constants.signals[sig]);
  });
}

function track(child) {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

// A temporary folder removed at exit (kept with ANDROSS_KEEP_TMP=1, to look at what a failing test left).
export function tempDir(tag) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `andross-e2e-${tag}-`));
  tempDirs.add(d);
  return d;
}

// Spawns a program and resolves {code, signal, stdout, stderr} when it ends; killed after timeoutMs.
export function run(cmd, args, { timeoutMs = 60000, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = track(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env || process.env }));
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Xvfb

// Starts an X server on a display number it picks itself (-displayfd). Resolves {display, stop()}.
export function startXvfb({ width = 1280, height = 800 } = {}) {
  return new Promise((resolve, reject) => {
    const args = ['-displayfd', '3', '-screen', '0', `${width}x${height}x24`, '-nolisten', 'tcp', '-noreset'];
    const child = track(spawn('Xvfb', args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'] }));
    let err = '';
    let num = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Xvfb did not start within 15 s: ${err}`));
    }, 15000);
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run Xvfb (apt-get install xvfb): ${e.message}`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited (${code ?? signal}) before it was ready: ${err}`));
    });
    child.stdio[3].on('data', (d) => {
      num += d;
      if (!num.includes('\n')) return;
      clearTimeout(timer);
      const display = `:${num.trim()}`;
      const exited = new Promise((res) => child.once('exit', res));
      resolve({
        display,
        width,
        height,
        child,
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), 3000);
          await exited;
          clearTimeout(t);
        },
      });
    });
  });
}

// Takes a picture of the whole X screen into file (PNG), with ImageMagick's import.
export async function screenshot(display, file) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const r = await run('import', ['-display', display, '-window', 'root', file], { timeoutMs: 30000 });
  if (r.code !== 0) throw new Error(`import -window root failed (${r.code}): ${r.stderr} (apt-get install imagemagick)`);
  return file;
}

// Counts the pixels of a PNG within `tolerance` of rgb in every channel. Returns {matching, total}.
export async function countColor(file, rgb, tolerance = 8) {
  const r = spawnSync('convert', [file, '-depth', '8', 'rgb:-'], { maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`convert ${file} rgb:- failed: ${r.stderr}`);
  const px = r.stdout;
  let matching = 0;
  for (let i = 0; i + 2 < px.length; i += 3) {
    if (
      Math.abs(px[i] - rgb[0]) <= tolerance &&
      Math.abs(px[i + 1] - rgb[1]) <= tolerance &&
      Math.abs(px[i + 2] - rgb[2]) <= tolerance
    ) {
      matching++;
    }
  }
  return { matching, total: Math.floor(px.length / 3) };
}

// ---------------------------------------------------------------------------------------------------------------
// The OBS configuration: global.ini, the profile "Andross", the scene collection "Andross".

function ini(sections) {
  let s = '';
  for (const [name, kv] of Object.entries(sections)) {
    s += `[${name}]\n`;
    for (const [k, v] of Object.entries(kv)) s += `${k}=${v}\n`;
    s += '\n';
  }
  return s;
}

function colorSource(name, rgb) {
  return {
    id: 'color_source_v3',
    versioned_id: 'color_source_v3',
    name,
    settings: { color: abgr(rgb), width: CANVAS.width, height: CANVAS.height },
  };
}

function textSource(name, text) {
  return {
    id: 'text_ft2_source_v2',
    versioned_id: 'text_ft2_source_v2',
    name,
    settings: { text, font: { face: 'DejaVu Sans', size: 40, style: 'Bold', flags: 1 }, color1: 0xffffffff, color2: 0xffffffff },
  };
}

function scene(name, itemNames) {
  const items = itemNames.map((n, i) => ({
    name: n,
    id: i + 1,
    visible: true,
    locked: false,
    pos: { x: i === 0 ? 0 : 24, y: i === 0 ? 0 : 24 },
    scale: { x: 1, y: 1 },
  }));
  return { id: 'scene', versioned_id: 'scene', name, settings: { id_counter: items.length, custom_size: false, items } };
}

// Writes the OBS configuration into home. OBS 29 keeps obs-websocket's settings in global.ini [OBSWebSocket].
export function writeObsConfig(home, { wsPort, recDir, wsPassword = '' }) {
  const cfg = path.join(home, '.config/obs-studio');
  const profile = path.join(cfg, 'basic/profiles/Andross');
  const scenes = path.join(cfg, 'basic/scenes');
  fs.mkdirSync(profile, { recursive: true });
  fs.mkdirSync(scenes, { recursive: true });
  fs.mkdirSync(recDir, { recursive: true });
  fs.writeFileSync(
    path.join(cfg, 'global.ini'),
    ini({
      General: {
        'Pre19Defaults': 'false',
        'Pre21Defaults': 'false',
        'Pre23Defaults': 'false',
        'Pre24.1Defaults': 'false',
        FirstRun: 'true', // no auto-configuration wizard
        LastVersion: OBS_LAST_VERSION,
        EnableAutoUpdates: 'false',
        ConfirmOnExit: 'false',
      },
      Basic: { Profile: 'Andross', ProfileDir: 'Andross', SceneCollection: 'Andross', SceneCollectionFile: 'Andross' },
      BasicWindow: { geometry: '', DockState: '' },
      OBSWebSocket: {
        FirstLoad: 'false',
        ServerEnabled: 'true',
        ServerPort: wsPort,
        AlertsEnabled: 'false',
        AuthRequired: wsPassword ? 'true' : 'false',
        ServerPassword: wsPassword,
      },
    }),
  );
  fs.writeFileSync(
    path.join(profile, 'basic.ini'),
    ini({
      General: { Name: 'Andross' },
      Video: {
        BaseCX: CANVAS.width,
        BaseCY: CANVAS.height,
        OutputCX: CANVAS.width,
        OutputCY: CANVAS.height,
        FPSType: 0,
        FPSCommon: CANVAS.fps,
      },
      Output: { Mode: 'Simple' },
      SimpleOutput: {
        FilePath: recDir,
        RecFormat: 'mkv',
        RecQuality: 'Stream',
        RecEncoder: 'x264',
        StreamEncoder: 'x264',
        Preset: 'ultrafast',
        VBitrate: 1000,
      },
    }),
  );
  const collection = {
    name: 'Andross',
    current_scene: 'Game',
    current_program_scene: 'Game',
    scene_order: [{ name: 'Game' }, { name: 'Break' }],
    sources: [
      scene('Game', ['Game background', 'Game label']),
      scene('Break', ['Break background', 'Break label']),
      colorSource('Game background', GAME_RGB),
      colorSource('Break background', BREAK_RGB),
      textSource('Game label', 'andross: Game'),
      textSource('Break label', 'andross: Break'),
    ],
  };
  fs.writeFileSync(path.join(scenes, 'Andross.json'), JSON.stringify(collection, null, 1));
  return { cfg, profile, recDir };
}

// ---------------------------------------------------------------------------------------------------------------
// OBS

// The threads of a process that belong to andross ("andross: loop", "andross: rec 1", ...; the kernel keeps 15 bytes
// of a name), each with its scheduling policy and realtime priority (/proc/PID/task/TID/stat fields 41 and 40).
const POLICIES = ['SCHED_OTHER', 'SCHED_FIFO', 'SCHED_RR', 'SCHED_BATCH', 'SCHED_ISO', 'SCHED_IDLE', 'SCHED_DEADLINE'];
export function androssThreads(pid) {
  const threads = [];
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      if (!name.startsWith('andross')) continue;
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3
      threads.push({ name, policy: POLICIES[Number(f[41 - 3])] || f[41 - 3], priority: Number(f[40 - 3]) });
    } catch {
      // the thread ended meanwhile
    }
  }
  return threads.sort((a, b) => a.name.localeCompare(b.name));
}

// The OBS log files of a HOME, newest last (their names have spaces: "2026-01-01 12-00-00.txt").
function logFiles(home) {
  const dir = path.join(home, '.config/obs-studio/logs');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .map((f) => path.join(dir, f))
    .sort((a, b) => fs.statSync(a).mtimeMs - fs.statSync(b).mtimeMs || a.localeCompare(b));
}

// The lines of an OBS log without their "HH:MM:SS.mmm: " time stamps.
export function logLines(text) {
  return text.split('\n').map((l) => l.replace(/^\d\d:\d\d:\d\d\.\d\d\d: /, ''));
}

// One OBS process. Make it with launchObs().
export class Obs {
  static kept = {};

  constructor(o) {
    Object.assign(this, o);
    this.vendorEvents = []; // {t, eventType, eventData}, t = performance.now() at arrival
    this.obsEvents = []; // {t, type, data} for the OBS events the tests watch
    this.exit = null; // {code, signal, ms} once exited
  }

  // The text of this OBS's own log file ("" before OBS made it).
  log() {
    return this.logFile && fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile, 'utf8') : '';
  }

  // The module's log lines ("[andross] ..."), time stamps removed.
  androssLines() {
    return logLines(this.log()).filter((l) => l.includes('[andross]'));
  }

  // OBS's "Number of memory leaks: N" at exit (null before it exited cleanly).
  memoryLeaks() {
    const m = /Number of memory leaks: (\d+)/.exec(this.log());
    return m ? Number(m[1]) : null;
  }

  // obs-websocket request; rejects with OBS's error.
  call(requestType, requestData) {
    return this.ws.call(requestType, requestData);
  }

  // CallVendorRequest to vendor "andross": resolves responseData (an {error} answer included: the caller checks).
  // obs-websocket 5.1 refuses an empty requestData object, so a request without fields sends none.
  async vendor(requestType, requestData) {
    const req = { vendorName: 'andross', requestType };
    if (requestData !== undefined && (typeof requestData !== 'object' || Object.keys(requestData).length > 0)) {
      req.requestData = requestData;
    }
    const r = await this.ws.call('CallVendorRequest', req);
    return r.responseData;
  }

  // Like vendor() but throws when the module answered {error}.
  async vendorOk(requestType, requestData) {
    const r = await this.vendor(requestType, requestData);
    if (!r || typeof r !== 'object') throw new Error(`${requestType}: no response data (${JSON.stringify(r)})`);
    if ('error' in r) throw new Error(`${requestType} ${JSON.stringify(requestData)}: error ${JSON.stringify(r.error)}`);
    return r;
  }

  // Vendor events of a type (all when type is omitted), optionally for one connection id.
  events(type, connectionId) {
    return this.vendorEvents.filter(
      (e) =>
        (type === undefined || e.eventType === type) &&
        (connectionId === undefined || (e.eventData && e.eventData.connection && e.eventData.connection.id === connectionId)),
    );
  }

  // Waits until at least n vendor events of a type (for one connection) arrived. Resolves them, or throws.
  async waitEvents(type, n, timeoutMs, connectionId) {
    const got = await waitFor(() => this.events(type, connectionId).length >= n, timeoutMs);
    if (!got) {
      const seen = this.vendorEvents.map((e) => e.eventType).join(', ');
      throw new Error(`waited ${timeoutMs} ms for ${n} '${type}' vendor event(s); got: [${seen}]`);
    }
    return this.events(type, connectionId);
  }

  // Waits for an OBS event (RecordStateChanged, ...) after index `from` that matches pred.
  async waitObsEvent(type, pred, timeoutMs, from = 0) {
    const find = () => this.obsEvents.slice(from).find((e) => e.type === type && (!pred || pred(e.data)));
    const e = await waitFor(find, timeoutMs);
    if (!e) throw new Error(`waited ${timeoutMs} ms for OBS event ${type}`);
    return e;
  }

  // GetConnections' entry for an id (undefined if not listed).
  async connection(id) {
    const r = await this.vendorOk('GetConnections');
    return r.connections.find((c) => c.id === id);
  }

  // Waits until a connection's state is `state`. Resolves its GetConnections entry, or throws with the last one.
  async waitState(id, state, timeoutMs) {
    let last;
    const ok = await waitFor(async () => {
      last = await this.connection(id);
      return last && last.state === state;
    }, timeoutMs, 100);
    if (!ok) throw new Error(`connection ${id} not '${state}' within ${timeoutMs} ms: ${JSON.stringify(last)}`);
    return last;
  }

  // StartRecord and wait for OBS_WEBSOCKET_OUTPUT_STARTED. Resolves that event ({t, data}).
  async startRecord(timeoutMs = 20000) {
    const from = this.obsEvents.length;
    await this.call('StartRecord');
    return this.waitObsEvent('RecordStateChanged', (d) => d.outputState === 'OBS_WEBSOCKET_OUTPUT_STARTED', timeoutMs, from);
  }

  // StopRecord and wait for OBS_WEBSOCKET_OUTPUT_STOPPED. Resolves {t, data, outputPath}.
  async stopRecord(timeoutMs = 30000) {
    const from = this.obsEvents.length;
    const r = await this.call('StopRecord');
    const e = await this.waitObsEvent('RecordStateChanged', (d) => d.outputState === 'OBS_WEBSOCKET_OUTPUT_STOPPED', timeoutMs, from);
    return { ...e, outputPath: r.outputPath || e.data.outputPath };
  }

  // A screenshot of the X screen into SHOT_DIR/<name>.png. Resolves the path.
  shot(name) {
    return screenshot(this.display, path.join(SHOT_DIR, `${name}.png`));
  }

  // Copies this OBS's log and console output into SHOT_DIR/<name>-obs-<n>.log.txt (and -stdout).
  keepLogs() {
    try {
      fs.mkdirSync(SHOT_DIR, { recursive: true });
      const n = (Obs.kept[this.name] = (Obs.kept[this.name] || 0) + 1);
      if (this.logFile && fs.existsSync(this.logFile)) {
        fs.copyFileSync(this.logFile, path.join(SHOT_DIR, `${this.name}-obs-${n}.log.txt`));
      }
      if (fs.existsSync(this.stdoutFile)) fs.copyFileSync(this.stdoutFile, path.join(SHOT_DIR, `${this.name}-obs-${n}.stdout.txt`));
    } catch {
      // the logs are a convenience
    }
  }

  // A crash report OBS wrote (after it died of a signal), or "".
  crashReport() {
    const dir = path.join(this.cfgDir, 'crashes');
    if (!fs.existsSync(dir)) return '';
    return fs
      .readdirSync(dir)
      .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
      .join('\n')
      .slice(0, 6000);
  }

  get running() {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  // SIGINT (OBS's clean shutdown: it unloads the modules) and wait. Resolves {code, signal, ms}: ms from the signal
  // to the process's exit. After timeoutMs it is killed (SIGKILL) and `killed` is true.
  async stop(timeoutMs = 30000) {
    if (this.ws) {
      this.ws.removeAllListeners();
      await this.ws.disconnect().catch(() => {});
    }
    if (!this.running) return this.exit;
    // OBS 29 itself often crashes (SIGSEGV in Qt's repaint) or hangs when SIGINT comes within about a second of
    // its start, with or without andross (measured: 6 of 10 exits at once after start-up went wrong, 0 of 20 after
    // 2 s). A streamer never quits that fast, so OBS gets that long before the signal.
    const upMs = performance.now() - (this.readyAt || 0);
    if (upMs < MIN_UP_MS) await sleep(MIN_UP_MS - upMs);
    const t0 = performance.now();
    this.child.kill('SIGINT');
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      this.child.kill('SIGKILL');
    }, timeoutMs);
    const { code, signal } = await this.exited;
    clearTimeout(timer);
    this.exit = { code, signal, ms: performance.now() - t0, killed };
    if (signal) {
      // For the failure message: OBS's crash report, else the end of its console output.
      const out = fs.existsSync(this.stdoutFile) ? fs.readFileSync(this.stdoutFile, 'utf8').slice(-1500) : '';
      this.exit.crash = this.crashReport().slice(0, 1500) || out;
    }
    return this.exit;
  }
}

// Starts OBS. Options:
//   home: the HOME to use (default: a new temporary one, configured with writeObsConfig); a HOME that already has an
//         obs-studio config is used as it is (a restart);
//   xvfb: a startXvfb() to draw on (several OBS in turn, e.g. a restart); display: another X display to use (a
//         desktop's); default: an Xvfb of its own, stopped with OBS by close();
//   plugin: load andross from the build tree (default true; false: OBS as it is, for baselines);
//   name: a tag for temp folders and screenshots;
//   readyMs: how long OBS may take to open its websocket server (default 60 s, the machine may be loaded);
//   wrap: a command (array) to run OBS under, its arguments first (default: none);
//   env: more environment variables for OBS (e.g. {ANDROSS_REALTIME: 'off'}).
// Resolves an Obs with ws (connected obs-websocket-js), vendorEvents being collected, recDir, home, logFile.
export async function launchObs(o = {}) {
  const name = o.name || 'obs';
  const home = o.home || tempDir(`home-${name}`);
  const cfgDir = path.join(home, '.config/obs-studio');
  let wsPort;
  let recDir;
  let wsPassword = '';
  if (fs.existsSync(path.join(cfgDir, 'global.ini'))) {
    const global = fs.readFileSync(path.join(cfgDir, 'global.ini'), 'utf8');
    wsPort = Number(/ServerPort=(\d+)/.exec(global)[1]);
    if (/AuthRequired=true/.test(global)) wsPassword = /ServerPassword=(.*)/.exec(global)[1];
    recDir = /FilePath=(.*)/.exec(fs.readFileSync(path.join(cfgDir, 'basic/profiles/Andross/basic.ini'), 'utf8'))[1];
  } else {
    wsPort = o.wsPort || (await freePort());
    recDir = o.recDir || path.join(home, 'recordings');
    writeObsConfig(home, { wsPort, recDir });
  }
  const plugin = o.plugin !== false;
  if (plugin && !fs.existsSync(path.join(PLUGIN_BIN, 'andross.so'))) {
    throw new Error(`${PLUGIN_BIN}/andross.so is missing: build with -DANDROSS_BUILD_OBS=ON`);
  }

  // An Xvfb: the caller's (o.xvfb, shared by several OBS in turn), else one of its own unless o.display is given.
  let xvfb = null;
  let screen = o.xvfb || null;
  let display = o.xvfb ? o.xvfb.display : o.display;
  if (!display) {
    xvfb = screen = await startXvfb();
    display = xvfb.display;
  }

  const before = new Set(logFiles(home));
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local/share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_RUNTIME_DIR: home,
    DISPLAY: display,
    LIBGL_ALWAYS_SOFTWARE: '1',
    LANG: 'C.UTF-8',
    QT_QPA_PLATFORM: 'xcb',
  };
  Object.assign(env, o.env || {});
  if (plugin) {
    env.OBS_PLUGINS_PATH = PLUGIN_BIN;
    env.OBS_PLUGINS_DATA_PATH = PLUGIN_DATA;
  }
  const stdoutFile = path.join(home, `obs-stdout-${Date.now()}.txt`);
  const out = fs.openSync(stdoutFile, 'w');
  const args = ['--multi', '--disable-missing-files-check', ...(o.args || [])];
  // o.wrap: a command OBS runs under (e.g. unshare for a private /etc/resolv.conf); OBS's arguments follow it.
  const [cmd, ...cmdArgs] = o.wrap ? [...o.wrap, 'obs', ...args] : ['obs', ...args];
  const child = track(spawn(cmd, cmdArgs, { cwd: home, env, stdio: ['ignore', out, out] }));
  fs.closeSync(out);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let spawnError = null;
  child.on('error', (e) => (spawnError = e));

  const obs = new Obs({ name, home, cfgDir, recDir, wsPort, display, xvfb, child, exited, stdoutFile, plugin });
  obs.close = async () => {
    // Never leaves anything behind: OBS (SIGINT, then SIGKILL), then its Xvfb. The OBS log (and its console output)
    // is kept in SHOT_DIR for a look after the run.
    await obs.stop(15000).catch(() => {});
    if (xvfb) await xvfb.stop();
    obs.keepLogs();
  };

  try {
    const readyMs = o.readyMs || 60000;
    const ready = await waitFor(() => {
      if (spawnError) throw new Error(`cannot run obs (apt-get install obs-studio): ${spawnError.message}`);
      if (!obs.running) return 'exited';
      if (!obs.logFile) obs.logFile = logFiles(home).find((f) => !before.has(f));
      return obs.logFile && /WebSocket server is enabled|WebSocketServer::Start/.test(obs.log()) ? 'ready' : null;
    }, readyMs, 100);
    obs.readyAt = performance.now();
    if (ready !== 'ready') {
      const tail = fs.readFileSync(stdoutFile, 'utf8').slice(-3000);
      throw new Error(`OBS ${ready === 'exited' ? 'exited' : `not ready in ${readyMs} ms`}; its output:\n${tail}`);
    }
    if (screen && o.fitWindow !== false) {
      // No window manager on Xvfb: give OBS's main window the whole screen, as a streamer's would be.
      const args = ['search', '--onlyvisible', '--name', 'Profile: ', 'windowmove', '0', '0', 'windowsize',
        String(screen.width), String(screen.height)];
      await run('xdotool', args, { timeoutMs: 10000, env: { ...process.env, DISPLAY: display } }).catch(() => {});
    }
    obs.ws = new OBSWebSocket();
    await connectWs(obs.ws, wsPort, wsPassword, 20000);
    obs.ws.on('VendorEvent', (d) => {
      if (d.vendorName !== 'andross') return;
      obs.vendorEvents.push({ t: performance.now(), eventType: d.eventType, eventData: d.eventData });
      if (o.onVendorEvent) o.onVendorEvent(d);
    });
    for (const type of ['RecordStateChanged', 'CurrentProgramSceneChanged', 'ExitStarted']) {
      obs.ws.on(type, (data) => obs.obsEvents.push({ t: performance.now(), type, data }));
    }
    if (plugin && o.waitVendor !== false) {
      // The vendor is registered in the module's post-load, before the UI is up; wait until it answers.
      let last;
      const ok = await waitFor(async () => {
        try {
          last = await obs.vendor('GetVersion');
          return true;
        } catch (e) {
          last = e.message;
          return false;
        }
      }, 15000, 200);
      if (!ok) throw new Error(`vendor "andross" does not answer GetVersion: ${last}`);
    }
  } catch (e) {
    await obs.close();
    throw e;
  }
  return obs;
}

async function connectWs(ws, port, password, timeoutMs) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await ws.connect(`ws://127.0.0.1:${port}`, password || undefined, {
        eventSubscriptions: EventSubscription.All,
        rpcVersion: 1,
      });
      return;
    } catch (e) {
      if (Date.now() > until) throw new Error(`obs-websocket on 127.0.0.1:${port}: ${e.message}`);
      await sleep(200);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The andross tool

// `andross console-sim` serving replays (names in REPLAY_DIR or paths) on a free loopback port. Resolves
// {port, child, stderr(), stop()}.
// port: where to listen (default: a free one).
export function startConsoleSim(replays, { speed = '1', args = [], port = 0 } = {}) {
  const a = ['console-sim', '--listen', `127.0.0.1:${port}`, '--broadcast', 'off', '--speed', String(speed), ...args];
  for (const r of replays) a.push('--replay', path.isAbsolute(r) ? r : path.join(REPLAY_DIR, r));
  return new Promise((resolve, reject) => {
    const child = track(spawn(ANDROSS, a, { stdio: ['ignore', 'pipe', 'pipe'] }));
    let out = '';
    let err = '';
    const exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
    const timer = setTimeout(() => reject(new Error(`console-sim did not start: ${err}`)), 15000);
    child.on('error', (e) => reject(new Error(`cannot run ${ANDROSS}: ${e.message}`)));
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (\S+):(\d+)\n/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        port: Number(m[2]),
        child,
        exited,
        stderr: () => err,
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          child.kill('SIGTERM');
          const t = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(t);
        },
      });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`console-sim exited (${code}) before listening: ${err}`));
    });
  });
}

// The game events `andross record --source FILE --events - --frames none` prints for a replay (JSON objects).
export async function toolEvents(replay) {
  const file = path.isAbsolute(replay) ? replay : path.join(REPLAY_DIR, replay);
  const out = tempDir('tool');
  const r = await run(ANDROSS, ['record', '--source', file, '--out', out, '--events', '-', '--frames', 'none'], {
    timeoutMs: 120000,
  });
  if (r.code !== 0) throw new Error(`andross record ${file}: exit ${r.code}: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

// `andross inspect --json FILE`: the parsed object.
export async function inspect(file) {
  const r = await run(ANDROSS, ['inspect', '--json', file], { timeoutMs: 60000 });
  const line = r.stdout.split('\n').find((l) => l.trim());
  if (!line) throw new Error(`andross inspect --json ${file}: exit ${r.code}, no output: ${r.stderr}`);
  return JSON.parse(line);
}

// The event bytes of a .slp: the raw element's bytes (to the end of the file when the raw length is 0).
export function slpEvents(file) {
  const b = fs.readFileSync(file);
  const len = b.readUInt32BE(11);
  return b.subarray(15, 15 + (len || b.length - 15));
}

export function replayPath(name) {
  return path.join(REPLAY_DIR, name);
}

// ---------------------------------------------------------------------------------------------------------------
// The Slippi dock, driven through X: GetDock says what it shows and where its buttons are on the screen (ui/),
// xdotool moves the pointer there and clicks or types, as a user would.

// GetDock's answer (`dock`): cards, dialog, question, heartbeat. Throws when the dock is not there.
Obs.prototype.dock = async function dock(requestData) {
  const r = await this.vendorOk('GetDock', requestData);
  return r.dock;
};

// Runs xdotool on this OBS's display.
Obs.prototype.xdotool = async function xdotool(...args) {
  const r = await run('xdotool', args.map(String), { timeoutMs: 10000, env: { ...process.env, DISPLAY: this.display } });
  if (r.code !== 0) throw new Error(`xdotool ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
};

// Clicks at a point GetDock gave ({x, y}); throws when it is null (the widget is hidden).
Obs.prototype.clickAt = async function clickAt(at, what = 'widget') {
  if (!at || typeof at.x !== 'number') throw new Error(`cannot click the ${what}: not on the screen (${JSON.stringify(at)})`);
  // (no --sync: it waits for the pointer to move, forever when it is there already)
  await this.xdotool('mousemove', at.x, at.y, 'sleep', '0.1', 'click', '1');
};

// Types text with the keyboard (into the widget under the pointer: Xvfb has no window manager, focus follows it).
Obs.prototype.type = async function type(text) {
  await this.xdotool('type', '--delay', '30', text);
};

Obs.prototype.key = async function key(...keys) {
  await this.xdotool('key', ...keys);
};

// Waits until pred(GetDock's dock) is truthy; resolves that value (or throws with the last dock).
Obs.prototype.waitDock = async function waitDock(pred, timeoutMs, what = 'the dock') {
  let last;
  const v = await waitFor(async () => {
    try {
      last = await this.dock();
    } catch (e) {
      last = e.message; // not there yet (GetDock answers once OBS has loaded and the dock has drawn once)
      return null;
    }
    return pred(last);
  }, timeoutMs, 50);
  if (!v) throw new Error(`waited ${timeoutMs} ms for ${what}; the dock: ${JSON.stringify(last).slice(0, 3000)}`);
  return v;
};

// A clean-up stack for a test: defer(fn) runs fn when the test ends, pass or fail, last deferred first (OBS before
// the Xvfb it draws on). Returns defer.
export function cleanups(t) {
  const fns = [];
  t.after(async () => {
    while (fns.length) {
      const fn = fns.pop();
      try {
        await fn();
      } catch (e) {
        console.error(`clean-up: ${e.message}`);
      }
    }
  });
  return (fn) => fns.push(fn);
}
