// SPDX-License-Identifier: GPL-2.0-or-later
// bench/obs/scene_bench.mjs: how fast OBS's program scene follows the game, andross's rules against a Clippi-style
// Node client, in one run of the real OBS 29 (through the E2E harness tests/obs/e2e/lib/obs.mjs):
//
//   1. andross: a connection to `andross console-sim` (playing a replay in a loop at 60 fps, --write-log) with the
//      rules game_start -> switch_scene "Game", game_end -> switch_scene "Between games";
//   2. Clippi-style: the same simulator (a new one) read by bench/obs/clippi_client.mjs, a Node process with
//      slippi-js 9.1.2's ConsoleConnection and SlpStream (its process()) that calls SetCurrentProgramScene over obs-websocket-js on Game
//      Start and Game End, as Project Clippi's automator does.
//
// The latency of a game is from the simulator's write of the game's first message (its Event Payloads and Game
// Start, what both clients react to; its first frame follows 1/60 s later) to CurrentProgramSceneChanged "Game" at an
// obs-websocket observer (obs-websocket-js in this process, stamped with process.hrtime.bigint()). Both clocks are
// CLOCK_MONOTONIC. The first game of each phase is left out (connections warm up). The scene transition is Cut.
// Also, to the same switch inside OBS: OBS_FRONTEND_EVENT_SCENE_CHANGED, stamped by bench/obs/scene_changed.lua
// (loaded with the scene collection, as OBS's Tools > Scripts saves a script) with os_gettime_ns().
//
//   node bench/obs/scene_bench.mjs [--build DIR] [--games N] [--replay FILE] [--obs-fps N] [--transition cut|fade]
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

const USAGE = `usage: node bench/obs/scene_bench.mjs [--build DIR] [--games N] [--replay FILE] [--obs-fps N]
                                      [--transition cut|fade]
  --build DIR          the build tree with obs-plugins/bin/andross.so and tools/andross (default: build)
  --games N            games measured per phase, after one to warm up (default 20)
  --replay FILE        the game the simulator plays in a loop (default tests/replays/v3.13.slp: 2.5 s, then 1 s
                       of menus)
  --obs-fps N          OBS's frame rate (default 60)
  --transition T       cut (default) or fade (OBS's 300 ms fade)`;

function parseArgs(argv) {
  const defaults = { build: path.join(REPO, 'build'), games: 20, replay: path.join(REPO, 'tests/replays/v3.13.slp'),
    obsFps: 60, transition: 'cut' };
  const o = readOptions(argv, USAGE, defaults, (o, a, value, v) => {
    if (a === '--build') o.build = path.resolve(value);
    else if (a === '--games') o.games = v.int(1, 1000);
    else if (a === '--replay') o.replay = path.resolve(value);
    else if (a === '--obs-fps') o.obsFps = v.int(1, 240);
    else if (a === '--transition') o.transition = v.oneOf('cut', 'fade');
    else return false;
    return true;
  });
  if (!fs.existsSync(o.replay)) throw new Error(`no replay ${o.replay}`);
  return o;
}

const { opts, lib } = await start('scene_bench', parseArgs, USAGE);

const fmt = (x) => (x === null || x === undefined ? '-' : x.toFixed(1));

// The game starts of a --write-log: CLOCK_MONOTONIC ns of each `start` line, in order.
function startWrites(file) {
  const out = [];
  if (!fs.existsSync(file)) return out;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^(\d+) start \d+ (\d+)$/.exec(line);
    if (m) out.push({ game: Number(m[1]), ns: BigInt(m[2]) });
  }
  return out;
}

// Each "Game" switch matched to the last game start written before it; one switch per game (the first), the first
// game left out. Latencies in ms.
function latencies(changes, starts) {
  const byGame = new Map();
  for (const c of changes) {
    if (c.scene !== 'Game') continue;
    let w = null;
    for (const s of starts) if (s.ns <= c.ns) w = s;
    if (w && !byGame.has(w.game)) byGame.set(w.game, Number(c.ns - w.ns) / 1e6);
  }
  return [...byGame.entries()].filter(([g]) => g > 1).map(([, ms]) => ms).slice(0, opts.games);
}

// The Lua script's file: `NS SCENE`.
function sceneChangedInObs(file) {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').map((l) => /^(\d+) (.+)$/.exec(l)).filter((m) => m && m[2] !== '(loaded)')
    .map((m) => ({ ns: BigInt(m[1]), scene: m[2] }));
}

