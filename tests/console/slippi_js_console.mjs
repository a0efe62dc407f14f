// SPDX-License-Identifier: GPL-2.0-or-later
// slippi-js 9.1.2 (ConsoleConnection + SlpFileWriter) as the real peer of `andross console-sim`: it must get every
// game byte for byte, and `andross record --source console://` must deliver the same event bytes for the same
// session. Usage: node slippi_js_console.mjs ANDROSS_TOOL REPLAY_DIR NODE_TEST_DIR
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const [tool, replayDir, nodeDir] = process.argv.slice(2);
const require = createRequire(path.join(nodeDir, 'package.json'));
const { ConsoleConnection, SlpFileWriter } = require('@slippi/slippi-js/node');

// each with a Game End: slippi-js completes a file only at 0x39 (§5)
const REPLAYS = ['v3.13.slp', '200306_2258_Falco_v_Fox_PS.slp', 'unranked_game1.slp'];
const HELO = Buffer.from('HELO\0', 'latin1');

function events(file) {
  const b = fs.readFileSync(file);
  const len = b.readUInt32BE(11);
  return b.subarray(15, 15 + (len || b.length - 15));
}

function fail(msg) {
  console.error(`FAIL: ${msg}`);
  process.exit(1);
}

function firstDiff(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

function startSim(speed) {
  const args = ['console-sim', '--listen', '127.0.0.1:0', '--speed', speed, '--broadcast', 'off'];
  for (const r of REPLAYS) args.push('--replay', path.join(replayDir, r));
  const child = spawn(tool, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  const port = new Promise((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (d) => {
      text += d.toString();
      const m = /listening on .*:(\d+)\n/.exec(text);
      if (m) resolve(Number(m[1]));
    });
    setTimeout(() => reject(new Error('console-sim did not start')), 10000);
  });
  return { child, port, exited };
}

const timeout = (ms, what) => new Promise((_, reject) => setTimeout(() => reject(new Error(`timeout: ${what}`)), ms));

async function withSlippiJs() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'andross-sjs-console-'));
  const sim = startSim('max');
  const port = await sim.port;
  const conn = new ConsoleConnection();
  // games a few ms apart would share slippi-js's per-second file name: number them instead
  let n = 0;
  const writer = new SlpFileWriter({ folderPath: dir, newFilename: (folder) => path.join(folder, `game${++n}.slp`) });
  const chunks = [];
  const completed = [];
  let errors = 0;
  writer.on('file-complete', (f) => completed.push(f));
  conn.on('data', (d) => {
    const b = Buffer.from(d);
    if (!b.equals(HELO)) chunks.push(b);
    writer.write(b);
  });
  let simDone = false;
  conn.on('error', (e) => {
    if (simDone) return; // reconnect attempts after the simulator exited
    errors++;
    console.error(`slippi-js error: ${e && e.message}`);
  });
  let nick = null;
  conn.on('handshake', (h) => (nick = h.consoleNick));
  conn.connect('127.0.0.1', port, true);
  const code = await Promise.race([sim.exited, timeout(60000, 'console-sim with slippi-js')]);
  simDone = true;
  // the simulator is done once everything is handed to the kernel; give slippi-js the time to read it
  for (let i = 0; i < 100 && completed.length < REPLAYS.length; i++) await new Promise((r) => setTimeout(r, 50));
  conn.disconnect();
  if (code !== 0) fail(`console-sim exited with ${code}`);
  if (errors) fail(`slippi-js reported ${errors} errors`);
  if (nick !== 'andross-sim') fail(`handshake nick ${nick}`);
  const stream = Buffer.concat(chunks);
  const want = Buffer.concat(REPLAYS.map((r) => events(path.join(replayDir, r))));
  if (!stream.equals(want))
    fail(`slippi-js data: ${stream.length} bytes, replays ${want.length}; first difference at ${firstDiff(stream, want)}`);
  if (completed.length !== REPLAYS.length) fail(`slippi-js completed ${completed.length} files (${stream.length} bytes)`);
  completed.forEach((f, i) => {
    const got = events(f);
    const exp = events(path.join(replayDir, REPLAYS[i]));
    if (!got.equals(exp)) fail(`${f}: differs from ${REPLAYS[i]} at byte ${firstDiff(got, exp)}`);
  });
  console.log(`slippi-js: ${completed.length} games, ${stream.length} event bytes, byte-exact`);
  return stream;
}

async function withAndross() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'andross-rec-console-'));
  const sim = startSim('max');
  const port = await sim.port;
  const rec = spawn(
    tool,
    ['record', '--source', `console://127.0.0.1:${port}`, '--out', dir, '--games', String(REPLAYS.length)],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  rec.stderr.on('data', (d) => (log += d.toString()));
  const code = await Promise.race([new Promise((r) => rec.on('exit', r)), timeout(60000, 'andross record')]);
  await sim.exited;
  if (code !== 0) fail(`andross record exited with ${code}: ${log}`);
  const files = [...log.matchAll(/^wrote (.+)$/gm)].map((m) => m[1]);
  return Buffer.concat(files.map(events));
}

try {
  const sjs = await withSlippiJs();
  const ours = await withAndross();
  if (!ours.equals(sjs))
    fail(`andross delivered ${ours.length} event bytes, slippi-js ${sjs.length}; first difference at ${firstDiff(ours, sjs)}`);
  console.log('andross record delivered the same event bytes as slippi-js');
  process.exit(0);
} catch (e) {
  fail(e.stack || String(e));
}
