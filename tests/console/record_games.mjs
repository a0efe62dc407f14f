// SPDX-License-Identifier: GPL-2.0-or-later
// `andross record --source console://... --games N` against `andross console-sim` serving three games: exactly N
// files, each byte-exact, each with the Wii's nickname as consoleNick, and the third game never started.
// Usage: node record_games.mjs ANDROSS_TOOL REPLAY_DIR
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [tool, replayDir] = process.argv.slice(2);
const REPLAYS = ['v3.13.slp', 'unranked_game1.slp', 'v3.13.slp'];
const NICK = 'Station 7';

function events(file) {
  const b = fs.readFileSync(file);
  const len = b.readUInt32BE(11);
  return b.subarray(15, 15 + (len || b.length - 15));
}

function fail(msg) {
  console.error(`FAIL: ${msg}`);
  process.exit(1);
}

const args = ['console-sim', '--listen', '127.0.0.1:0', '--speed', 'max', '--broadcast', 'off', '--nick', NICK];
for (const r of REPLAYS) args.push('--replay', path.join(replayDir, r));
const sim = spawn(tool, args, { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise((resolve, reject) => {
  let out = '';
  sim.stdout.on('data', (d) => {
    out += d;
    const m = /listening on [^:]+:(\d+)/.exec(out);
    if (m) resolve(m[1]);
  });
  setTimeout(() => reject(new Error('console-sim did not start')), 5000);
});
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'andross-games-'));
const rec = spawnSync(tool, ['record', '--source', `console://127.0.0.1:${port}`, '--out', dir, '--games', '2'], {
  timeout: 30000,
  encoding: 'utf8',
});
sim.kill('SIGTERM');
if (rec.status !== 0) fail(`record exited with ${rec.status}: ${rec.stderr}`);
const files = fs.readdirSync(dir).sort();
if (files.length !== 2) fail(`expected 2 files, got ${files.length}: ${files.join(', ')}`);
files.forEach((f, i) => {
  const want = events(path.join(replayDir, REPLAYS[i]));
  const got = events(path.join(dir, f));
  if (!want.equals(got)) fail(`${f}: event bytes differ from ${REPLAYS[i]}`);
  const insp = spawnSync(tool, ['inspect', '--json', path.join(dir, f)], { encoding: 'utf8' });
  const meta = JSON.parse(insp.stdout).metadata;
  if (!meta || meta.consoleNick !== NICK) fail(`${f}: consoleNick ${meta && meta.consoleNick}, expected ${NICK}`);
});
fs.rmSync(dir, { recursive: true, force: true });
console.log(`ok: --games 2 wrote exactly 2 byte-exact files with consoleNick "${NICK}"`);
