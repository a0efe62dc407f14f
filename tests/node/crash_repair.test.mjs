// SPDX-License-Identifier: GPL-2.0-or-later
// Crash safety: `andross record` is killed with SIGKILL at a random moment, then `andross repair` must turn what
// was left on disk into a file slippi-js reads, keeping every complete event and nothing past the last one.
// The random seed is printed; set ANDROSS_CRASH_SEED (and ANDROSS_CRASH_TRIALS) to replay a run.
// Then damaged files (a wrong raw length, events inspect rejects, garbage), a file `andross record` is still
// writing, and a FIFO: slippi-js must read every file repair writes, and repair refuses what it cannot mend.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';

import { Mismatches } from './lib/diff.mjs';
import { describeRun, makeTempDir, replays, requireTool, run } from './lib/env.mjs';
import { slippiSummary } from './lib/oracle.mjs';
import { completeEventBytes, firstDifference, readContainer, walkEvents } from './lib/slp.mjs';

const SEED = Number(process.env.ANDROSS_CRASH_SEED ?? 0x5eed1234) >>> 0;
const TRIALS = Number(process.env.ANDROSS_CRASH_TRIALS ?? 16);
const SPEED = 40;
const MAX_DELAY_MS = 2500; // keeps the whole test well under a minute
const NAMES = ['v3.14.0.slp', 'ics2.slp', 'realtimeTest.slp', 'sheik_vs_ics_yoshis.slp'];

// mulberry32: small, seedable, good enough to spread kill times.
function rng(seed) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// What slippi-js makes of the first `length` stream bytes of a source when they are wrapped as a finished file.
// It is the reference for a repaired file: slippi-js 9.1.2 itself withholds getSettings() of a pre-1.6.0 replay
// until the first frame's post-frame events are in (its Zelda/Sheik fix), so a short prefix may have no settings.
function slippiOnPrefix(events, length) {
  const header = Buffer.from([0x7b, 0x55, 0x03, 0x72, 0x61, 0x77, 0x5b, 0x24, 0x55, 0x23, 0x6c, 0, 0, 0, 0]);
  header.writeUInt32BE(length, 11);
  const footer = Buffer.from('U\x08metadata{}}', 'latin1');
  return slippiSummary(Buffer.concat([header, events.subarray(0, length), footer]));
}

// The slippi-js checks shared by both tests: the repaired file reads like the same prefix of the source.
function checkRepairedWithSlippi(m, where, file, sourceEvents, rawLength) {
  let sum;
  try {
    sum = slippiSummary(file);
  } catch (e) {
    m.fail(where, 'slippi-js', `throws on the repaired file: ${e.message}`);
    return;
  }
  const ref = slippiOnPrefix(sourceEvents, rawLength);
  const settings = sum.game.getSettings();
  const refSettings = ref.game.getSettings();
  if (!settings && refSettings) m.fail(where, 'getSettings()', 'null on the repaired file');
  if (settings && refSettings) {
    m.check(where, 'getSettings().stageId', refSettings.stageId, settings.stageId);
    m.check(where, 'getSettings().players characterIds', refSettings.players.map((p) => p.characterId),
      settings.players.map((p) => p.characterId));
  }
  m.check(where, 'frame count (same as slippi-js on the same source prefix)', ref.frames.count, sum.frames.count);
  const meta = sum.game.getMetadata();
  if (!meta) m.fail(where, 'getMetadata()', 'missing after repair');
  else if (typeof meta.lastFrame !== 'number') m.fail(where, 'metadata.lastFrame', `${meta.lastFrame}`);
  return { settings: !!settings, refSettings: !!refSettings, frames: sum.frames.count };
}

// Starts a recording and SIGKILLs it after delayMs. Resolves {finished} when it exited on its own first.
function recordAndKill(tool, source, dir, delayMs) {
  return new Promise((resolve, reject) => {
    const args = ['record', '--source', source, '--out', dir, '--speed', String(SPEED)];
    const child = spawn(tool, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    const timer = setTimeout(() => {
      killed = child.kill('SIGKILL');
    }, delayMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ args, code, signal, killed: killed && signal === 'SIGKILL', stderr });
    });
  });
}

