// SPDX-License-Identifier: GPL-2.0-or-later
// Crash safety: `andross record` is killed with SIGKILL at a random moment, then `andross repair` must turn what
// was left on disk into a file slippi-js reads, keeping every complete event and nothing past the last one.
// The random seed is printed; set ANDROSS_CRASH_SEED (and ANDROSS_CRASH_TRIALS) to replay a run.
import { spawn } from 'node:child_process';
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
