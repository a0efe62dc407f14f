// SPDX-License-Identifier: GPL-2.0-or-later
// andross at work in the real OBS: OBS starts with the plugin from the build tree and its own profile and scene
// collection in build/obs-demo-home (never the user's ~/.config/obs-studio), a demo:// connection (a simulated Wii
// inside OBS playing the bundled replays in real time) is added over obs-websocket, OBS records while a game plays,
// and this prints the game's events (JSON Lines, on stdout) and where the recording, its .slp and its sidecar are.
// Run it through tools/obs-demo.sh, which checks the build first.
//
// Options: --seconds N   stop after N seconds of play instead of at the end of the first game (at most 600)
//          --xvfb        use an Xvfb of its own even when DISPLAY is set (without DISPLAY it always does)
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

import {
  BUILD_DIR,
  freePort,
  launchObs,
  screenshot,
  sleep,
  startXvfb,
  waitFor,
  writeObsConfig,
} from '../tests/obs/e2e/lib/obs.mjs';

const CAP_SECONDS = 600;

function usage(msg) {
  if (msg) console.error(`obs-demo: ${msg}`);
  console.error('usage: tools/obs-demo.sh [--seconds N] [--xvfb]');
  process.exit(2);
}

let seconds = null;
let forceXvfb = false;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--seconds') {
    seconds = Number(argv[++i]);
    if (!Number.isFinite(seconds) || seconds <= 0) usage(`--seconds takes a number above 0, not '${argv[i]}'`);
    seconds = Math.min(seconds, CAP_SECONDS);
  } else if (argv[i] === '--xvfb') {
    forceXvfb = true;
  } else if (argv[i] === '--help' || argv[i] === '-h') {
    usage();
  } else {
    usage(`unknown option ${argv[i]}`);
  }
}

const say = (m) => console.error(`obs-demo: ${m}`);

// Ctrl-C ends the game early, but still stops the recording and OBS properly.
let interrupted = false;
process.removeAllListeners('SIGINT');
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  say('stopping (Ctrl-C again to quit at once)');
});

const home = process.env.ANDROSS_DEMO_HOME || path.join(BUILD_DIR, 'obs-demo-home');
const recDir = path.join(home, 'recordings');
// A fresh OBS configuration each run (the recordings of earlier runs stay).
fs.rmSync(path.join(home, '.config'), { recursive: true, force: true });
// obs-websocket listens on every interface (5.1 has no bind-address setting): the demo's needs a password.
writeObsConfig(home, { wsPort: await freePort(), recDir, wsPassword: randomBytes(12).toString('hex') });

let xvfb = null;
let display = forceXvfb ? null : process.env.DISPLAY;
if (!display) {
  xvfb = await startXvfb();
  display = xvfb.display;
  say(`no display: OBS runs under Xvfb ${display}`);
}

let obs;
let status = 0;
try {
  say(`starting OBS (HOME=${home}, plugin from ${path.join(BUILD_DIR, 'obs-plugins')})`);
  obs = await launchObs({
    name: 'obs-demo',
    home,
    ...(xvfb ? { xvfb } : { display }),
    onVendorEvent: (e) => process.stdout.write(`${JSON.stringify(e.eventData)}\n`),
  });
  const version = await obs.vendorOk('GetVersion');
  say(`andross ${version.version} in OBS ${version.obsVersion}, obs-websocket on 127.0.0.1:${obs.wsPort}`);

  const rec = await obs.startRecord();
  say(`recording to ${rec.data.outputPath}`);
  const { id } = await obs.vendorOk('AddConnection', { name: 'Demo', url: 'demo://', folder: recDir });
  say(`connection ${id}: demo:// (bundled replays, played in real time)`);

  // What the Slippi dock shows (in the screenshot too): the card's state and game, as GetDock says.
  async function sayDock() {
    try {
      const r = await obs.vendor('GetDock');
      for (const c of (r.dock && r.dock.cards) || []) {
        const game = [c.game, ...c.players.map((p) => p.text)].filter(Boolean).join(' | ');
        say(`dock: ${c.name}: ${c.stateText}${game ? ` | ${game}` : ''}`);
      }
    } catch (e) {
      say(`dock: not there (${e.message})`);
    }
  }
  const limit = (seconds ?? CAP_SECONDS) * 1000;
  const t0 = performance.now();
  let shot = null;
  await waitFor(async () => {
    if (interrupted) return true;
    const elapsed = performance.now() - t0;
    const started = obs.events('game_start', id)[0];
    if (xvfb && !shot && started && performance.now() - started.t > 3000) {
      shot = await screenshot(display, path.join(home, 'obs-demo.png'));
      await sayDock();
    }
    if (seconds === null && obs.events('game_end', id).length > 0) return true;
    return elapsed >= limit;
  }, limit + 5000, 200);
  if (xvfb && !shot) {
    shot = await screenshot(display, path.join(home, 'obs-demo.png'));
    await sayDock();
  }

  // A game cut short (--seconds, Ctrl-C) goes on into its .slp until OBS exits below, which finishes the file.
  const stopped = await obs.stopRecord();
  const video = stopped.outputPath || rec.data.outputPath;
  const base = path.join(path.dirname(video), path.basename(video, path.extname(video)));
  const sidecar = `${base}.andross.json`;
  await waitFor(() => fs.existsSync(sidecar), 10000);
  await sleep(200);

  console.error('');
  say(`recording: ${video}`);
  if (obs.events('game_start', id).length === 0) {
    status = 1;
    say('no game_start event came from the demo connection');
  }
  if (fs.existsSync(sidecar)) {
    const games = JSON.parse(fs.readFileSync(sidecar, 'utf8')).games || [];
    if (games.length === 0) {
      status = 1;
      say('the sidecar lists no game');
    }
    for (const g of games) {
      const file = g.file ? path.resolve(path.dirname(sidecar), g.file) : '(no file listed)';
      const end = g.endMs === null ? 'the end (the game went on)' : `${g.endMs} ms`;
      say(`replay:    ${file} (${g.startMs} ms to ${end} in the video)`);
    }
    say(`sidecar:   ${sidecar}`);
  } else {
    status = 1;
    say(`no sidecar ${sidecar} was written`);
  }
  if (shot) say(`screenshot: ${shot}`);
  say(`events: ${obs.events(undefined, id).length} (printed above as JSON Lines)`);
} catch (e) {
  status = 1;
  say(`error: ${e.message}`);
} finally {
  if (obs) {
    const exit = await obs.stop();
    if (exit) say(`OBS exited in ${exit.ms.toFixed(0)} ms; its log: ${obs.logFile}`);
    await obs.close();
  }
  if (xvfb) await xvfb.stop();
}
process.exit(status);
