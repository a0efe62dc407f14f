// SPDX-License-Identifier: GPL-2.0-or-later
// The same work as bench_parse.c, done by slippi-js 9.1.2: every replay is read into memory first, then passes of
// new SlippiGame(buffer) + getSettings() + getFrames() + getGameEnd() repeat until at least --seconds have gone by.
// MB/s counts replay file bytes (1 MB = 10^6 bytes); events/s counts the events the andross splitter yields for the
// same files (stream events, plus one per reassembled Message Splitter message), so the two rates compare.
//
//   node slippi_js_parse.mjs [--seconds S] FILE.slp...
// slippi-js is loaded from tests/node/node_modules (run `npm ci` there), or from SLIPPI_JS_PACKAGE_DIR.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const packageDir = process.env.SLIPPI_JS_PACKAGE_DIR || path.resolve(here, '../../tests/node');
const require = createRequire(path.join(packageDir, 'package.json'));
const { SlippiGame } = require('@slippi/slippi-js/node');
const slippiVersion = require('@slippi/slippi-js/package.json').version;

let args = process.argv.slice(2);
let minSeconds = 2;
if (args[0] === '--seconds') {
  minSeconds = Number(args[1]);
  args = args.slice(2);
}
if (args.length === 0) {
  console.error('usage: node slippi_js_parse.mjs [--seconds S] FILE.slp...');
  process.exit(2);
}

// Splitter events in a file: whole events from the 0x35 size table, plus one per completed 0x10 message.
function splitterEvents(buf) {
  const rawLength = buf.readUInt32BE(11);
  const end = rawLength && 15 + rawLength <= buf.length ? 15 + rawLength : buf.length;
  const sizes = new Map();
  let pos = 15;
  let events = 0;
  if (buf[pos] !== 0x35) return 0;
  const n = buf[pos + 1];
  sizes.set(0x35, n);
  for (let p = pos + 2; p + 3 <= pos + 1 + n; p += 3) sizes.set(buf[p], buf.readUInt16BE(p + 1));
  while (pos < end) {
    const size = sizes.get(buf[pos]);
    if (size === undefined || pos + 1 + size > end) break;
    events++;
    if (buf[pos] === 0x10 && buf[pos + 0x204] === 1) events++;
    pos += 1 + size;
  }
  return events;
}

const files = args.map((f) => fs.readFileSync(f));
const bytesPerPass = files.reduce((n, b) => n + b.length, 0);
const eventsPerPass = files.reduce((n, b) => n + splitterEvents(b), 0);

// Sums a few results so the work cannot be skipped, and checks every pass gives the same answer.
function pass() {
  let sum = 0;
  for (const buf of files) {
    const game = new SlippiGame(buf);
    const settings = game.getSettings();
    const frames = game.getFrames();
    const end = game.getGameEnd();
    sum += (settings ? settings.stageId : 0) + Object.keys(frames).length + (end ? end.gameEndMethod : 0);
  }
  return sum;
}

const check = pass(); // warm-up, as the C benchmark does
let passes = 0;
const start = process.hrtime.bigint();
let elapsed = 0;
do {
  if (pass() !== check) throw new Error('slippi-js gave a different answer on a later pass');
  passes++;
  elapsed = Number(process.hrtime.bigint() - start) / 1e9;
} while (elapsed < minSeconds);

const mbPerS = (bytesPerPass * passes) / 1e6 / elapsed;
const eventsPerS = (eventsPerPass * passes) / elapsed;
console.log(`slippi-js ${slippiVersion} (node ${process.version}): ${files.length} files, ${bytesPerPass} bytes, ` +
  `${eventsPerPass} splitter events per pass (check sum ${check})`);
console.log(`slippi-js: ${passes} passes in ${elapsed.toFixed(3)} s: ${mbPerS.toFixed(1)} MB/s, ` +
  `${eventsPerS.toFixed(0)} events/s`);
console.log(`RESULT slippi-js mb_per_s=${mbPerS.toFixed(3)} events_per_s=${eventsPerS.toFixed(0)} ` +
  `events_per_pass=${eventsPerPass} bytes_per_pass=${bytesPerPass}`);
