// SPDX-License-Identifier: GPL-2.0-or-later
// In the real OBS 29, what the automation rules of docs/automation.md record, with `andross console-sim` as the Wii:
// - per-game recordings: three games give three videos and three sidecars, each naming its game's .slp;
// - clips: rules start and save the replay buffer, and the clips are named after what they hold; the combo rule
//   saves once per combo of at least 40% or a kill (slippi-js's combos as the oracle), combos in the sidecar.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import test from 'node:test';

import {
  cleanups,
  freePort,
  launchObs,
  NODE_DIR,
  replayPath,
  sleep,
  startConsoleSim,
  tempDir,
  toolEvents,
  waitFor,
  writeObsConfig,
} from './lib/obs.mjs';

const SET = ['v3.13.slp', 'unranked_game1.slp', 'v3.13.slp']; // GAME!, a quit-out, GAME!: 2.5 s, 2.8 s, 2.5 s

// slippi-js's combos of a replay (the definition andross's combo events follow, docs/events.md), with their damage.
function slippiJsCombos(replay) {
  const require = createRequire(path.join(NODE_DIR, 'package.json'));
  const { SlippiGame } = require('@slippi/slippi-js/node');
  return new SlippiGame(replayPath(replay)).getStats().combos.map((c) => ({
    ...c,
    damage: (c.endPercent ?? c.currentPercent) - c.startPercent,
  }));
}

test('per-game recordings: three games, three videos, three sidecars naming their .slp', async (t) => {
  const defer = cleanups(t);
  const obs = await launchObs({ name: 'rules-record' });
  defer(() => obs.close());
  const port = await freePort();
  const { id } = await obs.vendorOk('AddConnection', { name: 'Recorder', url: `console://127.0.0.1:${port}` });
  // no scene switching: only the recording; stopped 400 ms after each game's end (menus last 1 s)
  await obs.vendorOk('SetRules', { id, rules: [], recordGames: { enabled: true, stopAfterMs: 400 } });
  const from = obs.obsEvents.length;
  const sim = await startConsoleSim(SET, { speed: 1, port, args: ['--nick', 'e2e-rules-record'] });
  defer(() => sim.stop());
  await obs.waitEvents('game_end', SET.length, 60000, id);
  const stops = await waitFor(() => {
    const s = obs.obsEvents.slice(from).filter((e) => e.type === 'RecordStateChanged' && e.data.outputState === 'OBS_WEBSOCKET_OUTPUT_STOPPED');
    return s.length >= SET.length ? s : null;
  }, 30000);
  const states = obs.obsEvents.slice(from).filter((e) => e.type === 'RecordStateChanged').map((e) => e.data.outputState);
  assert.ok(stops, `three recordings stopped: ${states.join(', ')}`);
  const saved = await obs.waitEvents('replay_saved', SET.length, 30000, id);
  const starts = obs.events('game_start', id);
  const ends = obs.events('game_end', id);
  const started = obs.obsEvents.slice(from).filter((e) => e.type === 'RecordStateChanged' && e.data.outputState === 'OBS_WEBSOCKET_OUTPUT_STARTED');
  assert.equal(started.length, SET.length, 'one recording a game');
  for (let i = 0; i < SET.length; i++) {
    console.log(`game ${i + 1}: start ${(starts[i].t - starts[0].t).toFixed(0)} ms, recording started ` +
      `${(started[i].t - starts[i].t).toFixed(0)} ms after it; end ${(ends[i].t - starts[0].t).toFixed(0)} ms, ` +
      `recording stopped ${(stops[i].t - ends[i].t).toFixed(0)} ms after it`);
    assert.ok(started[i].t > starts[i].t - 50 && stops[i].t > ends[i].t, `recording ${i + 1} spans game ${i + 1}`);
  }
  for (let i = 0; i < SET.length; i++) {
    const video = stops[i].data.outputPath;
    assert.ok(video && fs.existsSync(video) && fs.statSync(video).size > 0, `video ${i + 1}: ${video}`);
    const sidecarPath = path.join(path.dirname(video), `${path.basename(video, path.extname(video))}.andross.json`);
    assert.ok(await waitFor(() => fs.existsSync(sidecarPath), 10000), `${sidecarPath} written`);
    const sidecar = JSON.parse(fs.readFileSync(sidecarPath, 'utf8'));
    assert.equal(sidecar.video, path.basename(video));
    // Its game: the one that started with it. On a loaded machine OBS can take a second to stop a recording, and
    // the next game, 1 s of menus later, may then begin before this video ends: the sidecar lists it too, after.
    const own = sidecar.games.reduce((a, b) => (Math.abs(b.startMs) < Math.abs(a.startMs) ? b : a));
    const others = sidecar.games.filter((x) => x !== own);
    console.log(`video ${i + 1}: ${path.basename(video)}, ${sidecar.durationMs} ms; its game ${own.startMs}..${own.endMs} ms` +
      `, ${path.basename(own.file)}${others.length ? `; and the start of the next at ${others.map((x) => x.startMs)} ms` : ''}`);
    for (const x of others) assert.ok(x.startMs > own.endMs, `only a later game beside its own: ${JSON.stringify(x.startMs)}`);
    const slp = path.resolve(path.dirname(video), own.file);
    assert.equal(slp, path.resolve(saved[i].eventData.path), `video ${i + 1} is paired with game ${i + 1}'s .slp`);
    assert.deepEqual(own.gameStart, (({ connection, ...rest }) => rest)(starts[i].eventData), 'its game_start');
    assert.equal(own.gameEnd.gameEndMethod, ends[i].eventData.gameEndMethod);
    // the .slp holds the game: its size is the source replay's events and more
    assert.ok(fs.statSync(slp).size > 0.5 * fs.statSync(replayPath(SET[i])).size, `${slp} holds the game`);
    assert.ok(own.startMs <= 1500 && own.endMs > own.startMs && own.endMs <= sidecar.durationMs,
      `the game within the video: ${JSON.stringify({ startMs: own.startMs, endMs: own.endMs, durationMs: sidecar.durationMs })}`);
  }
  const videos = new Set(stops.map((s) => s.data.outputPath));
  assert.equal(videos.size, SET.length, 'three different videos');
});

