// SPDX-License-Identifier: GPL-2.0-or-later
// In the real OBS 29, while OBS records, with `andross console-sim` (a simulated Wii serving real replays in real
// time) as the console: each game's .slp lands beside the video, named after it, and holds the source's events byte
// for byte; the sidecar <video>.andross.json lists the games with startMs/endMs that agree with when the vendor
// events reached an obs-websocket client (within 100 ms, ANDROSS_E2E_SYNC_MS), and the vendor events equal what
// `andross record --events - --frames none` prints for the same replays. Twice: a connection added while OBS
// records, and one that was there (waiting for its console) before the recording started.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';

import { completeEventBytes, firstDifference, hexAround, readContainer } from '../../node/lib/slp.mjs';
import {
  countColor,
  freePort,
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
const GAME_TYPES = new Set(['game_start', 'stock_lost', 'game_end', 'gap', 'combo']);
const SYNC_MS = Number(process.env.ANDROSS_E2E_SYNC_MS || 100);

function withoutConnection(data) {
  const { connection, ...rest } = data;
  return rest;
}

// Checks a finished recording: the sidecar, each game's .slp beside the video, its offsets and the vendor events.
// started/stopped: the RecordStateChanged events; replays: the games the console played during the recording.
async function checkRecording(obs, { id, name, started, stopped, replays, folder }) {
  const video = stopped.outputPath || started.data.outputPath;
  assert.ok(fs.existsSync(video) && fs.statSync(video).size > 0, `the video ${video} exists`);

  // The sidecar: <video file name without extension>.andross.json, written when the recording stops.
  const dir = path.dirname(video);
  const base = path.basename(video, path.extname(video));
  const sidecarPath = path.join(dir, `${base}.andross.json`);
  const seen = await waitFor(() => fs.existsSync(sidecarPath), 15000);
  assert.ok(seen, `sidecar ${sidecarPath} written after StopRecord (folder holds: ${fs.readdirSync(dir).join(', ')})`);
  const sidecar = JSON.parse(fs.readFileSync(sidecarPath, 'utf8'));
  assert.ok(Array.isArray(sidecar.games), `sidecar has games[]: ${JSON.stringify(sidecar).slice(0, 500)}`);
  assert.equal(sidecar.games.length, replays.length, `one entry per game played: ${JSON.stringify(sidecar.games)}`);

  const starts = obs.events('game_start', id);
  const ends = obs.events('game_end', id);
  const saved = obs.events('replay_saved', id);
  for (const [i, g] of sidecar.games.entries()) {
    // (1) the .slp is beside the video, named after it, and holds the source's events byte for byte
    assert.equal(typeof g.file, 'string', `games[${i}].file is a string: ${JSON.stringify(g.file)}`);
    const slp = path.resolve(dir, g.file);
    assert.equal(path.dirname(slp), dir, `games[${i}].file ${g.file} is beside the video`);
    assert.ok(!path.isAbsolute(g.file), `games[${i}].file is relative to the sidecar's folder: ${g.file}`);
    assert.ok(path.basename(slp).startsWith(base), `games[${i}].file ${g.file} is named after the video ${base}`);
    assert.ok(fs.existsSync(slp), `${slp} exists`);
    const src = completeEventBytes(fs.readFileSync(replayPath(replays[i])));
    const out = readContainer(fs.readFileSync(slp));
    assert.notEqual(out.rawLength, 0, `${g.file}: raw length patched (the file is finished)`);
    const d = firstDifference(src.bytes, out.events);
    assert.equal(d, -1, d === -1 ? '' : `${g.file} vs ${replays[i]}: first difference at stream byte ${d}: source ` +
      `${hexAround(src.bytes, d)}, written ${hexAround(out.events, d)} (${out.events.length} of ${src.bytes.length})`);
    assert.ok(saved.some((e) => path.resolve(e.eventData.path) === slp), `a replay_saved event names ${slp}`);

    // (2) startMs/endMs: offsets from the start of the video, as an obs-websocket client saw the events come
    const wantStart = starts[i].t - started.t;
    const wantEnd = ends[i].t - started.t;
    console.log(`games[${i}] ${replays[i]}: sidecar startMs ${g.startMs} endMs ${g.endMs}; vendor events arrived at ` +
      `${wantStart.toFixed(1)} and ${wantEnd.toFixed(1)} ms after RecordStateChanged OBS_WEBSOCKET_OUTPUT_STARTED`);
    assert.equal(typeof g.startMs, 'number', `games[${i}].startMs is a number`);
    assert.equal(typeof g.endMs, 'number', `games[${i}].endMs is a number`);
    assert.ok(Math.abs(g.startMs - wantStart) <= SYNC_MS,
      `games[${i}].startMs ${g.startMs} vs game_start arrival ${wantStart.toFixed(1)} ms after the recording started`);
    assert.ok(Math.abs(g.endMs - wantEnd) <= SYNC_MS,
      `games[${i}].endMs ${g.endMs} vs game_end arrival ${wantEnd.toFixed(1)} ms after the recording started`);
    assert.deepEqual(g.connection, { id, name }, `games[${i}].connection`);
    // the players and the result: the game's game_start and game_end events of docs/events.md
    const tool = await toolEvents(replays[i]);
    assert.deepEqual(g.gameStart, tool.find((e) => e.type === 'game_start'), `games[${i}].gameStart is its game_start`);
    assert.deepEqual(g.gameEnd, tool.find((e) => e.type === 'game_end'), `games[${i}].gameEnd is its game_end`);
  }

  // While OBS records, nothing goes into the connection's own folder.
  assert.deepEqual(fs.readdirSync(folder).filter((f) => f.endsWith('.slp')), [], 'no .slp in the connection folder');

  // (3) the vendor events, less `connection` (the field and the event type), equal the tool's for the same replays
  const want = [];
  for (const r of replays) want.push(...(await toolEvents(r)).filter((e) => GAME_TYPES.has(e.type)));
  const got = obs
    .events(undefined, id)
    .filter((e) => GAME_TYPES.has(e.eventType))
    .map((e) => {
      assert.equal(e.eventData.type, e.eventType, "eventType is the event object's type");
      assert.deepEqual(e.eventData.connection, { id, name }, 'eventData.connection is {id, name}');
      return withoutConnection(e.eventData);
    });
  assert.deepEqual(got, want, 'vendor game events equal `andross record --events - --frames none`');
  assert.equal(obs.events('frame').length, 0, 'no frame events unless a client asks (SetFrameEvents)');
}

test('a connection added while OBS records: the games beside the video, byte for byte, and a sidecar', async (t) => {
  const defer = cleanups(t);
  const sim = await startConsoleSim(REPLAYS, { speed: 1, args: ['--nick', 'e2e-record'] });
  defer(() => sim.stop());
  const obs = await launchObs({ name: 'record' });
  defer(() => obs.close());
  const folder = tempDir('record-folder'); // the connection's own folder: nothing may go there while OBS records

  const started = await obs.startRecord();
  const name = 'Setup 1';
  const { id } = await obs.vendorOk('AddConnection', { name, url: `console://127.0.0.1:${sim.port}`, folder });
  assert.equal(typeof id, 'number', 'AddConnection answers a numeric id');
  await obs.waitEvents('game_start', 1, 30000, id);
  await sleep(1000);
  const shot = await obs.shot('record-while-playing');
  await obs.waitEvents('game_end', REPLAYS.length, 60000, id);
  await obs.waitEvents('replay_saved', REPLAYS.length, 30000, id);
  const stopped = await obs.stopRecord();
  await checkRecording(obs, { id, name, started, stopped, replays: REPLAYS, folder });

  // The picture: OBS's window with the Game scene (its colour fills most of the preview).
  const px = await countColor(shot, GAME_RGB);
  assert.ok(px.matching > 0.1 * px.total, `the Game scene is on screen (${px.matching} of ${px.total} pixels)`);
  const exit = await obs.stop();
  assert.equal(exit.signal, null, `OBS exits cleanly (${JSON.stringify(exit)}) ${obs.crashReport()}`);
  assert.equal(exit.code, 0);
});

test('a connection made before OBS records: its next game goes beside the video', async (t) => {
  const defer = cleanups(t);
  const obs = await launchObs({ name: 'record-before' });
  defer(() => obs.close());
  const folder = tempDir('record-before-folder');
  const port = await freePort();
  const name = 'Waiting Wii';
  // Nothing listens yet: the connection waits to reconnect until the console is switched on, after StartRecord.
  const { id } = await obs.vendorOk('AddConnection', { name, url: `console://127.0.0.1:${port}`, folder });
  await obs.waitState(id, 'waiting', 20000);
  const started = await obs.startRecord();
  const sim = await startConsoleSim(['v3.13.slp'], { speed: 1, port, args: ['--nick', 'e2e-record-before'] });
  defer(() => sim.stop());
  await obs.waitEvents('game_end', 1, 60000, id);
  await obs.waitEvents('replay_saved', 1, 30000, id);
  const stopped = await obs.stopRecord();
  await checkRecording(obs, { id, name, started, stopped, replays: ['v3.13.slp'], folder });
});
