// SPDX-License-Identifier: GPL-2.0-or-later
// In the real OBS 29: the "Slippi: show during games" filter (andross_game_filter) on a game capture's stand-in (a
// color source), fed by `andross console-sim` serving real replays. The filter's visibility changes (GetFilterState)
// are measured against the simulator's write of each frame (--write-log: CLOCK_MONOTONIC, the clock the filter
// reports in): shown from frame -60, hidden 700 ms after GAME!, at once after a quit-out (L+R+A+Start), 200 ms after
// the last frame when the cable is cut. Screenshots show the capture drawn in game and not drawn otherwise.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';

import { cleanups, countColor, GAME_RGB, inspect, launchObs, replayPath, sleep, startConsoleSim, tempDir, waitFor } from './lib/obs.mjs';

const CAPTURE = 'Capture';
const FILTER = 'Show during games';
const CAPTURE_RGB = [0xb4, 0x1e, 0xc8]; // a magenta no other part of OBS's window has
const abgr = ([r, g, b]) => (0xff000000 | (b << 16) | (g << 8) | r) >>> 0;

// The simulator's write log: per game, each frame's first write (ms, CLOCK_MONOTONIC) and the last frame written.
function readWriteLog(file) {
  const games = new Map();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const [g, frame, , ns] = line.trim().split(' ');
    if (!ns) continue;
    const game = Number(g);
    if (!games.has(game)) games.set(game, { start: null, frames: new Map(), last: null });
    const e = games.get(game);
    const ms = Number(BigInt(ns) / 1000n) / 1000;
    if (frame === 'start') {
      e.start = ms;
      continue;
    }
    const f = Number(frame);
    if (!e.frames.has(f)) e.frames.set(f, ms);
    e.last = { frame: f, ms };
  }
  return games;
}

// The capture stand-in in scene "Game" (and "Break": the filter is on the source, so it acts in both) with the filter.
async function addCapture(obs, filterSettings) {
  await obs.call('CreateInput', {
    sceneName: 'Game',
    inputName: CAPTURE,
    inputKind: 'color_source_v3',
    inputSettings: { color: abgr(CAPTURE_RGB), width: 640, height: 360 },
    sceneItemEnabled: false, // shown once the filter is on it
  });
  await obs.call('CreateSourceFilter', {
    sourceName: CAPTURE,
    filterName: FILTER,
    filterKind: 'andross_game_filter',
    filterSettings,
  });
  const { sceneItemId } = await obs.call('GetSceneItemId', { sceneName: 'Game', sourceName: CAPTURE });
  await obs.call('SetSceneItemEnabled', { sceneName: 'Game', sceneItemId, sceneItemEnabled: true });
  await obs.call('CreateSceneItem', { sceneName: 'Break', sourceName: CAPTURE });
  await sleep(500); // the preview is repainted
}

function filterState(obs) {
  return obs.vendorOk('GetFilterState', { sourceName: CAPTURE, filterName: FILTER });
}

// OBS's source toolbar shows the selected source's colour in a swatch of about 2,500 pixels; the preview of the
// capture, when drawn, is over 100,000.
const NOT_DRAWN = 5000;
const DRAWN = 50000;

// Screenshot; resolves the capture's pixel count in it.
async function captureShown(obs, name) {
  const file = await obs.shot(name);
  const { matching } = await countColor(file, CAPTURE_RGB, 10);
  console.log(`${name}: ${matching} capture pixels (${file})`);
  return matching;
}

async function endMethod(replay) {
  return (await inspect(replayPath(replay))).gameEnd.gameEndMethod;
}

