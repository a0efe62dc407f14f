// SPDX-License-Identifier: GPL-2.0-or-later
// bench/obs: andross inside the real OBS 29 (Debian's obs-studio, under an Xvfb of its own, through the E2E harness
// tests/obs/e2e/lib/obs.mjs). One run, one OBS, recording all along:
//
//   1. andross idle (loaded, no connection) for S seconds: OBS's lagged and skipped frames (GetStats);
//   2. a connection to `andross console-sim` playing real games at 60 fps (--loop, --write-log), recording them
//      beside OBS's recording and relaying them to N raw TCP clients that read, for S seconds: the same counts,
//      and the latency from the simulator's write of a frame to
//      (a) the global signal in the OBS process: a Lua script (andross_signals.lua, loaded by OBS's scripts tool
//          from the scene collection) stamps andross_game_start / andross_stock_lost / andross_game_end with
//          os_gettime_ns();
//      (b) the obs-websocket vendor event at this process (obs-websocket-js), stamped with process.hrtime.bigint():
//          game_start, stock_lost, game_end, and frame (SetFrameEvents, at most 10 a second).
//      All three clocks are CLOCK_MONOTONIC. An event is matched to the last write, before it, of the frame that
//      completed it: a stock_lost or frame event's `frame`, a game's Game Start for game_start, the last frame of
//      the game last started for game_end (games repeat frame numbers seconds apart).
//
//   node bench/obs/obs_bench.mjs [--build DIR] [--seconds S] [--clients N] [--replay FILE]... [--obs-fps N]
//                                [--preview on|off] [--frame-events N] [--warmup S]
//
// Prints the numbers, the command and the machine. Never fails on numbers: exit 0 unless it could not run.
import { spawn, spawnSync } from 'node:child_process';
import { percentile, readOptions, start } from './common.mjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(here, '../..');

const USAGE = `usage: node bench/obs/obs_bench.mjs [--build DIR] [--seconds S] [--clients N] [--replay FILE]...
                                    [--obs-fps N] [--preview on|off] [--frame-events N] [--warmup S]
                                    [--realtime on|off]
  --build DIR         the build tree with obs-plugins/bin/andross.so and tools/andross (default: build)
  --seconds S         length of each of the two phases, idle and busy (default 60)
  --clients N         raw TCP clients of the relay (default 64)
  --replay FILE       a game for the simulator, played in a loop with the others (default tests/replays/v3.13.slp,
                      a 2.5 s game that ends on a stock lost: many events in little time)
  --obs-fps N         OBS's frame rate (default 60)
  --preview on|off    OBS's preview in its main window (default off: see bench/README.md)
  --frame-events N    SetFrameEvents perSecond during the busy phase, 0 for none (default 10)
  --warmup S          recording time before the idle phase (default 5)
  --realtime on|off   off: OBS runs with ANDROSS_REALTIME=off, andross's threads at normal scheduling (default on:
                      realtime where the system grants it, as the plugin does; README, "Realtime scheduling")`;

function parseArgs(argv) {
  const defaults = {
    build: path.join(REPO, 'build'),
    seconds: 60,
    clients: 64,
    replays: [],
    obsFps: 60,
    preview: false,
    frameEvents: 10,
    warmup: 5,
    realtime: true,
  };
  const o = readOptions(argv, USAGE, defaults, (o, a, value, v) => {
    if (a === '--build') o.build = path.resolve(value);
    else if (a === '--seconds') o.seconds = v.num(1, 600);
    else if (a === '--clients') o.clients = Math.round(v.num(0, 1000));
    else if (a === '--replay') o.replays = [...o.replays, path.resolve(value)];
    else if (a === '--obs-fps') o.obsFps = Math.round(v.num(1, 240));
    else if (a === '--preview') o.preview = v.oneOf('on', 'off') === 'on';
    else if (a === '--frame-events') o.frameEvents = Math.round(v.num(0, 10));
    else if (a === '--warmup') o.warmup = v.num(0, 120);
    else if (a === '--realtime') o.realtime = v.oneOf('on', 'off') === 'on';
    else return false;
    return true;
  });
  if (!o.replays.length) o.replays.push(path.join(REPO, 'tests/replays/v3.13.slp'));
  for (const r of o.replays) if (!fs.existsSync(r)) throw new Error(`no replay ${r}`);
  return o;
}

