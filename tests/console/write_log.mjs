// SPDX-License-Identifier: GPL-2.0-or-later
// `andross console-sim --write-log FILE` with slippi-js 9.1.2's ConsoleConnection as the client, two real games in
// real time: the log has one line per frame of each game, in order, with the frame numbers and stream positions a
// separate walk of the replays finds (frames cut at a Frame Start or a leader Pre-Frame Update with a new number,
// the game's Event Payloads and Game Start as `start`); each write time is no later than slippi-js had the frame's last
// byte (both CLOCK_MONOTONIC), and the writes of a game span at least its frames at 60 a second.
// Usage: node write_log.mjs ANDROSS_TOOL REPLAY_DIR NODE_TEST_DIR
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

import { readContainer, walkEvents } from '../node/lib/slp.mjs';

const [tool, replayDir, nodeDir] = process.argv.slice(2);
const require = createRequire(path.resolve(nodeDir, 'package.json'));
const { ConsoleConnection } = require('@slippi/slippi-js/node');

const REPLAYS = ['v3.13.slp', 'unranked_game1.slp']; // 148 and 169 frames: about 6 s with the menu between them
const HELO = Buffer.from('HELO\0', 'latin1');

function fail(msg) {
  console.error(`FAIL: ${msg}`);
  process.exit(1);
}

// The frames of a replay's events as the simulator should report them: [{frame: 'start'|N, end}], end relative
// to the replay's first event byte; the start ends with the Game Start event.
function expectedFrames(events) {
  const { sizes, completeBytes } = walkEvents(events);
  const cuts = [{ frame: 'start', at: 0 }];
  let startEnd = null;
  let last = null;
  for (let pos = 0; pos < completeBytes; pos += 1 + sizes.get(events[pos])) {
    const cmd = events[pos];
    if (cmd === 0x35) last = null;
    if (cmd === 0x36 && startEnd === null) startEnd = pos + 1 + sizes.get(cmd);
    const size = sizes.get(cmd);
    const marker = (cmd === 0x3a && size >= 4) || (cmd === 0x37 && size >= 6 && events[pos + 6] === 0);
    if (!marker) continue;
    const frame = events.readInt32BE(pos + 1);
    if (frame === last) continue;
    last = frame;
    cuts.push({ frame, at: pos });
  }
  const frames = cuts.map((c, i) => ({ frame: c.frame, end: i + 1 < cuts.length ? cuts[i + 1].at : completeBytes }));
  frames[0].end = startEnd;
  return frames;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'andross-write-log-'));
const logFile = path.join(dir, 'writes.txt');
let sim = null;
process.on('exit', () => {
  if (sim && sim.exitCode === null && sim.signalCode === null) sim.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});
try {
  const args = ['console-sim', '--listen', '127.0.0.1:0', '--speed', '1', '--broadcast', 'off', '--write-log', logFile];
  for (const r of REPLAYS) args.push('--replay', path.join(replayDir, r));
  sim = spawn(tool, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => sim.on('exit', (code) => resolve(code)));
  const port = await new Promise((resolve, reject) => {
    let out = '';
    sim.stdout.on('data', (d) => {
      out += d;
      const m = /listening on [^:]+:(\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    sim.on('exit', (c) => reject(new Error(`console-sim exited (${c}) before listening`)));
    setTimeout(() => reject(new Error('console-sim did not start')), 10000);
  });

  // The client: the arrival time of every chunk and the stream position after it.
  const arrivals = [];
  let got = 0;
  const conn = new ConsoleConnection();
  conn.on('data', (d) => {
    const t = process.hrtime.bigint();
    const b = Buffer.from(d);
    if (b.equals(HELO)) return;
    got += b.length;
    arrivals.push({ end: got, t });
  });
  let done = false;
  conn.on('error', (e) => {
    if (!done) console.error(`slippi-js: ${e && e.message}`);
  });
  conn.connect('127.0.0.1', port, true);
  const watchdog = setTimeout(() => fail('console-sim did not finish within 40 s'), 40000);
  const code = await exited;
  clearTimeout(watchdog);
  done = true;
  const games = REPLAYS.map((r) => readContainer(fs.readFileSync(path.join(replayDir, r))).events);
  const total = games.reduce((n, e) => n + e.length, 0);
  for (let i = 0; i < 100 && got < total; i++) await new Promise((r) => setTimeout(r, 50));
  conn.disconnect();
  if (code !== 0) fail(`console-sim exited with ${code}`);
  if (got !== total) fail(`slippi-js got ${got} bytes, the replays hold ${total}`);

  // The expected lines, game after game, stream positions counted across games.
  const want = [];
  let base = 0;
  games.forEach((events, g) => {
    for (const f of expectedFrames(events)) want.push({ game: g + 1, frame: f.frame, end: base + f.end });
    base += events.length;
  });
  const lines = fs.readFileSync(logFile, 'utf8').split('\n').filter((l) => l);
  if (lines.length !== want.length) fail(`${lines.length} lines in the write log, ${want.length} frames played`);
  let prevNs = 0n;
  let a = 0;
  const span = new Map(); // game -> {first, last, n} of its frames' write times
  lines.forEach((line, i) => {
    const m = /^(\d+) (start|-?\d+) (\d+) (\d+)$/.exec(line);
    if (!m) fail(`line ${i + 1}: '${line}' is not GAME FRAME STREAM_END WRITE_NS`);
    const w = want[i];
    const frame = m[2] === 'start' ? 'start' : Number(m[2]);
    if (Number(m[1]) !== w.game || frame !== w.frame || Number(m[3]) !== w.end) {
      fail(`line ${i + 1}: '${line}', expected game ${w.game} frame ${w.frame} ending at byte ${w.end}`);
    }
    const ns = BigInt(m[4]);
    if (ns < prevNs) fail(`line ${i + 1}: write time ${ns} before the previous line's ${prevNs}`);
    prevNs = ns;
    while (a < arrivals.length && arrivals[a].end < w.end) a++;
    if (a === arrivals.length) fail(`line ${i + 1}: slippi-js never had byte ${w.end}`);
    if (ns > arrivals[a].t) fail(`line ${i + 1}: written at ${ns} ns, but slippi-js had it at ${arrivals[a].t} ns`);
    if (frame !== 'start') {
      const s = span.get(w.game) || { first: ns, n: 0 };
      s.last = ns;
      s.n++;
      span.set(w.game, s);
    }
  });
  for (const [game, s] of span) {
    const ms = Number(s.last - s.first) / 1e6;
    const least = (0.9 * (s.n - 1) * 1000) / 60;
    if (ms < least) fail(`game ${game}: ${s.n} frames written within ${ms.toFixed(1)} ms, faster than 60 a second`);
  }
  console.log(`ok: ${lines.length} lines for ${REPLAYS.length} games, each frame written before slippi-js had it`);
  process.exit(0);
} catch (e) {
  fail(e.stack || String(e));
}