// OBS's replay buffer in the profile (Simple output mode: RecRB), for the clip tests.
async function launchWithReplayBuffer(name) {
  const home = tempDir(`home-${name}`);
  const wsPort = await freePort();
  const { profile } = writeObsConfig(home, { wsPort, recDir: path.join(home, 'recordings') });
  const ini = path.join(profile, 'basic.ini');
  fs.writeFileSync(ini, fs.readFileSync(ini, 'utf8').replace('[SimpleOutput]\n', '[SimpleOutput]\nRecRB=true\nRecRBTime=20\n'));
  return launchObs({ name, home });
}

test('clips: a rule starts the replay buffer, another saves it once per game that qualifies, named after it', async (t) => {
  const defer = cleanups(t);
  const obs = await launchWithReplayBuffer('rules-clips');
  defer(() => obs.close());
  const port = await freePort();
  const { id } = await obs.vendorOk('AddConnection', { name: 'Clips', url: `console://127.0.0.1:${port}` });
  await obs.vendorOk('SetRules', {
    id,
    rules: [
      { event: 'game_start', action: 'start_replay_buffer' },
      { event: 'game_end', endMethods: 'game', action: 'save_replay_buffer', delayMs: 300 },
    ],
  });
  const from = obs.obsEvents.length;
  const saves = [];
  obs.ws.on('ReplayBufferSaved', (d) => saves.push(d.savedReplayPath));
  const sim = await startConsoleSim(['v3.13.slp', 'unranked_game1.slp'], { speed: 1, port, args: ['--nick', 'e2e-clips'] });
  defer(() => sim.stop());
  await obs.waitEvents('game_end', 2, 60000, id);
  const clip = (await obs.waitEvents('clip_saved', 1, 20000, id))[0];
  await sleep(2000); // the quit-out of game 2 saves nothing
  assert.equal(saves.length, 1, `one clip: the game that ended with GAME!, not the quit-out (${JSON.stringify(saves)})`);
  assert.equal(obs.events('clip_saved', id).length, 1);
  const file = clip.eventData.path;
  console.log(`clip: ${path.basename(saves[0])} -> ${path.basename(file)}`);
  assert.ok(fs.existsSync(file) && fs.statSync(file).size > 0, `${file} exists`);
  assert.ok(!fs.existsSync(saves[0]), 'under its new name only');
  assert.equal(path.dirname(file), path.dirname(saves[0]));
  assert.equal(path.basename(file), `${path.basename(saves[0], path.extname(saves[0]))} - Clips game_end${path.extname(saves[0])}`,
    'the name says which connection and what');
  assert.ok(obs.obsEvents.length >= from);
  await obs.call('StopReplayBuffer');
});

