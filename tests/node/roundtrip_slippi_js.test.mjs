// SPDX-License-Identifier: GPL-2.0-or-later
// `andross record` writes back what it was fed: the event bytes are identical to the source's, slippi-js 9.1.2
// reads the written file as it reads the source, and the container is finalised (raw length and metadata).
// The game events printed with `--events -` are checked against the oracle too.
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';

import { Mismatches } from './lib/diff.mjs';
import { describeRun, makeTempDir, parseJsonLines, replays, requireTool, run } from './lib/env.mjs';
import { slippiSummary } from './lib/oracle.mjs';
import { completeEventBytes, firstDifference, hexAround, readContainer } from './lib/slp.mjs';

const GAME_FILE_NAME = /^Game_\d{8}T\d{6}(_\d+)?\.slp$/;
const SOURCES = replays().filter((r) => r.name !== 'corrupt.slp');

// One `andross record` run per replay, shared by the tests below.
const recordings = new Map();
function record(rep) {
  if (!recordings.has(rep.name)) {
    recordings.set(
      rep.name,
      (async () => {
        const tool = requireTool();
        const dir = makeTempDir('roundtrip');
        const args = ['record', '--source', rep.path, '--out', dir, '--events', '-'];
        const r = await run(tool, args, { timeoutMs: 90000 });
        const wrote = r.stderr
          .split('\n')
          .map((l) => /^wrote (.+)$/.exec(l.trim()))
          .filter(Boolean)
          .map((x) => x[1]);
        return { dir, args, r, wrote, files: fs.readdirSync(dir).filter((f) => f.endsWith('.slp')) };
      })(),
    );
  }
  return recordings.get(rep.name);
}

let keepRecordings = false;
test.after(async () => {
  // Keep the output of failing runs for a look; remove it otherwise.
  for (const p of recordings.values()) {
    const x = await p;
    if (keepRecordings) console.log(`recording kept in ${x.dir}`);
    else fs.rmSync(x.dir, { recursive: true, force: true });
  }
});

function checkWrittenFile(m, rep, rec) {
  const { dir, wrote, files, r } = rec;
  const w = rep.name;
  m.check(w, 'record exit code', 0, r.code);
  m.check(w, 'number of "wrote PATH" lines on stderr', 1, wrote.length);
  m.check(w, 'number of .slp files in --out', 1, files.length);
  if (files.length !== 1) return;
  const written = path.join(dir, files[0]);
  if (!GAME_FILE_NAME.test(files[0])) m.fail(w, 'file name', `${files[0]} is not Game_YYYYMMDDTHHMMSS.slp`);
  if (wrote.length === 1 && path.resolve(wrote[0]) !== path.resolve(written)) {
    m.fail(w, '"wrote PATH"', `says ${wrote[0]} but the file is ${written}`);
  }

  // (1) the event bytes, byte for byte
  const src = completeEventBytes(fs.readFileSync(rep.path));
  const out = fs.readFileSync(written);
  let oc;
  try {
    oc = readContainer(out);
  } catch (e) {
    m.fail(w, 'written container', e.message);
    return;
  }
  if (oc.rawLength === 0) m.fail(w, 'written raw length', 'still 0 (not patched)');
  m.check(w, 'written raw length', src.bytes.length, oc.rawLength);
  const d = firstDifference(src.bytes, oc.events);
  if (d !== -1) {
    m.fail(w, 'event bytes', `first difference at stream byte ${d}: source ${hexAround(src.bytes, d)} vs written ` +
      `${hexAround(oc.events, d)}`);
  }

  // (2) slippi-js reads both the same way
  let a;
  let b;
  try {
    a = slippiSummary(rep.path);
    b = slippiSummary(written);
  } catch (e) {
    m.fail(w, 'slippi-js', `throws on the written file: ${e.stack}`);
    return;
  }
  const sa = a.game.getSettings();
  const sb = b.game.getSettings();
  if (!sb) {
    m.fail(w, 'getSettings()', 'null on the written file');
    return;
  }
  m.check(w, 'getSettings().stageId', sa.stageId, sb.stageId);
  const pick = (s) => s.players.map((p) => ({
    playerIndex: p.playerIndex, characterId: p.characterId, displayName: p.displayName, connectCode: p.connectCode,
  }));
  m.check(w, 'getSettings().players', pick(sa), pick(sb));
  m.check(w, 'frame count (Object.keys(getFrames()).length)', a.frames.count, b.frames.count);
  m.check(w, 'getGameEnd()', a.game.getGameEnd() ?? null, b.game.getGameEnd() ?? null);

  const meta = b.game.getMetadata();
  if (!meta) {
    m.fail(w, 'getMetadata()', 'missing on the written file');
    return;
  }
  if (typeof meta.lastFrame !== 'number') m.fail(w, 'metadata.lastFrame', `not a number: ${meta.lastFrame}`);
  else m.check(w, 'metadata.lastFrame (= last frame in the stream)', rep.expected.frames.lastInStream, meta.lastFrame);
  if (typeof meta.startAt !== 'string' || Number.isNaN(Date.parse(meta.startAt))) {
    m.fail(w, 'metadata.startAt', `not an ISO date: ${JSON.stringify(meta.startAt)}`);
  }
  if (typeof meta.playedOn !== 'string' || meta.playedOn === '') {
    m.fail(w, 'metadata.playedOn', `not a string: ${JSON.stringify(meta.playedOn)}`);
  }
  const srcMeta = a.game.getMetadata();
  if (srcMeta && srcMeta.players) {
    m.check(w, 'metadata.players keys', Object.keys(srcMeta.players).sort(), Object.keys(meta.players ?? {}).sort());
    for (const [idx, sp] of Object.entries(srcMeta.players)) {
      const wp = meta.players?.[idx];
      if (!wp || !sp.characters) continue;
      // Dolphin also counts Nana (internal 11); slippi-js's writer, like andross, counts leaders only.
      const leaders = (c) => Object.keys(c ?? {}).filter((k) => k !== '11').sort();
      m.check(w, `metadata.players.${idx}.characters keys (leaders)`, leaders(sp.characters), leaders(wp.characters));
    }
  }
}