function report(name, ms) {
  const s = [...ms].sort((a, b) => a - b);
  console.log(`${name.padEnd(34)} ${String(s.length).padStart(5)} ${fmt(percentile(s, 50)).padStart(8)} ` +
    `${fmt(percentile(s, 99)).padStart(8)} ${fmt(s.length ? s[s.length - 1] : null).padStart(8)}`);
}

function machine() {
  const cpu = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) || [])[1] || os.arch();
  const obsVersion = (spawnSync('obs', ['--version'], { encoding: 'utf8' }).stdout || '').trim().split('\n').pop();
  return `${os.type()} ${os.release()} ${os.arch()}; ${cpu}; ${os.cpus().length} cores; node ${process.version}; ${obsVersion}`;
}
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

// The Clippi-style client in a process of its own; resolves once it has the console and OBS.
function startClippi(consolePort, wsPort) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(here, 'clippi_client.mjs'), String(consolePort), String(wsPort)],
      { stdio: ['pipe', 'pipe', 'inherit'] });
    const timer = setTimeout(() => reject(new Error('the Clippi-style client did not connect within 30 s')), 30000);
    child.on('error', reject);
    readline.createInterface({ input: child.stdout }).on('line', (l) => {
      if (l === 'ready') {
        clearTimeout(timer);
        resolve({
          child,
          stop: () => new Promise((res) => {
            child.once('exit', res);
            child.stdin.end();
            setTimeout(() => child.kill('SIGKILL'), 5000);
          }),
        });
      }
    });
  });
}