test('highlights: the combo rule saves the replay buffer once per combo of at least 40% or a kill; combos in the sidecar', async (t) => {
  const REPLAY = 'sheik_vs_ics_yoshis.slp'; // 78 s of play, 20 combos, 4 of them 40% or a kill, 10 s or more apart
  const SPEED = 4;
  if (!(await toolEvents(REPLAY)).some((e) => e.type === 'combo')) {
    t.skip('this build has no combo events (the combo detector of issue 13)');
    return;
  }
  const combos = slippiJsCombos(REPLAY);
  const qualifying = combos.filter((c) => c.damage >= 40 || c.didKill);
  assert.ok(qualifying.length >= 2, 'the replay has combos that qualify');
  const defer = cleanups(t);
  const obs = await launchWithReplayBuffer('rules-combos');
  defer(() => obs.close());
  const port = await freePort();
  const { id } = await obs.vendorOk('AddConnection', { name: 'Highlights', url: `console://127.0.0.1:${port}` });
  await obs.vendorOk('SetRules', { id, rules: [{ event: 'combo', minDamage: 40, kill: true, action: 'save_replay_buffer' }] });
  await obs.call('StartReplayBuffer');
  const started = await obs.startRecord();
  const saves = [];
  obs.ws.on('ReplayBufferSaved', (d) => saves.push(d.savedReplayPath));
  const sim = await startConsoleSim([REPLAY], { speed: SPEED, port, args: ['--nick', 'e2e-combos'] });
  defer(() => sim.stop());
  await obs.waitEvents('game_end', 1, 120000, id);
  const events = obs.events('combo', id);
  assert.equal(events.length, combos.length, 'one combo event per slippi-js combo');
  await obs.waitEvents('clip_saved', qualifying.length, 30000, id);
  await sleep(2000);
  const stopped = await obs.stopRecord();
  console.log(`combos: ${combos.length}, qualifying ${qualifying.length}: ${qualifying.map((c) => `${c.damage.toFixed(1)}%${c.didKill ? ' kill' : ''}`).join(', ')}`);
  console.log(`clips: ${obs.events('clip_saved', id).map((e) => path.basename(e.eventData.path)).join('; ')}`);
  assert.equal(saves.length, qualifying.length, 'the replay buffer saved once per qualifying combo');
  const clips = obs.events('clip_saved', id).map((e) => path.basename(e.eventData.path));
  for (const [i, c] of qualifying.entries()) {
    const attacker = c.moves.length ? c.moves[0].playerIndex + 1 : null;
    assert.match(clips[i], new RegExp(` - Highlights P${attacker} ${Math.round(c.damage)}% combo${c.didKill ? ' kill' : ''} at \\d+m\\d\\ds\\.mkv$`),
      `clip ${i + 1} says who and what`);
  }
  // the sidecar lists the game's combos, in the video's time
  const video = stopped.outputPath;
  const sidecarPath = path.join(path.dirname(video), `${path.basename(video, path.extname(video))}.andross.json`);
  assert.ok(await waitFor(() => fs.existsSync(sidecarPath), 10000));
  const game = JSON.parse(fs.readFileSync(sidecarPath, 'utf8')).games[0];
  assert.equal(game.combos.length, combos.length, 'every combo in the sidecar');
  for (const [i, c] of game.combos.entries()) {
    assert.deepEqual((({ connection, ...rest }) => rest)(events[i].eventData), c.combo, `combo ${i + 1} as the event said`);
    assert.ok(c.endMs >= c.startMs && c.startMs >= game.startMs, `combo ${i + 1} within its game in the video`);
  }
  assert.ok(started);
});

