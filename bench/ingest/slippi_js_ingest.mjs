// SPDX-License-Identifier: GPL-2.0-or-later
// The ingest benchmark with slippi-js 9.1.2's ConsoleConnection as the client: starts `bench_ingest --serve-only`
// (the same Nintendont-like server, one REPLAY write per frame at 60 fps, each stamped in CLOCK_MONOTONIC µs),
// connects, stamps every `data` event with process.hrtime.bigint() (CLOCK_MONOTONIC on Linux, so both clocks
// compare), and matches frames by cumulative byte offset once the server has written its stamps.
//
//   node slippi_js_ingest.mjs BENCH_INGEST --replay FILE.slp [--frames N] [--no-realtime]
// slippi-js is loaded from tests/node/node_modules (run `npm ci` there), or from SLIPPI_JS_PACKAGE_DIR.
// --no-realtime connects as the Launcher does by default (isRealtime false: the console leaves Nagle on).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const packageDir = process.env.SLIPPI_JS_PACKAGE_DIR || path.resolve(here, '../../tests/node');
const require = createRequire(path.join(packageDir, 'package.json'));
const { ConsoleConnection, ConnectionEvent } = require('@slippi/slippi-js/node');
const slippiVersion = require('@slippi/slippi-js/package.json').version;

const args = process.argv.slice(2);
const bench = args.shift();
const realtime = !args.includes('--no-realtime');
const serverArgs = args.filter((a) => a !== '--no-realtime');
if (!bench || !serverArgs.includes('--replay')) {
  console.error('usage: node slippi_js_ingest.mjs BENCH_INGEST --replay FILE.slp [--frames N] [--no-realtime]');
  process.exit(2);
}

const nowUs = () => process.hrtime.bigint() / 1000n;
const HELO = Buffer.from('HELO\0', 'latin1');

const stampsPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ingest-')), 'stamps.txt');
const server = spawn(bench, ['--serve-only', '--stamps', stampsPath, ...serverArgs], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const serverExit = new Promise((resolve) => server.on('exit', (code) => resolve(code)));

let totalBytes = 0;
let nFrames = 0;
let port = 0;
const lines = readline.createInterface({ input: server.stdout });
for await (const line of lines) {
  const m = /^frames (\d+) bytes (\d+)$/.exec(line);
  if (m) [nFrames, totalBytes] = [Number(m[1]), Number(m[2])];
  const l = /^listening on .*:(\d+)$/.exec(line);
  if (l) {
    port = Number(l[1]);
    break;
  }
}
if (!port) {
  console.error('slippi_js_ingest: the server did not start');
  process.exit(1);
}

// arrivals[k] = [cumulative bytes after the k-th data event, its time in µs]
const arrivals = [];
let received = 0;
const conn = new ConsoleConnection({ autoReconnect: false });
const done = new Promise((resolve) => {
  conn.on(ConnectionEvent.DATA, (data) => {
    const t = nowUs();
    if (data.length === HELO.length && data.equals(HELO)) return; // a keepalive turned into a filler chunk
    received += data.length;
    arrivals.push([received, t]);
    if (received >= totalBytes) resolve();
  });
  conn.on(ConnectionEvent.ERROR, (err) => console.error(`slippi_js_ingest: ${err}`));
  conn.on(ConnectionEvent.STATUS_CHANGE, (status) => {
    if (status === 0 && received < totalBytes) resolve(); // ConnectionStatus.DISCONNECTED
  });
});
await conn.connect('127.0.0.1', port, realtime);
const timeout = setTimeout(() => {
  console.error('slippi_js_ingest: timed out');
  server.kill('SIGTERM');
}, (nFrames * 1000) / 60 + 30000);
await done;
conn.disconnect();
await serverExit;
clearTimeout(timeout);

const frames = fs
  .readFileSync(stampsPath, 'utf8')
  .trim()
  .split('\n')
  .map((l) => l.split(' ').map(Number));
fs.rmSync(path.dirname(stampsPath), { recursive: true, force: true });
const lat = [];
let k = 0;
for (const [, end, writeUs] of frames) {
  while (k < arrivals.length && arrivals[k][0] < end) k++;
  if (k === arrivals.length) break;
  if (writeUs) lat.push(Math.max(0, Number(arrivals[k][1] - BigInt(writeUs))));
}
const replay = serverArgs[serverArgs.indexOf('--replay') + 1];
console.log(`command: node ${path.relative(process.cwd(), fileURLToPath(import.meta.url))} ${process.argv.slice(2).join(' ')}`);
console.log(
  `slippi-js ${slippiVersion} ConsoleConnection (isRealtime ${realtime}) <- bench_ingest --serve-only, loopback`,
);
console.log(`replay ${replay}: ${frames.length} frames, ${totalBytes} event bytes, 60 fps`);
if (!lat.length) {
  console.log('no frame arrived');
  process.exit(0);
}
lat.sort((a, b) => a - b);
const pct = (q) => lat[Math.max(0, Math.ceil(q * lat.length) - 1)];
const [p50, p99, max] = [pct(0.5), pct(0.99), lat[lat.length - 1]];
console.log(
  `write -> 'data' event: ${lat.length} of ${frames.length} frames, p50 ${p50} us, p99 ${p99} us, max ${max} us`,
);
console.log(`RESULT slippi-js frames=${lat.length} p50_us=${p50} p99_us=${p99} max_us=${max}`);