test(`SIGKILL during record, then repair keeps every complete event (seed ${SEED}, ${TRIALS} trials)`, async () => {
  const tool = requireTool();
  console.log(`crash_repair: seed ${SEED} (set ANDROSS_CRASH_SEED=${SEED} to repeat), ${TRIALS} trials`);
  const random = rng(SEED);
  const sources = NAMES.map((n) => replays().find((r) => r.name === n)).map((rep) => {
    const src = completeEventBytes(fs.readFileSync(rep.path));
    const boundaries = walkEvents(src.bytes, { boundaries: true }).boundaries;
    const durationMs = ((rep.expected.frames.frameStartEventsTotal ?? rep.expected.frames.distinct) / 60 / SPEED) * 1000;
    return { rep, src, boundaries, durationMs };
  });
  const keep = makeTempDir('crash-failures');
  const m = new Mismatches();
  const tally = { killedMidGame: 0, endedInsideEvent: 0, noGameStart: 0, noFileYet: 0, headerOnly: 0,
    finishedFirst: 0, repaired: 0, settingsWithheldBySlippiJs: 0 };

  for (let trial = 0; trial < TRIALS; trial++) {
    const s = sources[trial % sources.length];
    // One trial in four kills early (within 60 ms, half of those within 15 ms: around Game Start); the rest
    // anywhere in the first MAX_DELAY_MS of the game.
    const span = trial % 8 === 7 ? 15 : trial % 4 === 3 ? 60 : Math.min(s.durationMs, MAX_DELAY_MS);
    const delayMs = Math.floor(random() * span);
    const where = `trial ${trial} (${s.rep.name}, kill after ${delayMs} ms)`;
    const dir = makeTempDir('crash');
    const before = m.list.length;
    try {
      const k = await recordAndKill(tool, s.rep.path, dir, delayMs);
      const files = fs.readdirSync(dir).filter((f) => f.endsWith('.slp'));
      if (!k.killed) {
        tally.finishedFirst++;
        m.check(where, 'exit code of a recording that finished before the kill', 0, k.code);
        continue;
      }
      if (files.length === 0) {
        tally.noFileYet++;
        continue;
      }
      m.check(where, 'number of .slp files left behind', 1, files.length);
      const file = path.join(dir, files[0]);
      const killedBuf = fs.readFileSync(file);
      fs.writeFileSync(path.join(dir, 'killed-before-repair.bin'), killedBuf); // kept if the trial fails

      // What the killed file holds: a prefix of the source's stream, possibly ending inside an event.
      if (killedBuf.length < 15) {
        tally.headerOnly++;
        const r = await run(tool, ['repair', file]);
        if (r.signal) m.fail(where, 'repair of a file shorter than the header', `died with ${r.signal}`);
        continue;
      }
      const kc = readContainer(killedBuf);
      if (kc.rawLength !== 0) {
        // The recording finished the file just before the kill landed; nothing to repair.
        tally.finishedFirst++;
        continue;
      }
      tally.killedMidGame++;
      const kd = firstDifference(s.src.bytes.subarray(0, kc.events.length), kc.events);
      if (kd !== -1) m.fail(where, 'killed file', `its bytes differ from the source at stream byte ${kd}`);
      const kw = walkEvents(kc.events);
      const heldEvents = kw.counts;
      if (kw.completeBytes < kc.events.length) tally.endedInsideEvent++;
      if (kw.count < 2) tally.noGameStart++;

      const args = ['repair', file];
      const r = await run(tool, args, { timeoutMs: 30000 });
      if (kw.count < 2) {
        // No complete Game Start: a repair may refuse, but must not crash.
        if (r.signal) m.fail(where, 'repair', `died with ${r.signal}`);
        continue;
      }
      if (r.code !== 0) {
        m.fail(where, 'repair exit code', `${r.code}\n${describeRun(tool, args, r)}`);
        continue;
      }
      tally.repaired++;
      const repaired = fs.readFileSync(file);
      const rc = readContainer(repaired);
      console.log(`${where}: killed file held ${kc.events.length} stream bytes (${kw.count} complete events, ` +
        `${kw.completeBytes} bytes); repaired raw length ${rc.rawLength}`);
      m.check(where, 'repaired raw length (= complete-event bytes of the killed file)', kw.completeBytes, rc.rawLength);
      if (!s.boundaries.has(rc.rawLength)) {
        m.fail(where, 'repaired raw length', `${rc.rawLength} is not on an event boundary of the source`);
      }
      const rd = firstDifference(s.src.bytes.subarray(0, rc.events.length), rc.events);
      if (rd !== -1) m.fail(where, 'repaired events', `differ from the source at stream byte ${rd}`);

      const seen = checkRepairedWithSlippi(m, where, file, s.src.bytes, rc.rawLength);
      if (seen && !seen.refSettings) tally.settingsWithheldBySlippiJs++;
      if (heldEvents['0x38'] && seen && seen.frames === 0) m.fail(where, 'getFrames()', 'no frames');
    } finally {
      if (m.list.length > before) {
        const saved = path.join(keep, `trial${trial}`);
        fs.cpSync(dir, saved, { recursive: true });
        console.log(`${where}: files kept in ${saved}`);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }
    await sleep(10);
  }
  console.log(`crash_repair: ${JSON.stringify(tally)}`);
  if (m.empty) fs.rmSync(keep, { recursive: true, force: true });
  m.assertEmpty(`crash + repair (seed ${SEED})`);
  if (tally.repaired === 0) throw new Error(`no trial produced a file to repair (${JSON.stringify(tally)})`);
});

// The same repair contract, deterministically: a finished replay cut at chosen byte offsets (inside the Event
// Payloads table, inside Game Start, inside a Message Splitter chunk, mid-game inside an event, on a boundary) and
// corrupt.slp itself, which stops 289 bytes into a 517-byte Message Splitter event.
test('repair keeps exactly the complete events of files cut at chosen offsets', async () => {
  const tool = requireTool();
  const m = new Mismatches();
  const dir = makeTempDir('cut');
  const cases = [];
  const v314 = replays().find((r) => r.name === 'v3.14.0.slp');
  const src = completeEventBytes(fs.readFileSync(v314.path));
  const w = walkEvents(src.bytes, { boundaries: true });
  const sorted = [...w.boundaries].sort((a, b) => a - b);
  const boundaryAfter = (n) => sorted.find((b) => b >= n);
  const splitterStart = sorted[2]; // 0x35, 0x36, then the first 0x10 chunk
  for (const cut of [5, boundaryAfter(40) + 100, splitterStart + 300, Math.floor(src.bytes.length / 2) + 7,
    boundaryAfter(Math.floor(src.bytes.length * 0.9)), src.bytes.length - 1]) {
    const header = Buffer.from(fs.readFileSync(v314.path).subarray(0, 15));
    header.writeUInt32BE(0, 11);
    cases.push({ name: `v3.14.0.slp cut at stream byte ${cut}`, buf: Buffer.concat([header, src.bytes.subarray(0, cut)]),
      source: src.bytes });
  }
  // 0.1.0: cut inside the first frame, before slippi-js has what it needs for its Zelda/Sheik fix.
  const sheik = replays().find((r) => r.name === 'sheik_vs_ics_yoshis.slp');
  const sheikBuf = fs.readFileSync(sheik.path);
  const sheikEvents = readContainer(sheikBuf).events;
  for (const cut of [600, 900]) {
    const header = Buffer.from(sheikBuf.subarray(0, 15));
    header.writeUInt32BE(0, 11);
    cases.push({ name: `sheik_vs_ics_yoshis.slp cut at stream byte ${cut}`,
      buf: Buffer.concat([header, sheikEvents.subarray(0, cut)]), source: sheikEvents });
  }
  const corrupt = replays().find((r) => r.name === 'corrupt.slp');
  const corruptBuf = fs.readFileSync(corrupt.path);
  cases.push({ name: 'corrupt.slp', buf: corruptBuf, source: readContainer(corruptBuf).events });

  try {
    for (const [i, c] of cases.entries()) {
      const file = path.join(dir, `cut${i}.slp`);
      fs.writeFileSync(file, c.buf);
      const held = walkEvents(readContainer(c.buf).events);
      const args = ['repair', file];
      const r = await run(tool, args, { timeoutMs: 30000 });
      if (held.count < 2) {
        // Not even a Game Start: refusing is fine, crashing is not.
        if (r.signal) m.fail(c.name, 'repair', `died with ${r.signal}`);
        continue;
      }
      if (r.code !== 0) {
        m.fail(c.name, 'repair exit code', `${r.code}\n${describeRun(tool, args, r)}`);
        continue;
      }
      const out = readContainer(fs.readFileSync(file));
      m.check(c.name, 'repaired raw length (= complete-event bytes)', held.completeBytes, out.rawLength);
      const d = firstDifference(c.source.subarray(0, out.events.length), out.events);
      if (d !== -1) m.fail(c.name, 'repaired events', `differ from the source at stream byte ${d}`);
      checkRepairedWithSlippi(m, c.name, file, c.source, out.rawLength);
    }
  } finally {
    if (m.empty) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`cut files kept in ${dir}`);
  }
  m.assertEmpty('andross repair of cut files');
});