async function main() {
  console.log(`command: ${process.env.ANDROSS_BENCH_COMMAND || `node bench/obs/scene_bench.mjs ${process.argv.slice(2).join(' ')}`.trim()}`);
  console.log(`machine: ${machine()}`);
  console.log(`load average before: ${load()}`);
  console.log(`OBS: ${opts.obsFps} fps, transition ${opts.transition}; console-sim playing ${path.basename(opts.replay)} in ` +
    `a loop at 60 fps; ${opts.games} games a phase after one to warm up`);
  const tmp = lib.tempDir('bench-scene');
  const home = lib.tempDir('bench-scene-home');
  const wsPort = await lib.freePort();
  const { profile } = lib.writeObsConfig(home, { wsPort, recDir: path.join(home, 'recordings') });
  const ini = path.join(profile, 'basic.ini');
  fs.writeFileSync(ini, fs.readFileSync(ini, 'utf8').replace(/^FPSCommon=.*$/m, `FPSCommon=${opts.obsFps}`));
  // OBS's own scene-changed event, stamped in OBS by a Lua script loaded with the scene collection
  const sceneFile = path.join(tmp, 'scene-changed.txt');
  const collectionFile = path.join(home, '.config/obs-studio/basic/scenes/Andross.json');
  const collection = JSON.parse(fs.readFileSync(collectionFile, 'utf8'));
  collection.modules = { ...(collection.modules || {}), 'scripts-tool': [{ path: path.join(here, 'scene_changed.lua'), settings: { out: sceneFile } }] };
  fs.writeFileSync(collectionFile, JSON.stringify(collection, null, 1));
  const changes = []; // {ns, scene, phase}
  const phaseStarts = {}; // phase -> ns when it began
  let phaseName = 'setup';
  let obs = null;
  let sim = null;
  let clippi = null;
  try {
    obs = await lib.launchObs({ home, name: 'bench-scene' });
    obs.ws.on('CurrentProgramSceneChanged', (d) => changes.push({ ns: process.hrtime.bigint(), scene: d.sceneName, phase: phaseName }));
    await obs.call('CreateScene', { sceneName: 'Between games' });
    await obs.call('SetCurrentSceneTransition', { transitionName: opts.transition === 'cut' ? 'Cut' : 'Fade' });
    await obs.call('SetCurrentProgramScene', { sceneName: 'Between games' });
    const gamesSeen = (phase) => changes.filter((c) => c.phase === phase && c.scene === 'Game').length;

    // 1. andross: the rules are set before the console comes up, so every game is switched
    const logA = path.join(tmp, 'writes-andross.txt');
    const portA = await lib.freePort();
    const { id } = await obs.vendorOk('AddConnection', { name: 'bench', url: `console://127.0.0.1:${portA}` });
    await obs.vendorOk('SetRules', {
      id,
      rules: [
        { event: 'game_start', action: 'switch_scene', scene: 'Game' },
        { event: 'game_end', action: 'switch_scene', scene: 'Between games' },
      ],
    });
    phaseName = 'andross';
    phaseStarts.andross = process.hrtime.bigint();
    sim = await lib.startConsoleSim([opts.replay], { speed: 1, port: portA, args: ['--loop', '--nick', 'bench-scene', '--write-log', logA] });
    const timeoutMs = (opts.games + 3) * 15000;
    process.stdout.write(`andross: ${opts.games + 1} games ... `);
    if (!(await lib.waitFor(() => gamesSeen('andross') >= opts.games + 1, timeoutMs, 200))) throw new Error('andross: too few scene switches');
    console.log('done');
    await obs.vendorOk('RemoveConnection', { id });
    await sim.stop();
    sim = null;
    const pluginLines = obs.androssLines().map((l) => /game_start -> switch_scene Game \((\d+) ms after the event\)/.exec(l)).filter(Boolean);
    const obsLines = obs.androssLines().map((l) => /OBS changed the program scene ([\d.]+) ms after the rule asked/.exec(l)).filter(Boolean);

    // 2. Clippi-style
    await lib.sleep(1500);
    const logB = path.join(tmp, 'writes-clippi.txt');
    sim = await lib.startConsoleSim([opts.replay], { speed: 1, args: ['--loop', '--nick', 'bench-scene', '--write-log', logB] });
    phaseName = 'clippi';
    phaseStarts.clippi = process.hrtime.bigint();
    process.stdout.write(`Clippi-style: ${opts.games + 1} games ... `);
    clippi = await startClippi(sim.port, wsPort);
    if (!(await lib.waitFor(() => gamesSeen('clippi') >= opts.games + 1, timeoutMs, 200))) throw new Error('Clippi-style: too few scene switches');
    console.log('done');
    await clippi.stop();
    clippi = null;
    await sim.stop();
    sim = null;
    await obs.close();
    obs = null;

    console.log('');
    console.log('first write of a game -> CurrentProgramSceneChanged "Game" at an obs-websocket client, ms');
    console.log(`${'path'.padEnd(34)} ${'games'.padStart(5)} ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'max'.padStart(8)}`);
    report('andross rules (in OBS)', latencies(changes.filter((c) => c.phase === 'andross'), startWrites(logA)));
    report('Clippi-style (slippi-js + obs-ws)', latencies(changes.filter((c) => c.phase === 'clippi'), startWrites(logB)));
    const inObs = sceneChangedInObs(sceneFile);
    if (inObs.length) {
      console.log('');
      console.log('first write of a game -> OBS_FRONTEND_EVENT_SCENE_CHANGED "Game" in OBS (Lua script), ms');
      console.log(`${'path'.padEnd(34)} ${'games'.padStart(5)} ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'max'.padStart(8)}`);
      const inPhase = (from, to) => inObs.filter((c) => c.ns >= from && (to === undefined || c.ns < to));
      report('andross rules (in OBS)', latencies(inPhase(phaseStarts.andross, phaseStarts.clippi), startWrites(logA)));
      report('Clippi-style (slippi-js + obs-ws)', latencies(inPhase(phaseStarts.clippi), startWrites(logB)));
    } else {
      console.log('(the Lua script did not load: no numbers in OBS)');
    }
    const inPlugin = pluginLines.map((m) => Number(m[1])).slice(1).sort((a, b) => a - b);
    console.log(`andross's own log: the switch ${fmt(percentile(inPlugin, 50))} ms (p50), ${fmt(percentile(inPlugin, 99))} ms (p99) ` +
      `after the game_start note was made (${inPlugin.length} games; ms resolution)`);
    const obsTook = obsLines.map((m) => Number(m[1])).slice(1).sort((a, b) => a - b);
    console.log(`andross's own log: OBS reported the program scene changed ${fmt(percentile(obsTook, 50))} ms (p50), ` +
      `${fmt(percentile(obsTook, 99))} ms (p99) after the rule asked (${obsTook.length} switches, Game and Between games)`);
    console.log(`load average after: ${load()}`);
  } catch (e) {
    console.log(`\nscene_bench: could not finish: ${e.message}`);
    process.exitCode = 1;
  } finally {
    if (clippi) await clippi.stop();
    if (sim) await sim.stop();
    if (obs) await obs.close();
  }
}

await main();