const { opts, lib } = await start('obs_bench', parseArgs, USAGE);

// ---------------------------------------------------------------------------------------------------------------
// Numbers


function summary(samplesUs) {
  const s = [...samplesUs].sort((x, y) => x - y);
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s.length ? s[s.length - 1] : null };
}

const fmt = (x) => (x === null || x === undefined ? '-' : Math.round(x).toLocaleString('en-US'));

// The simulator's write log: `GAME FRAME STREAM_END WRITE_NS`, FRAME `start` for a game's Event Payloads and Game
// Start.
function readWrites(file) {
  const byFrame = new Map(); // frame number or 'start' -> [{ns, game}, ...] in write order (all games)
  const last = new Map(); // game -> write ns of its last frame
  let lines = 0;
  if (!fs.existsSync(file)) return { byFrame, last, lines, games: 0 };
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^(\d+) (start|-?\d+) \d+ (\d+)$/.exec(line);
    if (!m) continue;
    lines++;
    const w = { ns: BigInt(m[3]), game: Number(m[1]) };
    if (!byFrame.has(m[2])) byFrame.set(m[2], []);
    byFrame.get(m[2]).push(w);
    last.set(w.game, w.ns);
  }
  return { byFrame, last, lines, games: last.size };
}

// The last write of a frame (or of a game's start) not later than t: the write that completed what the event
// reports. Games repeat frame numbers seconds apart, so the last one before the event is its own game's.
function writeBefore(writes, frame, t) {
  const list = writes.byFrame.get(String(frame));
  let best = null;
  for (const w of list || []) if (w.ns <= t) best = w;
  return best;
}

// Latencies in µs of events [{ns, type, data}] against the writes, by event type, for the events that arrived
// within [from, to] (ns). Each event is matched on its own, not by its place in the order: obs-websocket sends
// each event from its thread pool, so vendor events can arrive out of order (a game_end before the stock_lost
// that ended the game was seen). A game_end is matched to the last frame of the game whose start came last before
// it; one the simulator did not finish (complete false, when the connection is removed) is left out.
function match(events, writes, from, to) {
  const byType = new Map();
  const unmatched = [];
  const slowest = [];
  let games = 0;
  for (const e of events) {
    if (e.type === 'game_start') games++;
    if (e.ns < from || e.ns > to) continue;
    let w = null;
    if (e.type === 'game_start') w = writeBefore(writes, 'start', e.ns);
    else if (e.type === 'game_end') {
      if (e.data.complete === false) continue;
      const start = writeBefore(writes, 'start', e.ns);
      const l = start ? writes.last.get(start.game) : undefined;
      w = l !== undefined && l <= e.ns ? { ns: l, game: start.game } : null;
    } else if (typeof e.data.frame === 'number') w = writeBefore(writes, e.data.frame, e.ns);
    else continue;
    if (w === null) {
      unmatched.push(`${e.type}${typeof e.data.frame === 'number' ? ` ${e.data.frame}` : ''}`);
      continue;
    }
    const game = w.game;
    const us = Number(e.ns - w.ns) / 1000;
    if (!byType.has(e.type)) byType.set(e.type, []);
    byType.get(e.type).push(us);
    slowest.push({ us, type: e.type, game, frame: e.data.frame });
  }
  slowest.sort((x, y) => y.us - x.us);
  return { byType, unmatched, games, slowest: slowest.slice(0, 3) };
}

// The Lua script's file: `NS SIGNAL CONNECTION JSON` (and `NS loaded 0 {}` when it was loaded).
function readSignals(file, connectionId) {
  const events = [];
  let loaded = false;
  if (!fs.existsSync(file)) return { loaded, events };
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^(\d+) (\S+) (\d+) (.*)$/.exec(line);
    if (!m) continue;
    if (m[2] === 'loaded') {
      loaded = true;
      continue;
    }
    if (Number(m[3]) !== connectionId) continue;
    events.push({ ns: BigInt(m[1]), type: m[2].replace(/^andross_/, ''), data: JSON.parse(m[4]) });
  }
  return { loaded, events };
}