// The slippi-js reading of a file: throws nothing, has settings, frames and metadata.
function slippiReads(m, where, file, wantFrames) {
  let sum;
  try {
    sum = slippiSummary(file);
  } catch (e) {
    m.fail(where, 'slippi-js', `throws: ${e.message}`);
    return null;
  }
  if (!sum.game.getSettings()) m.fail(where, 'slippi-js getSettings()', 'null');
  if (!sum.game.getMetadata()) m.fail(where, 'slippi-js getMetadata()', 'null');
  if (wantFrames !== undefined) m.check(where, 'slippi-js frame count', wantFrames, sum.frames.count);
  return sum;
}

// A wrong raw length: the events decide. Every bit flip of v3.13.slp's length (and 0, 1, 0xFFFFFFFF), and a few
// of the 4 MB v3.14.0.slp: repair restores the original bytes (all events, the file's own metadata), and
// `inspect` of the damaged file says the raw length is wrong while it reads the whole game.
test('repair of a wrong raw length keeps the whole game and its metadata; inspect names the length', async () => {
  const tool = requireTool();
  const m = new Mismatches();
  const dir = makeTempDir('rawlen');
  const tally = { repaired: 0, identical: 0 };
  try {
    for (const [name, variants] of [
      ['v3.13.slp', [...Array(32).keys(), 'zero', 'one', 'max']],
      ['v3.14.0.slp', [10, 13, 20, 27, 31, 'one']],
    ]) {
      const rep = replays().find((r) => r.name === name);
      const orig = fs.readFileSync(rep.path);
      const all = walkEvents(readContainer(orig).events).count;
      const origFrames = slippiSummary(orig).frames.count;
      const raw = orig.readUInt32BE(11);
      for (const [k, v] of variants.entries()) {
        const bad = v === 'zero' ? 0 : v === 'one' ? 1 : v === 'max' ? 0xffffffff : (raw ^ (1 << v)) >>> 0;
        const where = `${name} with raw length ${bad}`;
        const buf = Buffer.from(orig);
        buf.writeUInt32BE(bad, 11);
        const file = path.join(dir, `len${k}.slp`);
        fs.writeFileSync(file, buf);
        {
          // 0: the writer stopped between the metadata and the length patch; inspect says so too
          const ins = await run(tool, ['inspect', '--json', file], { timeoutMs: 30000 });
          const j = JSON.parse(ins.stdout);
          const said = bad === 0 ? /raw length 0 at offset 11, yet the events end/
            : /raw length \d+ at offset 11 is wrong/;
          if (!said.test(j.error ?? '')) m.fail(where, 'inspect error', j.error);
          m.check(where, 'inspect container.rawLength (as stored)', bad, j.container?.rawLength);
          m.check(where, 'inspect stream.events', all, j.stream?.events);
          if (!j.metadata) m.fail(where, 'inspect metadata', 'null');
        }
        const r = await run(tool, ['repair', file], { timeoutMs: 30000 });
        if (r.code !== 0) {
          m.fail(where, 'repair exit code', `${r.code}\n${describeRun(tool, ['repair', file], r)}`);
          continue;
        }
        tally.repaired++;
        const out = fs.readFileSync(file);
        if (out.equals(orig)) tally.identical++;
        else m.fail(where, 'repaired file', `differs from the original at byte ${firstDifference(orig, out)}`);
        m.check(where, 'events in the repaired file', all, walkEvents(readContainer(out).events).count);
        // slippi-js on the repaired files (the big ones are the original bytes again, so twice is enough)
        if (name === 'v3.13.slp' || k < 2) slippiReads(m, where, out, origFrames);
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`raw length damage: ${JSON.stringify(tally)}`);
  m.assertEmpty('repair of a wrong raw length');
});

// Events inspect rejects are never kept: repair writes the valid events before them, which slippi-js reads like
// the same prefix of the source, or refuses (exit 1, file unchanged) when that leaves no Game Start or drops a game.
test('slippi-js reads every file repair writes from damaged replays, or repair refuses', async () => {
  const tool = requireTool();
  const m = new Mismatches();
  const dir = makeTempDir('damaged');
  const rep = replays().find((r) => r.name === 'v3.14.0.slp');
  const orig = fs.readFileSync(rep.path);
  const src = completeEventBytes(orig).bytes;
  const w = walkEvents(src, { boundaries: true });
  const starts = [...w.boundaries].sort((a, b) => a - b); // starts[i]: stream offset of event i
  const header = Buffer.from(orig.subarray(0, 15));
  header.writeUInt32BE(0, 11);
  const inProgress = (events) => Buffer.concat([header, events]);
  const indexOf = (code, from) => {
    for (let i = from; i < starts.length - 1; i++) if (src[starts[i]] === code) return i;
    return -1;
  };
  const prefixEnd = starts.find((b) => b >= 300000);
  const prefixEvents = starts.indexOf(prefixEnd);
  const prefix = Buffer.from(src.subarray(0, prefixEnd + 7)); // ends inside an event
  const cases = [];
  const chunk = indexOf(0x10, 0) + 3;
  {
    const b = Buffer.from(prefix);
    b.writeUInt16BE(600, starts[chunk] + 0x201);
    cases.push({ name: 'a Message Splitter chunk claiming 600 bytes', buf: inProgress(b), keep: chunk });
  }
  for (const code of [0x37, 0x38]) {
    const at = indexOf(code, Math.floor(prefixEvents / 2));
    const b = Buffer.from(prefix);
    b[starts[at] + 5] = 7;
    cases.push({ name: `a 0x${code.toString(16)} event with player index 7`, buf: inProgress(b), keep: at });
  }
  cases.push({ name: 'zeros after the events', buf: inProgress(Buffer.concat([src.subarray(0, prefixEnd),
    Buffer.alloc(4096)])), keep: prefixEvents });
  cases.push({ name: 'a HELO filler after 100 events', buf: inProgress(Buffer.concat([src.subarray(0, starts[100]),
    Buffer.from('HELO\0', 'latin1'), src.subarray(starts[100], starts[100] + 5000)])), keep: 100 });
  cases.push({ name: 'garbage appended after the events', buf: inProgress(Buffer.concat([src.subarray(0, prefixEnd),
    Buffer.from('garbage appended here', 'latin1')])), keep: prefixEvents });
  cases.push({ name: 'two games in one file', buf: inProgress(Buffer.concat([src.subarray(0, prefixEnd),
    src.subarray(0, prefixEnd)])), keep: 0 });
  {
    const b = Buffer.from(prefix);
    for (let p = 2; p + 3 <= 1 + b[1]; p += 3) if (b[p] === 0x36) b.writeUInt16BE(4, p + 1);
    cases.push({ name: 'a Game Start declared 4 bytes long', buf: inProgress(b), keep: 0 });
  }
  for (const cut of [1, 2, 10, starts[1] - 1, starts[1], starts[1] + 1, starts[2] - 1]) {
    cases.push({ name: `cut at stream byte ${cut}, before Game Start is complete`,
      buf: inProgress(src.subarray(0, cut)), keep: 0 });
  }
  const tally = { repaired: 0, refused: 0 };
  try {
    for (const [i, c] of cases.entries()) {
      const file = path.join(dir, `damaged${i}.slp`);
      fs.writeFileSync(file, c.buf);
      const args = ['repair', file];
      const r = await run(tool, args, { timeoutMs: 30000 });
      const out = fs.readFileSync(file);
      if (c.keep === 0) {
        tally.refused++;
        m.check(c.name, 'repair exit code (refused)', 1, r.code);
        if (!/repair: .*damaged\d+\.slp: /.test(r.stderr)) m.fail(c.name, 'refusal message', r.stderr);
        if (!out.equals(c.buf)) m.fail(c.name, 'refused file', 'was changed');
        continue;
      }
      if (r.code !== 0) {
        m.fail(c.name, 'repair exit code', `${r.code}\n${describeRun(tool, args, r)}`);
        continue;
      }
      tally.repaired++;
      const rc = readContainer(out);
      m.check(c.name, 'repaired raw length', starts[c.keep], rc.rawLength);
      const kw = walkEvents(rc.events);
      m.check(c.name, 'events kept', c.keep, kw.count);
      m.check(c.name, 'repaired events end on an event', rc.rawLength, kw.completeBytes);
      if (firstDifference(src.subarray(0, rc.rawLength), rc.events) !== -1) {
        m.fail(c.name, 'repaired events', 'are not the source bytes');
      }
      checkRepairedWithSlippi(m, c.name, file, src, rc.rawLength);
      const ins = await run(tool, ['inspect', '--json', file], { timeoutMs: 30000 });
      const j = JSON.parse(ins.stdout);
      m.check(c.name, 'inspect error on the repaired file', null, j.error);
      m.check(c.name, 'inspect stream.events', c.keep, j.stream?.events);
    }
  } finally {
    if (m.empty) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`damaged files kept in ${dir}`);
  }
  console.log(`damaged files: ${JSON.stringify(tally)}`);
  m.assertEmpty('andross repair of damaged files');
});

// A recording in progress: `andross record --speed 1` is writing the file when repair runs. Repair refuses and
// leaves it alone, and every byte the recorder writes afterwards reaches the name on disk.
test('repair refuses a file that andross record is still writing; the recording stays whole', async () => {
  const tool = requireTool();
  const rep = replays().find((r) => r.name === 'v3.13.slp'); // 148 frames: about 2.5 s at --speed 1
  const src = completeEventBytes(fs.readFileSync(rep.path)).bytes;
  const dir = makeTempDir('live');
  const m = new Mismatches();
  try {
    const args = ['record', '--source', rep.path, '--out', dir, '--speed', '1'];
    const child = spawn(tool, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    // wait until the recorder has written events into its file
    let file = null;
    for (let t = 0; t < 500 && !file; t++) {
      const names = fs.readdirSync(dir).filter((f) => f.endsWith('.slp'));
      if (names.length && fs.statSync(path.join(dir, names[0])).size > 2000) file = path.join(dir, names[0]);
      else await sleep(10);
    }
    if (!file) throw new Error(`no recording appeared in ${dir}; stderr: ${stderr}`);
    const sizeBefore = fs.statSync(file).size;
    const inodeBefore = fs.statSync(file).ino;
    const r = await run(tool, ['repair', file], { timeoutMs: 30000 });
    const atRepair = fs.statSync(file);
    m.check('repair during the recording', 'exit code', 1, r.code);
    if (!/is being written by another process/.test(r.stderr)) {
      m.fail('repair during the recording', 'message', r.stderr);
    }
    m.check('repair during the recording', 'inode of the file (not replaced)', inodeBefore, atRepair.ino);
    if (atRepair.size < sizeBefore) m.fail('repair during the recording', 'file size', `shrank to ${atRepair.size}`);
    const done = await exited;
    m.check('record', 'exit code', 0, done.code);
    const out = fs.readFileSync(file);
    const c = readContainer(out);
    m.check('recorded file', 'raw length (all of the source)', src.length, c.rawLength);
    if (firstDifference(src, c.events) !== -1) m.fail('recorded file', 'events', 'differ from the source');
    slippiReads(m, 'recorded file', out);
    const again = await run(tool, ['repair', file], { timeoutMs: 30000 });
    m.check('repair after the recording', 'exit code', 0, again.code);
    if (!/already complete/.test(again.stdout)) m.fail('repair after the recording', 'output', again.stdout);
  } finally {
    if (m.empty) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`live recording kept in ${dir}`);
  }
  m.assertEmpty('repair during a recording');
});

// A FIFO is never opened for a blocking read: inspect, repair and record --source fail at once, naming it.
test('inspect, repair and record --source fail at once on a FIFO', async () => {
  const tool = requireTool();
  const dir = makeTempDir('fifo');
  const fifo = path.join(dir, 'pipe.slp');
  const mk = spawnSync('mkfifo', [fifo]);
  if (mk.status !== 0) throw new Error(`mkfifo failed: ${mk.stderr}`);
  const m = new Mismatches();
  try {
    for (const args of [['inspect', fifo], ['repair', fifo], ['record', '--source', fifo, '--out', dir]]) {
      const r = await run(tool, args, { timeoutMs: 15000 });
      const where = `andross ${args[0]}`;
      if (r.timedOut) {
        m.fail(where, 'on a FIFO', 'blocked until killed after 15 s');
        continue;
      }
      m.check(where, 'exit code', 1, r.code);
      const said = r.stdout + r.stderr; // inspect reports a file's problem in its output
      if (!said.includes(fifo) || !/FIFO/.test(said)) m.fail(where, 'message names the FIFO', said);
    }
    if (!fs.lstatSync(fifo).isFIFO()) m.fail('the FIFO', 'after the commands', 'was replaced');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  m.assertEmpty('commands on a FIFO');
});
