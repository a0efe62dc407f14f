// SPDX-License-Identifier: GPL-2.0-or-later
// The "Slippi Text" source (andross_text) and set scores in the real OBS: a console simulator plays real replays, an
// andross_text source made with CreateInput follows the connection, and after every stock_lost its text (its proc
// get_text, through the vendor request GetText) equals the game at the frame it was made from, as slippi-js and
// `andross inspect` read the replay; a screenshot shows it drawn. Then a three-game set with a best of 3: set_end
// after the second game, a new set at the third, and the reset-score hotkey fired with TriggerHotkeyByName.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import test from 'node:test';

import { cleanups, countColor, inspect, launchObs, NODE_DIR, replayPath, SHOT_DIR, startConsoleSim, waitFor } from './lib/obs.mjs';

const require = createRequire(path.join(NODE_DIR, 'package.json'));
const { SlippiGame, characters, stages } = require('@slippi/slippi-js/node');

const TEMPLATE =
  '{p1.port}|{p1.name}|{p1.code}|{p1.character}|{p1.stocks}|{p1.percent}|{p1.score}\n' +
  '{p2.port}|{p2.name}|{p2.code}|{p2.character}|{p2.stocks}|{p2.percent}|{p2.score}\n' +
  '{stage} {timer} game {game} on {console} {unknown} {p1.name';

// The text the template must give at `frame` of a replay, from slippi-js.
function expectedText(game, frame, { console: consoleName, scores = ['', ''], gameNumber = '' }) {
  const settings = game.getSettings();
  const players = settings.players.slice().sort((a, b) => a.port - b.port);
  const frames = game.getFrames();
  const line = (p, score) => {
    const post = frames[frame].players[p.playerIndex].post;
    const character = characters.getCharacterName(p.characterId);
    const name = p.displayName || p.nametag || p.connectCode || character;
    return [p.port, name, p.connectCode, character, post.stocksRemaining, Math.floor(post.percent), score].join('|');
  };
  const left = Math.max(0, settings.startingTimerSeconds * 60 - Math.max(0, frame));
  const secs = Math.floor(left / 60);
  const timer = `${Math.floor(secs / 60)}:${String(secs % 60).padStart(2, '0')}`;
  return `${line(players[0], scores[0])}\n${line(players[1], scores[1])}\n` +
    `${stages.getStageName(settings.stageId)} ${timer} game ${gameNumber} on ${consoleName} {unknown} {p1.name`;
}

async function getText(obs, sourceName) {
  return obs.vendorOk('GetText', { sourceName });
}

