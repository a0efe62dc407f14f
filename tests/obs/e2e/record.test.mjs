// SPDX-License-Identifier: GPL-2.0-or-later
// In the real OBS 29: a connection to `andross console-sim` (a simulated Wii serving two real replays in real time)
// while OBS records. Each game's .slp lands beside the video, holds the source's events byte for byte, the sidecar
// <video>.andross.json lists both games with offsets that agree with when the vendor events arrived, and the vendor
// events equal what `andross record --events -` prints for the same replays.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';

import { completeEventBytes, firstDifference, hexAround, readContainer } from '../../node/lib/slp.mjs';
import {
  countColor,
  GAME_RGB,
  launchObs,
  replayPath,
  sleep,
  startConsoleSim,
  tempDir,
  toolEvents,
  waitFor,
  cleanups,
} from './lib/obs.mjs';

const REPLAYS = ['v3.13.slp', 'unranked_game1.slp']; // 2.5 s and 2.8 s of play, each with a Game End
const GAME_TYPES = new Set(['game_start', 'stock_lost', 'game_end', 'gap']);
const SYNC_MS = Number(process.env.ANDROSS_E2E_SYNC_MS || 100);

function withoutConnection(data) {
  const { connection, ...rest } = data;
  return rest;
}

test('a recording: the games beside the video, byte for byte, in a sidecar that agrees with the events', async (t) => {
  const defer = cleanups(t);
  const sim = await startConsoleSim(REPLAYS, { speed: 1, args: ['--nick', 'e2e-record'] });
  defer(() => sim.stop());
  const obs = await launchObs({ name: 'record' });
  defer(() => obs.close());
  const folder = tempDir('record-folder'); // the connection's own folder: nothing may go there while OBS records

  const started = await obs.startRecord();
  const videoPath = started.data.outputPath;
  const { id } = await obs.vendorOk('AddConnection', {
    name: 'Setup 1',
    url: `console://127.0.0.1:${sim.port}`,
    folder,
    autoConnect: true,
  });
  assert.equal(typeof id, 'number', 'AddConnection answers a numeric id');

  await obs.waitEvents('game_start', 1, 30000, id);
  await sleep(1000);
  const shot = await obs.shot('record-while-playing');
  const ends = await obs.waitEvents('game_end', REPLAYS.length, 60000, id);
  await obs.waitEvents('replay_saved', REPLAYS.length, 30000, id);
  const stopped = await obs.stopRecord();
  const video = stopped.outputPath || videoPath;
  assert.ok(fs.existsSync(video) && fs.statSync(video).size > 0, `the video ${video} exists`);

  // The sidecar: <video file name without extension>.andross.json, written when the recording stops.
  const dir = path.dirname(video);
  const base = path.basename(video, path.extname(video));
  const sidecarPath = path.join(dir, `${base}.andross.json`);
  const seen = await waitFor(() => fs.existsSync(sidecarPath), 15000);
  assert.ok(seen, `sidecar ${sidecarPath} written after StopRecord (folder holds: ${fs.readdirSync(dir).join(', ')})`);
  const sidecar = JSON.parse(fs.readFileSync(sidecarPath, 'utf8'));
  assert.ok(Array.isArray(sidecar.games), `sidecar has games[]: ${JSON.stringify(sidecar).slice(0, 500)}`);
  assert.equal(sidecar.games.length, REPLAYS.length, 'one entry per game played during the recording');

  const starts = obs.events('game_start', id);
  const saved = obs.events('replay_saved', id);
  const offsets = [];
  for (const [i, g] of sidecar.games.entries()) {
    // (1) the .slp is beside the video, named after it, and holds the source's events byte for byte
    assert.equal(typeof g.file, 'string', `games[${i}].file is a string`);
    const slp = path.resolve(dir, g.file);
    assert.equal(path.dirname(slp), dir, `games[${i}].file ${g.file} is beside the video`);
    assert.ok(!path.isAbsolute(g.file), `games[${i}].file is relative to the sidecar's folder: ${g.file}`);
    assert.ok(path.basename(slp).startsWith(base), `games[${i}].file ${g.file} is named after the video ${base}`);
    assert.ok(fs.existsSync(slp), `${slp} exists`);
    const src = completeEventBytes(fs.readFileSync(replayPath(REPLAYS[i])));
    const out = readContainer(fs.readFileSync(slp));
    assert.notEqual(out.rawLength, 0, `${g.file}: raw length patched (the file is finished)`);
    const d = firstDifference(src.bytes, out.events);
    assert.equal(
      d,
      -1,
      d === -1 ? '' : `${g.file} vs ${REPLAYS[i]}: first difference at stream byte ${d}: source ` +
        `${hexAround(src.bytes, d)}, written ${hexAround(out.events, d)} (${out.events.length} of ${src.bytes.length})`,
    );
    assert.ok(saved.some((e) => path.resolve(e.eventData.path) === slp), `a replay_saved event names ${slp}`);

    // (2) startMs/endMs: offsets from the start of the video, as seen by an obs-websocket client
    const wantStart = starts[i].t - started.t;
    const wantEnd = ends[i].t - started.t;
    offsets.push({ game: REPLAYS[i], startMs: g.startMs, arrivedStart: Math.round(wantStart), endMs: g.endMs,
      arrivedEnd: Math.round(wantEnd) });
    assert.equal(typeof g.startMs, 'number', `games[${i}].startMs is a number`);
    assert.equal(typeof g.endMs, 'number', `games[${i}].endMs is a number`);
    assert.ok(Math.abs(g.startMs - wantStart) <= SYNC_MS,
      `games[${i}].startMs ${g.startMs} vs game_start arrival ${wantStart.toFixed(1)} ms after the recording started`);
    assert.ok(Math.abs(g.endMs - wantEnd) <= SYNC_MS,
      `games[${i}].endMs ${g.endMs} vs game_end arrival ${wantEnd.toFixed(1)} ms after the recording started`);
    assert.ok(g.connection !== undefined, `games[${i}] names its connection`);
    const cid = typeof g.connection === 'object' ? g.connection.id : g.connection;
    if (typeof g.connection === 'object') assert.equal(g.connection.name, 'Setup 1');
    assert.ok(cid === id || cid === 'Setup 1', `games[${i}].connection is connection ${id}: ${JSON.stringify(g.connection)}`);
  }
  console.log(`sidecar offsets vs vendor event arrival (ms): ${JSON.stringify(offsets)}`);

  // While OBS records, nothing goes into the connection's own folder.
  assert.deepEqual(fs.readdirSync(folder).filter((f) => f.endsWith('.slp')), [], 'no .slp in the connection folder');

  // (3) the vendor events, less `connection` (the field and the event type), equal the tool's for the same replays
  const want = [];
  for (const r of REPLAYS) want.push(...(await toolEvents(r)).filter((e) => GAME_TYPES.has(e.type)));
  const got = obs
    .events(undefined, id)
    .filter((e) => GAME_TYPES.has(e.eventType))
    .map((e) => {
      assert.equal(e.eventData.type, e.eventType, 'eventType is the event object\'s type');
      assert.deepEqual(e.eventData.connection, { id, name: 'Setup 1' }, 'eventData.connection is {id, name}');
      return withoutConnection(e.eventData);
    });
  assert.deepEqual(got, want, 'vendor game events equal `andross record --events - --frames none`');
  assert.ok(obs.events('frame').length === 0, 'no frame events unless a client asks (SetFrameEvents)');

  // The picture: OBS's window with the Game scene (its colour fills most of the preview).
  const px = await countColor(shot, GAME_RGB);
  assert.ok(px.matching > 0.1 * px.total, `the Game scene is on screen (${px.matching} of ${px.total} pixels)`);

  const exit = await obs.stop();
  assert.equal(exit.signal, null, `OBS exits cleanly (${JSON.stringify(exit)}) ${obs.crashReport()}`);
  assert.equal(exit.code, 0);
});