// CPU time of a process, all threads, in seconds (utime + stime from /proc/PID/stat).
function cpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

// Busy and total CPU time of the whole machine, in seconds (the first line of /proc/stat).
function machineCpu() {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] || 0); // idle + iowait
    const total = f.reduce((x, y) => x + y, 0);
    return { busy: (total - idle) / 100, total: total / 100 };
  } catch {
    return null;
  }
}

// OBS's counters over one phase of `seconds`, recording.
async function phase(obs, seconds) {
  const a = await obs.call('GetStats');
  const cpu0 = cpuSeconds(obs.child.pid);
  const m0 = machineCpu();
  const fromNs = process.hrtime.bigint();
  await lib.sleep(seconds * 1000);
  const b = await obs.call('GetStats');
  const cpu1 = cpuSeconds(obs.child.pid);
  const m1 = machineCpu();
  const toNs = process.hrtime.bigint();
  const wall = Number(toNs - fromNs) / 1e9;
  return {
    fromNs,
    toNs,
    seconds: wall,
    renderTotal: b.renderTotalFrames - a.renderTotalFrames,
    renderSkipped: b.renderSkippedFrames - a.renderSkippedFrames,
    outputTotal: b.outputTotalFrames - a.outputTotalFrames,
    outputSkipped: b.outputSkippedFrames - a.outputSkippedFrames,
    avgRenderMs: b.averageFrameRenderTime,
    activeFps: b.activeFps,
    cpuPercent: cpu0 !== null && cpu1 !== null ? ((cpu1 - cpu0) / wall) * 100 : null,
    // everything that ran on the machine, this benchmark and whatever else, in % of one core
    machinePercent: m0 && m1 ? ((m1.busy - m0.busy) / wall) * 100 : null,
    load: os.loadavg()[0],
  };
}

function machine() {
  const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) || [])[1] || os.arch();
  const u = os.release();
  const obsVersion = (spawnSync('obs', ['--version'], { encoding: 'utf8' }).stdout || '').trim().split('\n').pop();
  return `${os.type()} ${u} ${os.arch()}; ${cpu}; ${os.cpus().length} cores; node ${process.version}; ${obsVersion}`;
}

const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

// ---------------------------------------------------------------------------------------------------------------
// OBS set up for the run: the harness's HOME, then the frame rate, the preview and the Lua script.

function patchIniValue(file, section, key, value) {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  let inSection = false;
  let done = false;
  const out = [];
  for (const line of lines) {
    const s = /^\[(.*)\]$/.exec(line);
    if (s) {
      if (inSection && !done) {
        out.splice(out.length - (out[out.length - 1] === '' ? 1 : 0), 0, `${key}=${value}`);
        done = true;
      }
      inSection = s[1] === section;
    } else if (inSection && line.startsWith(`${key}=`)) {
      out.push(`${key}=${value}`);
      done = true;
      continue;
    }
    out.push(line);
  }
  if (!done && inSection) out.splice(out.length - (out[out.length - 1] === '' ? 1 : 0), 0, `${key}=${value}`);
  else if (!done) out.push(`[${section}]`, `${key}=${value}`, '');
  fs.writeFileSync(file, out.join('\n'));
}

async function launch(signalsFile, vendorEvents) {
  const home = lib.tempDir('bench-obs');
  const wsPort = await lib.freePort();
  const { cfg, profile } = lib.writeObsConfig(home, { wsPort, recDir: path.join(home, 'recordings') });
  patchIniValue(path.join(profile, 'basic.ini'), 'Video', 'FPSCommon', opts.obsFps);
  patchIniValue(path.join(cfg, 'global.ini'), 'BasicWindow', 'PreviewEnabled', opts.preview ? 'true' : 'false');
  const collectionFile = path.join(cfg, 'basic/scenes/Andross.json');
  const collection = JSON.parse(fs.readFileSync(collectionFile, 'utf8'));
  // What OBS's Tools > Scripts saves: its scripts are loaded with the scene collection.
  collection.modules = {
    ...(collection.modules || {}),
    'scripts-tool': [{ path: path.join(here, 'andross_signals.lua'), settings: { out: signalsFile } }],
  };
  fs.writeFileSync(collectionFile, JSON.stringify(collection, null, 1));
  return lib.launchObs({
    home,
    name: 'bench-obs',
    env: opts.realtime ? {} : { ANDROSS_REALTIME: 'off' },
    onVendorEvent: (d) => vendorEvents.push({ ns: process.hrtime.bigint(), type: d.eventType, data: d.eventData }),
  });
}