function checkEvents(m, rep, rec) {
  const w = rep.name;
  const exp = rep.expected;
  let events;
  try {
    events = parseJsonLines(rec.r.stdout, 'record --events - stdout');
  } catch (e) {
    m.fail(w, 'events', e.message);
    return;
  }
  // Other types (e.g. connection status) may come and go around the game; the game's own events are ordered.
  const GAME_TYPES = new Set(['game_start', 'frame', 'stock_lost', 'game_end']);
  const game = events.filter((e) => GAME_TYPES.has(e.type));
  const byType = (t) => events.filter((e) => e.type === t);
  m.check(w, 'first game event type', 'game_start', game[0]?.type);
  m.check(w, 'last game event type', 'game_end', game[game.length - 1]?.type);
  m.check(w, 'number of game_start', 1, byType('game_start').length);
  m.check(w, 'number of game_end', 1, byType('game_end').length);

  const frames = new Set(byType('frame').map((e) => e.frame));
  m.check(w, 'distinct frame numbers in frame events', exp.frames.distinct, frames.size);
  if (frames.size) {
    m.check(w, 'lowest frame event', exp.frames.first, Math.min(...frames));
    m.check(w, 'highest frame event', exp.frames.lastInStream, Math.max(...frames));
  }

  // A stock is lost each time the count goes down, so the losses per player are start - final.
  for (const p of exp.players) {
    const final = exp.finalPlayerState[String(p.playerIndex)];
    if (!final) continue;
    const lost = byType('stock_lost').filter((e) => e.playerIndex === p.playerIndex);
    m.check(w, `stock_lost count for playerIndex ${p.playerIndex}`, p.startStocks - final.stocksRemaining, lost.length);
    const wantRemaining = lost.map((_, i) => p.startStocks - 1 - i);
    m.check(w, `stock_lost stocksRemaining sequence for playerIndex ${p.playerIndex}`, wantRemaining,
      lost.map((e) => e.stocksRemaining));
    for (const e of lost) {
      if (e.port !== p.playerIndex + 1) m.fail(w, 'stock_lost.port', `${e.port} for playerIndex ${p.playerIndex}`);
      if (typeof e.frame !== 'number' || typeof e.percent !== 'number') {
        m.fail(w, 'stock_lost', `frame/percent not numbers: ${JSON.stringify(e)}`);
      }
    }
  }

  const end = byType('game_end')[0];
  if (end) {
    m.check(w, 'game_end.complete', exp.gameEnd !== null, end.complete);
    m.check(w, 'game_end.gameEndMethod', exp.gameEnd?.gameEndMethod ?? null, end.gameEndMethod ?? null);
    m.check(w, 'game_end.lrasInitiatorIndex', exp.gameEnd?.lrasInitiatorIndex ?? null, end.lrasInitiatorIndex ?? null);
    m.check(w, 'game_end.winners (vs winnersExpected)', exp.winnersExpected, end.winners.map((x) => x.playerIndex));
  }
}

test('record writes the same event bytes, and slippi-js reads the written file as the source', async () => {
  const m = new Mismatches();
  for (const rep of SOURCES) {
    const rec = await record(rep);
    const before = m.list.length;
    checkWrittenFile(m, rep, rec);
    if (m.list.length > before) console.log(`--- ${rep.name}\n${describeRun(requireTool(), rec.args, rec.r)}`);
  }
  if (!m.empty) keepRecordings = true;
  m.assertEmpty('andross record round trip');
});