test('Slippi Text: after every stock lost the text is the game at its frame; a best-of-3 set; the reset hotkey', async (t) => {
  const defer = cleanups(t);
  const obs = await launchObs({ name: 'text' });
  defer(() => obs.close());

  // ---- the text after every stock lost, against slippi-js and andross inspect ----
  const replay = '200306_2258_Falco_v_Fox_PS.slp'; // ports 2 and 4, a name tag: p1 is port 2
  const game = new SlippiGame(replayPath(replay));
  const info = await inspect(replayPath(replay));
  // the connection first, with nothing to reach yet: the source shows its empty text
  const sim = await startConsoleSim([replay], { speed: '4', args: ['--nick', 'Setup A'] });
  defer(() => sim.stop());
  const { id } = await obs.vendorOk('AddConnection', { name: 'Wii', url: 'console://127.0.0.1:1', autoConnect: false });
  await obs.call('CreateInput', {
    sceneName: 'Game',
    inputName: 'Slippi Text',
    inputKind: 'andross_text',
    inputSettings: {
      template: TEMPLATE,
      connection: id,
      empty_text: 'waiting for a game',
      font: { face: 'DejaVu Sans', size: 22, style: 'Bold', flags: 0 },
      color1: 0xff00ffff,
      color2: 0xff00ffff,
      outline: true,
    },
  });
  const settings = await obs.call('GetInputSettings', { inputName: 'Slippi Text' });
  assert.equal(settings.inputKind, 'andross_text');

  const empty = await waitFor(async () => {
    const r = await getText(obs, 'Slippi Text');
    return r.text === 'waiting for a game' ? r : null;
  }, 10000, 50);
  assert.ok(empty, 'no game yet: the empty text');
  const from = obs.events('stock_lost', id).length;
  await obs.vendorOk('UpdateConnection', { id, url: `console://127.0.0.1:${sim.port}` });
  let checked = 0;
  const seenFrames = [];
  for (let k = 0; k < 7; k++) {
    const evs = await obs.waitEvents('stock_lost', from + k + 1, 90000, id);
    const ev = evs[from + k].eventData;
    // the first text made from the stock's frame or later
    const got = await waitFor(async () => {
      const r = await getText(obs, 'Slippi Text');
      return r.frame >= ev.frame ? r : null;
    }, 10000, 5);
    assert.ok(got, `the text reaches frame ${ev.frame}`);
    let want = expectedText(game, got.frame, { console: 'Setup A', gameNumber: '1', scores: ['0', '0'] });
    if (k === 6 && got.text !== want) {
      // the last stock ends the game: its end (port 2 wins) may have moved the score already
      want = expectedText(game, got.frame, { console: 'Setup A', gameNumber: '2', scores: ['1', '0'] });
    }
    assert.equal(got.text, want, `the text at frame ${got.frame} (stock lost at ${ev.frame}, port ${ev.port})`);
    // andross inspect agrees on the players the text names
    const ip = info.gameStart.players.find((p) => p.port === ev.port);
    assert.ok(got.text.includes(`${ev.port}|${ip.nametag || characters.getCharacterName(ip.characterId)}|`));
    // the stock count shown is the one the event reports (or lower, if the game moved on to the next loss)
    const line = got.text.split('\n').find((l) => l.startsWith(`${ev.port}|`));
    assert.ok(Number(line.split('|')[4]) <= ev.stocksRemaining, `${line} after ${JSON.stringify(ev)}`);
    seenFrames.push(`${ev.frame}->${got.frame} (${((Number(got.shownNs) - Number(got.changedNs)) / 1e6).toFixed(1)} ms to render)`);
    checked++;
    if (k === 3) {
      const shot = await obs.shot('text-source');
      console.log(`screenshot of OBS with the Slippi Text source: ${shot}`);
      // the source's own picture, as OBS renders it: the inner text source draws the text in yellow
      const img = await obs.call('GetSourceScreenshot', { sourceName: 'Slippi Text', imageFormat: 'png' });
      const file = path.join(SHOT_DIR, 'text-source-only.png');
      fs.writeFileSync(file, Buffer.from(img.imageData.replace(/^data:image\/png;base64,/, ''), 'base64'));
      const yellow = await countColor(file, [255, 255, 0], 40);
      assert.ok(yellow.matching > 500, `the source draws its text (${yellow.matching} yellow pixels of ${yellow.total})`);
    }
  }
  console.log(`stock lost frame -> text frame: ${seenFrames.join(', ')}`);
  assert.equal(checked, 7);
  await obs.waitEvents('game_end', 1, 120000, id);

  // ---- a best-of-3 set of three games between the same players ----
  const short = 'v3.13.slp'; // ports 1 (Fox) and 3 (Pichu); Pichu wins on a KO
  const set = await startConsoleSim([short, short, short], { speed: '1', args: ['--nick', 'Setup A'] });
  defer(() => set.stop());
  await obs.vendorOk('ResetScore', { id });
  const bo3 = await obs.vendorOk('SetScore', { id, bestOf: 3 });
  assert.equal(bo3.bestOf, 3);
  assert.equal(bo3.winsNeeded, 2);
  await obs.call('SetInputSettings', {
    inputName: 'Slippi Text',
    inputSettings: { template: '{p1.character} {p1.score}-{p2.score} {p2.character} game {game}' },
  });
  const ends = obs.events('game_end', id).length;
  const starts = obs.events('game_start', id).length;
  await obs.vendorOk('UpdateConnection', { id, url: `console://127.0.0.1:${set.port}` });
  await obs.waitEvents('game_end', ends + 1, 60000, id);
  const after1 = await waitFor(async () => {
    const r = await getText(obs, 'Slippi Text');
    return r.text === 'Fox 0-1 Pichu game 2' ? r : null;
  }, 10000, 20);
  assert.ok(after1, `after game 1: ${(await getText(obs, 'Slippi Text')).text}`);
  // game 2 plays (its frames move the game state on) and the text stays: the inner source is not given it again
  await obs.waitEvents('game_start', starts + 2, 20000, id);
  const s1 = await obs.vendorOk('GetGameState', { id });
  await new Promise((r) => setTimeout(r, 400));
  const s2 = await obs.vendorOk('GetGameState', { id });
  const same = await getText(obs, 'Slippi Text');
  // (no frame yet right at the game's start: GetGameState leaves `frame` out)
  assert.ok(s2.inGame && s2.games === s1.games && s2.frame > (s1.frame ?? -124), `game 2 plays: ${s1.frame} -> ${s2.frame}`);
  assert.equal(same.text, 'Fox 0-1 Pichu game 2');
  assert.equal(same.changedNs, after1.changedNs, `frames ${s1.frame} to ${s2.frame} played, the text was not set again`);
  const setEnd = await obs.waitEvents('set_end', 1, 60000, id);
  const se = setEnd[0].eventData;
  assert.equal(se.bestOf, 3);
  assert.equal(se.ended, true);
  assert.equal(se.winnerSide, 1);
  assert.deepEqual(se.sides.map((s) => s.score), [0, 2]);
  assert.deepEqual(se.sides.map((s) => s.players.map((p) => p.port)), [[1], [3]]);
  await obs.waitEvents('game_end', ends + 3, 60000, id);
  const score = await waitFor(async () => {
    const r = await obs.vendorOk('GetScore', { id });
    return r.sides.length === 2 && r.sides[1].score === 1 ? r : null;
  }, 10000, 50);
  assert.ok(score, 'the third game starts a new set: 0-1');
  assert.equal(score.sides[0].score, 0);
  assert.equal(score.game, 2);
  assert.equal(obs.events('set_end', id).length, 1, 'one set decided');
  const text3 = await waitFor(async () => {
    const r = await getText(obs, 'Slippi Text');
    return r.text === 'Fox 0-1 Pichu game 2' ? r : null;
  }, 10000, 20);
  assert.ok(text3, `the text shows the new set: ${(await getText(obs, 'Slippi Text')).text}`);

  // ---- swap, set, bad requests, and the reset hotkey ----
  const swapped = await obs.vendorOk('SwapScore', { id });
  assert.deepEqual(swapped.sides.map((s) => s.score), [1, 0]);
  assert.equal((await obs.vendor('SetScore', { id, score1: 5 })).error, 'a best of 3 ends at 2 wins: scores go from 0 to 2');
  assert.match((await obs.vendor('SetScore', { id, bestOf: 4 })).error, /odd/);
  assert.match((await obs.vendor('SetScore', { id, score1: 'x' })).error, /score1 must be a whole number/);
  assert.match((await obs.vendor('GetScore', { id: 99 })).error, /no connection 99/);
  assert.match((await obs.vendor('GetText', { sourceName: 'Game background' })).error, /no Slippi Text source/);
  assert.match((await obs.vendor('GetText', {})).error ?? (await obs.vendor('GetText')).error, /sourceName/);
  const unchanged = await obs.vendorOk('GetScore', { id });
  assert.deepEqual(unchanged.sides.map((s) => s.score), [1, 0], 'a bad request changes nothing');
  await obs.vendorOk('SetScore', { id, score1: 1, score2: 0 });
  const hotkeys = await obs.call('GetHotkeyList');
  // the swap hotkey trades the sides
  const swapName = `andross.score.swap.${id}`;
  assert.ok(hotkeys.hotkeys.includes(swapName), `the hotkey ${swapName} is registered`);
  await obs.call('TriggerHotkeyByName', { hotkeyName: swapName });
  const swappedByKey = await waitFor(async () => {
    const r = await obs.vendorOk('GetScore', { id });
    return r.sides[0].score === 0 && r.sides[1].score === 1 ? r : null;
  }, 10000, 50);
  assert.ok(swappedByKey, 'the swap hotkey traded the sides');
  const name = `andross.score.reset.${id}`;
  assert.ok(hotkeys.hotkeys.includes(name), `the hotkey ${name} is registered: ${hotkeys.hotkeys.filter((h) => h.startsWith('andross')).join(', ')}`);
  await obs.call('TriggerHotkeyByName', { hotkeyName: name });
  const reset = await waitFor(async () => {
    const r = await obs.vendorOk('GetScore', { id });
    return r.sides.every((s) => s.score === 0) ? r : null;
  }, 10000, 50);
  assert.ok(reset, 'the hotkey reset the score');
  const textReset = await waitFor(async () => {
    const r = await getText(obs, 'Slippi Text');
    return r.text === 'Pichu 0-0 Fox game 1' || r.text === 'Fox 0-0 Pichu game 1' ? r : null;
  }, 10000, 20);
  assert.ok(textReset, `the text follows the reset: ${(await getText(obs, 'Slippi Text')).text}`);
  console.log(`screenshots in ${SHOT_DIR}`);

  const exit = await obs.stop();
  assert.equal(exit.signal, null, `OBS exits cleanly: ${JSON.stringify(exit)}`);
  assert.equal(exit.code, 0);

  // ---- saved: the best-of (per connection name) and the hotkey, in scores.json; taken again at the next start ----
  const saved = JSON.parse(fs.readFileSync(path.join(obs.cfgDir, 'plugin_config/andross/scores.json'), 'utf8'));
  const mine = saved.connections.find((c) => c.name === 'Wii');
  assert.ok(mine && mine.bestOf === 3, `scores.json: ${JSON.stringify(saved)}`);
  // a key bound to the reset hotkey (what OBS's hotkey settings save) is loaded at the next start and saved again
  const scoresFile = path.join(obs.cfgDir, 'plugin_config/andross/scores.json');
  mine.resetHotkey = [{ key: 'OBS_KEY_F7' }];
  fs.writeFileSync(scoresFile, JSON.stringify(saved));
  const again = await launchObs({ name: 'text-restart', home: obs.home });
  defer(() => again.close());
  const restored = await again.vendorOk('GetScore', { id });
  assert.equal(restored.bestOf, 3, 'the best-of comes back with the connection');
  const list = await again.call('GetHotkeyList');
  assert.ok(list.hotkeys.includes(name), 'the hotkey is registered again');
  // the source comes back from the scene collection with its settings
  const back = await again.call('GetInputSettings', { inputName: 'Slippi Text' });
  assert.equal(back.inputKind, 'andross_text');
  assert.match(back.inputSettings.template, /\{p1\.character\}/);
  const exit2 = await again.stop();
  assert.equal(exit2.signal, null, `OBS exits cleanly after the restart: ${JSON.stringify(exit2)}`);
  const resaved = JSON.parse(fs.readFileSync(scoresFile, 'utf8')).connections.find((c) => c.name === 'Wii');
  assert.deepEqual(resaved.resetHotkey, [{ key: 'OBS_KEY_F7' }], `the key binding was loaded and saved: ${JSON.stringify(resaved)}`);
  assert.equal(resaved.bestOf, 3);
});