test('shown from frame -60; hidden at once after a quit-out and 700 ms after GAME!', async (t) => {
  const defer = cleanups(t);
  const replays = ['unranked_game1.slp', 'v3.13.slp'];
  assert.equal(await endMethod(replays[0]), 7, `${replays[0]} ends by a quit-out (LRAS)`);
  assert.equal(await endMethod(replays[1]), 2, `${replays[1]} ends with GAME!`);
  const log = path.join(tempDir('filter-log'), 'writes.txt');
  const sim = await startConsoleSim(replays, { speed: 1, args: ['--write-log', log] });
  defer(() => sim.stop());
  const obs = await launchObs({ name: 'filter' });
  defer(() => obs.close());
  await addCapture(obs, { connection: '', fade_ms: 0 });

  // Wrong requests get an error, not a state.
  for (const [data, want] of [
    [{ sourceName: CAPTURE }, /filterName are required/],
    [{ sourceName: 'nope', filterName: FILTER }, /no source named "nope"/],
    [{ sourceName: CAPTURE, filterName: 'nope' }, /has no filter named "nope"/],
    [{ sourceName: CAPTURE, filterName: FILTER, extra: [1] }, null],
    [{ sourceName: 5, filterName: FILTER }, /required/],
  ]) {
    const r = await obs.vendor('GetFilterState', data);
    if (want) assert.match(String(r.error), want, `GetFilterState ${JSON.stringify(data)}: ${JSON.stringify(r)}`);
    else assert.equal(r.visible, false, `GetFilterState ${JSON.stringify(data)}: ${JSON.stringify(r)}`);
  }

  // No connection: nothing to follow, the capture is not drawn.
  await waitFor(async () => (await filterState(obs)).connectionId === 0, 5000);
  const before = await filterState(obs);
  assert.equal(before.visible, false, `no connection: hidden ${JSON.stringify(before)}`);
  assert.ok((await captureShown(obs, 'filter-no-connection')) < NOT_DRAWN, 'not drawn without a connection');

  const { id } = await obs.vendorOk('AddConnection', {
    name: 'Wii',
    url: `console://127.0.0.1:${sim.port}`,
    folder: tempDir('filter-folder'),
  });
  // Between the games (game 1 quit out; the simulator's menu, then game 2 before its frame -60): not drawn.
  assert.ok(await waitFor(async () => (await filterState(obs)).changes.length >= 2, 30000), 'game 1 shown and hidden');
  const menu = await captureShown(obs, 'filter-hidden-in-menu');
  const afterShot = await filterState(obs);
  if (afterShot.changes.length === 2) assert.ok(menu < NOT_DRAWN, 'not drawn between the games');
  else console.log('the menu screenshot came after game 2 was shown: not judged');
  await obs.waitEvents('game_end', 2, 60000, id);
  const ok = await waitFor(async () => {
    const s = await filterState(obs);
    return s.changes.length >= 4 && !s.visible;
  }, 10000);
  const state = await filterState(obs);
  assert.ok(ok, `four visibility changes: ${JSON.stringify(state.changes)}`);
  assert.equal(state.connectionId, id);
  assert.ok((await captureShown(obs, 'filter-hidden-after-games')) < NOT_DRAWN, 'not drawn once the games are over');

  const writes = readWriteLog(log);
  const ch = state.changes;
  assert.deepEqual(
    ch.map((c) => [c.visible, c.reason, c.game]),
    [
      [true, 'game', 1],
      [false, 'quit_out', 1],
      [true, 'game', 2],
      [false, 'game_end', 2],
    ],
    `the changes: ${JSON.stringify(ch)}`,
  );
  for (const g of [1, 2]) {
    const show = ch[(g - 1) * 2];
    const hide = ch[(g - 1) * 2 + 1];
    const w = writes.get(g);
    const at60 = w.frames.get(-60);
    assert.ok(show.frame >= -60, `game ${g} shown at frame ${show.frame}, not before -60`);
    assert.ok(show.atMs >= at60, `game ${g} shown ${(show.atMs - at60).toFixed(1)} ms after frame -60 was written`);
    const lastWrite = w.last.ms;
    console.log(
      `game ${g} (${replays[g - 1]}): shown at frame ${show.frame}, ${(show.atMs - at60).toFixed(1)} ms after the ` +
        `simulator wrote frame -60; hidden (${hide.reason}) ${(hide.atMs - lastWrite).toFixed(1)} ms after it wrote ` +
        `the last frame (${w.last.frame}), ${hide.atMs - hide.dueMs} ms after it was due`,
    );
    assert.ok(hide.frame >= w.last.frame - 1, `game ${g} hidden after its last frame ${w.last.frame}: ${JSON.stringify(hide)}`);
  }
  // A quit-out hides at once: due when its Game End arrived, not 200 ms (a stall) or 700 ms (GAME!) later.
  const quit = ch[1];
  // dueMs is whole milliseconds (the mailbox's clock, truncated), the simulator's write time has a fraction
  assert.ok(quit.dueMs >= Math.floor(writes.get(1).last.ms), 'the quit-out was due when its Game End arrived');
  assert.ok(quit.dueMs < ch[2].atMs, 'and hidden before game 2 was shown');
  // GAME! keeps it 700 ms after the Game End arrived, never less.
  const end = ch[3];
  assert.equal(end.dueMs, state.endTimeMs + 700, 'hidden 700 ms after the Game End of game 2');
  assert.ok(end.atMs >= end.dueMs, 'not hidden before the 700 ms');
  assert.ok(end.atMs - Math.floor(writes.get(2).last.ms) >= 700, 'at least 700 ms after the simulator wrote the last frame');
  assert.equal(state.gameEndMethod, 2);
});