// The relay's clients, in a process of their own. Resolves {child, connected, stop(): report}.
function startClients(host, port, n) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(here, 'relay_clients.mjs'), host, String(port), String(n)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = readline.createInterface({ input: child.stdout });
    let report = null;
    let reportWaiter = null;
    const timer = setTimeout(() => reject(new Error('the relay clients did not connect within 30 s')), 30000);
    child.on('error', reject);
    lines.on('line', (l) => {
      const m = /^connected (\d+)$/.exec(l);
      if (m) {
        clearTimeout(timer);
        resolve({
          child,
          connected: Number(m[1]),
          stop() {
            return new Promise((res) => {
              reportWaiter = res;
              if (report) res(report);
              child.stdin.end('stop\n');
              setTimeout(() => {
                child.kill('SIGKILL');
                res(report);
              }, 10000);
            });
          },
        });
        return;
      }
      if (l.startsWith('{')) {
        report = JSON.parse(l);
        if (reportWaiter) reportWaiter(report);
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------

async function main() {
  const command = `node bench/obs/obs_bench.mjs ${process.argv.slice(2).join(' ')}`.trim();
  const loadBefore = load();
  console.log(`command: ${process.env.ANDROSS_BENCH_COMMAND || command}`);
  console.log(`machine: ${machine()}`);
  console.log(`load average before: ${loadBefore}`);
  const gameNames = opts.replays.map((r) => path.basename(r)).join(', ');
  console.log(
    `OBS: canvas ${lib.CANVAS.width}x${lib.CANVAS.height} at ${opts.obsFps} fps, preview ${opts.preview ? 'on' : 'off'}, ` +
      `recording (x264 ultrafast, mkv) all along; andross from ${path.relative(process.cwd(), opts.build) || '.'}`,
  );
  console.log(
    `phases: ${opts.seconds} s idle (no connection), then ${opts.seconds} s busy: console-sim playing ${gameNames} ` +
      `in a loop at 60 fps, recorded, relayed to ${opts.clients} raw TCP clients, frame events ${opts.frameEvents || 'off'}`,
  );
  console.log('');

  const vendorEvents = []; // {ns, type, data}: every andross vendor event, stamped on arrival
  const tmp = lib.tempDir('bench-obs-files');
  const signalsFile = path.join(tmp, 'signals.txt');
  const writeLog = path.join(tmp, 'writes.txt');
  let obs = null;
  let sim = null;
  let clients = null;
  try {
    obs = await launch(signalsFile, vendorEvents);
    const lua = readSignals(signalsFile, -1).loaded;
    if (!lua) console.log('warning: the Lua script did not load (obs-scripting / obslua missing?): no numbers for (a)');
    await obs.startRecord();
    await lib.sleep(opts.warmup * 1000);

    process.stdout.write(`idle: ${opts.seconds} s ... `);
    const idle = await phase(obs, opts.seconds);
    console.log('done');

    sim = await lib.startConsoleSim(opts.replays, {
      speed: 1,
      args: ['--loop', '--nick', 'bench-obs', '--write-log', writeLog],
    });
    if (opts.frameEvents) await obs.vendorOk('SetFrameEvents', { enabled: true, perSecond: opts.frameEvents });
    const relayPort = await lib.freePort();
    const { id } = await obs.vendorOk('AddConnection', {
      name: 'bench',
      url: `console://127.0.0.1:${sim.port}`,
      relay: { enabled: true, listen: `127.0.0.1:${relayPort}` },
      autoConnect: true,
    });
    const conn = await obs.waitState(id, 'connected', 30000);
    const [relayHost, relayPortText] = (conn.relay.address || `127.0.0.1:${relayPort}`).split(/:(?=\d+$)/);
    if (opts.clients) {
      clients = await startClients(relayHost, Number(relayPortText), opts.clients);
      await lib.sleep(1000); // the relay takes a client that says nothing for raw after 250 ms
    }
    process.stdout.write(`busy: ${opts.seconds} s ... `);
    const busy = await phase(obs, opts.seconds);
    console.log('done');
    const listed = await obs.connection(id);
    const clientReport = clients ? await clients.stop() : null;
    clients = null;
    await obs.vendorOk('RemoveConnection', { id });
    if (opts.frameEvents) await obs.vendorOk('SetFrameEvents', { enabled: false });
    await sim.stop();
    sim = null;
    await lib.sleep(500); // the last signals of the removed connection
    await obs.stopRecord();
    const refusals = obs.androssLines().filter((l) => /refused/.test(l));
    const scheduling = obs.androssLines().find((l) => /^\[andross\] realtime scheduling: /.test(l));
    await obs.close();
    obs = null;

    // ---- latency
    const writes = readWrites(writeLog);
    const signals = readSignals(signalsFile, id);
    const vendor = vendorEvents.filter((e) => e.data && e.data.connection && e.data.connection.id === id);
    const a = match(signals.events, writes, busy.fromNs, busy.toNs);
    const b = match(vendor, writes, busy.fromNs, busy.toNs);
    console.log('');
    console.log(
      `simulator: ${writes.games} games, ${writes.lines} frames written; OBS saw ${b.games} game starts ` +
        `(vendor), ${a.games} (signals)`,
    );
    const counts = (list) => {
      const c = new Map();
      for (const e of list) c.set(e.type, (c.get(e.type) || 0) + 1);
      return [...c].map(([t, k]) => `${t} ${k}`).join(', ') || 'none';
    };
    console.log(`vendor events: ${counts(vendor)}`);
    console.log(`signals: ${counts(signals.events)}`);
    console.log('');
    console.log(
      "latency from the simulator's write of the frame to the event, for the events of the busy phase, µs " +
        '(nearest rank: with fewer than 100 events, p99 is the largest):',
    );
    const rows = [];
    const row = (path_, what, samples) => rows.push({ path: path_, what, ...summary(samples) });
    const all = (m, types) => types.flatMap((t) => m.byType.get(t) || []);
    const gameTypes = ['game_start', 'stock_lost', 'game_end'];
    row('(a) global signal, Lua in OBS', 'stock_lost', a.byType.get('stock_lost') || []);
    row('(a) global signal, Lua in OBS', 'game_start + stock_lost + game_end', all(a, gameTypes));
    row('(b) vendor event, obs-websocket-js', 'stock_lost', b.byType.get('stock_lost') || []);
    row('(b) vendor event, obs-websocket-js', 'game_start + stock_lost + game_end', all(b, gameTypes));
    if (opts.frameEvents) row('(b) vendor event, obs-websocket-js', `frame (${opts.frameEvents}/s)`, b.byType.get('frame') || []);
    row('(b) vendor event, obs-websocket-js', 'all of the above', all(b, [...gameTypes, 'frame']));
    console.log('');
    console.log('| path | events | n | p50 | p99 | max |');
    console.log('|---|---|---:|---:|---:|---:|');
    for (const r of rows) console.log(`| ${r.path} | ${r.what} | ${r.n} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.max)} |`);
    const slow = (m) =>
      m.slowest.map((x) => `${fmt(x.us)} (${x.type}${x.frame !== undefined ? ` ${x.frame}` : ''}, game ${x.game})`).join(', ');
    console.log(`slowest: (a) ${slow(a) || '-'}; (b) ${slow(b) || '-'}`);
    const signalUs = all(a, gameTypes);
    console.log(
      `signals over 1 ms: ${signalUs.filter((us) => us > 1000).length}, over 2 ms: ` +
        `${signalUs.filter((us) => us > 2000).length} (of ${signalUs.length})`,
    );
    console.log(`andross's threads (OBS's log): ${scheduling || 'no line about realtime scheduling'}`);
    if (a.unmatched.length || b.unmatched.length) {
      console.log(
        `events with no write of their frame before them: signals ${a.unmatched.length} ` +
          `(${a.unmatched.slice(0, 3).join(', ')}), vendor ${b.unmatched.length} (${b.unmatched.slice(0, 3).join(', ')})`,
      );
    }

    // ---- OBS frames
    console.log('');
    console.log(`OBS over each phase, recording (GetStats differences; CPU: the OBS process, all threads):`);
    console.log('');
    console.log('| | andross idle | andross busy |');
    console.log('|---|---:|---:|');
    const cmp = (label, k, f = fmt) => console.log(`| ${label} | ${f(idle[k])} | ${f(busy[k])} |`);
    cmp('seconds', 'seconds', (x) => x.toFixed(1));
    cmp('frames rendered (renderTotalFrames)', 'renderTotal');
    cmp('lagged frames (renderSkippedFrames)', 'renderSkipped');
    cmp('frames output (outputTotalFrames)', 'outputTotal');
    cmp('skipped frames (outputSkippedFrames)', 'outputSkipped');
    cmp('average frame render time, ms (at the end)', 'avgRenderMs', (x) => x.toFixed(2));
    cmp('OBS CPU, % of a core', 'cpuPercent', (x) => (x === null ? '-' : x.toFixed(1)));
    cmp(`machine CPU, every process, % of a core (of ${os.cpus().length})`, 'machinePercent', (x) =>
      x === null ? '-' : x.toFixed(1),
    );
    cmp('load average (1 min) at the end', 'load', (x) => x.toFixed(2));

    // ---- relay
    console.log('');
    if (clientReport) {
      const served = clientReport.bytes.filter((x) => x > 0);
      const minBytes = served.length ? Math.min(...served) : 0;
      console.log(
        `relay ${conn.relay.address}: ${clientReport.clients} raw clients connected, ${clientReport.served} served ` +
          `(each got at least ${fmt(minBytes)} bytes), ${clientReport.open} still open at the end; ` +
          `GetConnections listed clientCount ${listed && listed.relay ? listed.relay.clientCount ?? listed.relay.clients.length : '-'}`,
      );
      const reasons = new Map();
      clientReport.closed.forEach((r) => r && reasons.set(r, (reasons.get(r) || 0) + 1));
      for (const [r, k] of reasons) console.log(`  ${k} client(s) closed: ${r}`);
      if (refusals.length) console.log(`  OBS log: ${refusals[0].trim()}`);
    }

    // ---- targets
    const signalAll = rows[1];
    console.log('');
    console.log(`load average after: ${load()}`);
    console.log('');
    if (!lua || !signalAll.n) console.log('target: signal p99 under 2 ms: not measured (no signal was stamped)');
    else
      console.log(
        `target: signal p99 under 2 ms: ${signalAll.p99 < 2000 ? 'met' : 'NOT met'} (${fmt(signalAll.p99)} µs over ` +
          `${signalAll.n} signals; stock_lost alone ${fmt(rows[0].p99)} µs over ${rows[0].n})`,
      );
    const worse = busy.renderSkipped > idle.renderSkipped || busy.outputSkipped > idle.outputSkipped;
    console.log(
      `target: no skipped or lagged frame that the idle run does not also have: ${worse ? 'NOT met' : 'met'} ` +
        `(lagged ${busy.renderSkipped} vs ${idle.renderSkipped} idle, skipped ${busy.outputSkipped} vs ` +
        `${idle.outputSkipped} idle${clientReport && clientReport.served < opts.clients ? `; only ${clientReport.served} of ${opts.clients} clients served` : ''})`,
    );
  } catch (e) {
    console.log('');
    console.log(`obs_bench: the run did not complete: ${e.stack || e.message}`);
    if (obs) console.log(`(OBS's log is kept in ${process.env.ANDROSS_SHOT_DIR})`);
    process.exitCode = 1;
  } finally {
    if (clients) clients.child.kill('SIGKILL');
    if (sim) await sim.stop().catch(() => {});
    if (obs) await obs.close().catch(() => {});
  }
}

await main();