test('record --events - prints game events that agree with the oracle', async () => {
  const m = new Mismatches();
  for (const rep of SOURCES) checkEvents(m, rep, await record(rep));
  if (!m.empty) keepRecordings = true;
  m.assertEmpty('andross record --events');
});

test('record never overwrites: a taken name gets a _2 suffix', async () => {
  const tool = requireTool();
  const rep = SOURCES.find((r) => r.name === 'v3.13.slp');
  const dir = makeTempDir('suffix');
  // Occupy the names for the next few seconds of local time, so the recording's name is taken whenever it starts.
  const pad = (n) => String(n).padStart(2, '0');
  const taken = new Map();
  const t0 = Date.now();
  for (let s = -1; s <= 6; s++) {
    const d = new Date(t0 + s * 1000);
    const name = `Game_${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}T` +
      `${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}.slp`;
    const body = Buffer.from(`placeholder ${name}\n`);
    fs.writeFileSync(path.join(dir, name), body);
    taken.set(name, body);
  }
  const args = ['record', '--source', rep.path, '--out', dir];
  const r = await run(tool, args);
  const m = new Mismatches();
  m.check('v3.13.slp', 'record exit code', 0, r.code);
  for (const [name, body] of taken) {
    if (!fs.readFileSync(path.join(dir, name)).equals(body)) m.fail(name, 'content', 'overwritten');
  }
  const created = fs.readdirSync(dir).filter((f) => !taken.has(f));
  m.check('v3.13.slp', 'new files', 1, created.length);
  if (created.length === 1 && !/^Game_\d{8}T\d{6}_2\.slp$/.test(created[0])) {
    m.fail('v3.13.slp', 'new file name', `${created[0]} (expected Game_<taken time>_2.slp)`);
  }
  if (!m.empty) console.log(describeRun(tool, args, r));
  else fs.rmSync(dir, { recursive: true, force: true });
  m.assertEmpty('andross record file naming');
});

test('record --speed N paces at 60*N frames per second; max does not pace', async () => {
  const tool = requireTool();
  const rep = SOURCES.find((r) => r.name === 'v3.13.slp');
  const frames = rep.expected.frames.distinct; // 148 frames: 0.62 s at --speed 4
  const m = new Mismatches();
  for (const speed of ['4', 'max']) {
    const dir = makeTempDir('speed');
    const args = ['record', '--source', rep.path, '--out', dir, '--speed', speed];
    const t0 = process.hrtime.bigint();
    const r = await run(tool, args);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    m.check(`--speed ${speed}`, 'exit code', 0, r.code);
    if (speed === '4') {
      const want = frames / 60 / 4;
      if (seconds < want * 0.9 || seconds > want + 2) {
        m.fail(`--speed ${speed}`, 'duration', `${seconds.toFixed(2)} s for ${frames} frames, expected about ${want.toFixed(2)} s`);
      }
    } else if (seconds > 1.5) {
      m.fail(`--speed ${speed}`, 'duration', `${seconds.toFixed(2)} s: max should not pace`);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  m.assertEmpty('andross record pacing');
});

test('record --frames N keeps every Nth frame event and drops none of the other events', async () => {
  const tool = requireTool();
  const rep = SOURCES.find((r) => r.name === 'v3.14.0.slp');
  const m = new Mismatches();
  const counts = {};
  for (const frames of ['all', 'none', '6']) {
    const dir = makeTempDir('frames');
    const args = ['record', '--source', rep.path, '--out', dir, '--events', '-', '--frames', frames];
    const r = await run(tool, args);
    m.check(`--frames ${frames}`, 'exit code', 0, r.code);
    const events = parseJsonLines(r.stdout);
    const byType = (t) => events.filter((e) => e.type === t);
    counts[frames] = { frame: byType('frame').length, other: events.length - byType('frame').length };
    if (frames === '6') {
      const kept = byType('frame').map((e) => e.frame);
      const all = counts.all ? counts.all.frameNumbers : [];
      m.check('--frames 6', 'frames kept', all.filter((_, i) => i % 6 === 0).join(','), kept.join(','));
    }
    if (frames === 'all') counts.all.frameNumbers = byType('frame').map((e) => e.frame);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  m.check('--frames all', 'frame events', rep.expected.frames.frameStartEventsTotal, counts.all.frame);
  m.check('--frames none', 'frame events', 0, counts.none.frame);
  m.check('--frames none', 'other events', counts.all.other, counts.none.other);
  m.check('--frames 6', 'other events', counts.all.other, counts['6'].other);
  m.assertEmpty('andross record --frames');
});