test('a cut cable hides the capture 200 ms after the last frame; the fade goes through partial opacity', async (t) => {
  const defer = cleanups(t);
  const log = path.join(tempDir('filter-cut-log'), 'writes.txt');
  const sim = await startConsoleSim(['v3.14.0.slp'], { speed: 1, args: ['--write-log', log] }); // 200 s of play
  defer(() => sim.stop());
  const obs = await launchObs({ name: 'filter-cut' });
  defer(() => obs.close());
  const { id: other } = await obs.vendorOk('AddConnection', {
    name: 'Other',
    url: 'console://127.0.0.1:1',
    folder: tempDir('filter-cut-other'),
  });
  await addCapture(obs, { connection: 'Wii 2', fade_ms: 1500 }); // follows the named one, not the first
  const { id } = await obs.vendorOk('AddConnection', {
    name: 'Wii 2',
    url: `console://127.0.0.1:${sim.port}`,
    folder: tempDir('filter-cut-folder'),
  });
  assert.notEqual(id, other);
  assert.ok(await waitFor(async () => (await filterState(obs)).opacity === 1, 20000), 'shown, fully, during the game');
  const shown = await filterState(obs);
  assert.equal(shown.connectionId, id, 'it follows the connection named in its settings');
  assert.ok(shown.inGame && shown.frame >= -60, `in game at frame ${shown.frame}`);
  const ingame = await captureShown(obs, 'filter-shown-in-game');
  assert.ok(ingame > DRAWN, `the capture is drawn in game (${ingame} pixels)`);
  await obs.call('SetCurrentProgramScene', { sceneName: 'Break' });
  await sleep(300);
  const other_scene = await captureShown(obs, 'filter-shown-in-game-other-scene');
  assert.ok(other_scene > DRAWN, `the capture is drawn in the other scene too (${other_scene} pixels)`);
  await obs.call('SetCurrentProgramScene', { sceneName: 'Game' });

  // The cable is cut: the Wii stops sending at once.
  sim.child.kill('SIGKILL');
  const opacities = [];
  let midFade = null;
  const hidden = await waitFor(async () => {
    const s = await filterState(obs);
    opacities.push(s.opacity);
    if (!midFade && !s.visible && s.opacity > 0.4 && s.opacity < 0.8) {
      // Half faded: the capture is drawn blended over the scene's background, neither colour is left pure.
      const file = await obs.shot('filter-fading-out');
      midFade = {
        capture: (await countColor(file, CAPTURE_RGB, 10)).matching,
        background: (await countColor(file, GAME_RGB, 10)).matching,
        opacity: s.opacity,
      };
      console.log(`fading out at opacity ${s.opacity}: ${JSON.stringify(midFade)} (${file})`);
    }
    return !s.visible && s.opacity === 0;
  }, 10000, 20);
  assert.ok(hidden, 'hidden after the cut');
  const state = await filterState(obs);
  const hide = state.changes[state.changes.length - 1];
  assert.equal(hide.reason, 'stall');
  const writes = readWriteLog(log).get(1);
  const delay = hide.atMs - writes.last.ms;
  console.log(
    `cut cable: hidden ${delay.toFixed(1)} ms after the simulator's last write (frame ${writes.last.frame}), ` +
      `${hide.atMs - state.frameTimeMs} ms after OBS got the last frame; opacities seen while fading: ` +
      opacities.map((o) => o.toFixed(2)).join(' '),
  );
  assert.ok(hide.atMs - Math.floor(writes.last.ms) >= 200, 'not hidden before 200 ms without frames');
  assert.equal(hide.dueMs, state.frameTimeMs + 200, 'due 200 ms after the last frame arrived');
  assert.ok(opacities.some((o) => o > 0 && o < 1), `the fade passed through partial opacity: ${opacities.join(' ')}`);
  assert.ok(midFade, 'a screenshot half-way through the fade');
  assert.ok(midFade.capture < NOT_DRAWN && midFade.background < NOT_DRAWN, `blended: ${JSON.stringify(midFade)}`);
  await sleep(200);
  assert.ok((await captureShown(obs, 'filter-hidden-after-cut')) < NOT_DRAWN, 'not drawn after the cut');
});
