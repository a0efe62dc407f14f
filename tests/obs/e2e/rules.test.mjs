// SPDX-License-Identifier: GPL-2.0-or-later
// In the real OBS 29, the automation rules of docs/automation.md with `andross console-sim` as the Wii:
// - a three-game set with the default rules switches the program scene to "Game" when the first game starts and to
//   "Between games" 3 s after the last one ends; the switch after a game whose next game starts within the 3 s is
//   cancelled, and a quit-out does not count. Times are measured against the game events an obs-websocket client
//   saw, and printed;
// - GetRules/SetRules: bad input is refused with a reason and changes nothing; rules naming a scene or source that
//   is not there are reported as broken (the answer and the log) and do not crash OBS when they come due; rules and
//   the per-game recording option survive a restart;
// - studio mode, sources shown and hidden, menus for N seconds, connection lost and back, set end.
// Recordings and clips: rules_record.test.mjs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import test from 'node:test';

import {
  cleanups,
  freePort,
  launchObs,
  sleep,
  startConsoleSim,
  startXvfb,
  tempDir,
  waitFor,
  writeObsConfig,
} from './lib/obs.mjs';

const SET = ['v3.13.slp', 'unranked_game1.slp', 'v3.13.slp']; // GAME!, a quit-out, GAME!: 2.5 s, 2.8 s, 2.5 s

const DEFAULT_RULES = [
  { event: 'game_start', action: 'switch_scene', scene: 'Game', delayMs: 0, enabled: true, optional: true },
  {
    event: 'game_end',
    endMethods: 'game,time',
    action: 'switch_scene',
    scene: 'Between games',
    delayMs: 3000,
    enabled: true,
    optional: true,
  },
];

function sceneChanges(obs, from = 0) {
  return obs.obsEvents.slice(from).filter((e) => e.type === 'CurrentProgramSceneChanged');
}

test('a three-game set with the default rules: Game at the first start, Between games 3 s after the last end', async (t) => {
  const defer = cleanups(t);
  const obs = await launchObs({ name: 'rules-defaults' });
  defer(() => obs.close());
  await obs.call('CreateScene', { sceneName: 'Between games' });
  await obs.call('SetCurrentProgramScene', { sceneName: 'Between games' });
  await obs.waitObsEvent('CurrentProgramSceneChanged', (d) => d.sceneName === 'Between games', 10000);
  const from = obs.obsEvents.length;

  const sim = await startConsoleSim(SET, { speed: 1, args: ['--nick', 'e2e-rules'] });
  defer(() => sim.stop());
  const { id } = await obs.vendorOk('AddConnection', { name: 'Setup 1', url: `console://127.0.0.1:${sim.port}` });
  const rules = await obs.vendorOk('GetRules', { id });
  assert.deepEqual(rules.rules, DEFAULT_RULES, 'a new connection has the default rules');
  assert.deepEqual(rules.broken, [], 'both scenes exist: nothing broken');

  const ends = await obs.waitEvents('game_end', SET.length, 60000, id);
  const starts = obs.events('game_start', id);
  assert.equal(starts.length, SET.length);
  assert.deepEqual(ends.map((e) => e.eventData.gameEndMethod), [2, 7, 2], 'GAME!, a quit-out, GAME!');
  const last = ends[SET.length - 1];
  const between = await waitFor(
    () => sceneChanges(obs, from).find((e) => e.data.sceneName === 'Between games' && e.t > last.t),
    15000,
  );
  assert.ok(between, `Between games after the last game: ${JSON.stringify(sceneChanges(obs, from).map((e) => e.data))}`);
  await sleep(1500); // nothing more comes
  const seq = sceneChanges(obs, from);
  const line = (e) => `${e.data.sceneName} at ${(e.t - starts[0].t).toFixed(1)} ms`;
  console.log(`game starts at ${starts.map((e) => (e.t - starts[0].t).toFixed(1)).join(', ')} ms; ends at ` +
    `${ends.map((e) => (e.t - starts[0].t).toFixed(1)).join(', ')} ms (vendor events at the client)`);
  console.log(`CurrentProgramSceneChanged: ${seq.map(line).join('; ')}`);
  assert.deepEqual(seq.map((e) => e.data.sceneName), ['Game', 'Between games'],
    'the program goes to Game once, and to Between games once: after the last game (the switches after games 1 ' +
    'and 2 were cancelled by the next game, game 2 was a quit-out)');
  const gameLag = seq[0].t - starts[0].t;
  const betweenLag = seq[1].t - last.t;
  console.log(`Game: ${gameLag.toFixed(1)} ms after game_start reached the client; Between games: ` +
    `${betweenLag.toFixed(1)} ms after the last game_end`);
  assert.ok(seq[0].t < ends[0].t, 'Game while the first game is on');
  assert.ok(Math.abs(gameLag) < 1000, `Game within a second of game_start (${gameLag.toFixed(1)} ms)`);
  assert.ok(betweenLag >= 2800 && betweenLag < 6000, `Between games about 3 s after game_end (${betweenLag.toFixed(1)} ms)`);
  const log = obs.androssLines();
  assert.ok(log.some((l) => /Setup 1: game_start -> switch_scene Game/.test(l)), 'the switch is in the log');
});

test('rules: bad input is refused, broken rules are reported and harmless, and rules survive a restart', async (t) => {
  const defer = cleanups(t);
  const x = await startXvfb();
  defer(() => x.stop());
  const obs = await launchObs({ name: 'rules-saved', xvfb: x });
  defer(() => obs.close());
  const port = await freePort(); // no console yet: the connection waits
  const { id } = await obs.vendorOk('AddConnection', { name: 'Stream setup', url: `console://127.0.0.1:${port}` });

  // Bad input: a reason, and nothing changed.
  const bad = [
    [{ id, rules: [{ event: 'gamestart', action: 'switch_scene', scene: 'Game' }] }, /rules\[0\]: event must be one of/],
    [{ id, rules: [{ event: 'game_start', action: 'switch_scene' }] }, /rules\[0\]: scene is required for switch_scene/],
    [{ id, rules: [{ event: 'combo', minDamage: 'lots', action: 'save_replay_buffer' }] }, /minDamage must be a number/],
    [{ id, rules: [{ event: 'game_end', action: 'stop_recording', delayMs: -5 }] }, /delayMs must be from 0/],
    [{ id, rules: 'all of them' }, /rules is required/],
    [{ id }, /rules is required/],
    [{ id: 99, rules: [] }, /no connection 99/],
    [{ rules: [] }, /id is required/],
    [{ id, rules: [], recordGames: { enabled: 'yes' } }, /recordGames takes/],
  ];
  for (const [data, want] of bad) {
    const r = await obs.vendor('SetRules', data);
    assert.match(r.error || '', want, `SetRules ${JSON.stringify(data)} -> ${JSON.stringify(r)}`);
  }
  assert.deepEqual((await obs.vendorOk('GetRules', { id })).rules, DEFAULT_RULES, 'the rules are as they were');

  // Rules naming what is not there: reported as broken, in the answer and in the log.
  const rules = [
    { event: 'game_start', action: 'switch_scene', scene: 'Nope' },
    { event: 'last_stock', port: 2, action: 'show_source', scene: 'Game', source: 'Missing cam' },
    { event: 'combo', minDamage: 40, kill: true, action: 'save_replay_buffer' },
    { event: 'menus', seconds: 20, action: 'set_text_template', source: 'Game label', template: '{p1.name}' },
    { event: 'game_end', endMethods: 'game', action: 'switch_scene', scene: 'Break', delayMs: 500 },
    { event: 'connection_lost', action: 'hide_source', scene: 'Break', source: 'Break label', enabled: false },
  ];
  const set = await obs.vendorOk('SetRules', { id, rules, recordGames: { enabled: false, stopAfterMs: 4000 } });
  assert.equal(set.rules.length, rules.length);
  assert.deepEqual(set.recordGames, { enabled: false, stopAfterMs: 4000 });
  assert.deepEqual(set.broken.map((b) => [b.index, b.reason]), [
    [0, 'no scene named "Nope"'],
    [1, 'scene "Game" has no source "Missing cam"'],
    [3, '"Game label" is not a Slippi Text source'],
  ]);
  await waitFor(() => obs.androssLines().some((l) => /rule 1 \(game_start -> switch_scene\) is broken: no scene named "Nope"/.test(l)), 5000);
  assert.ok(obs.androssLines().some((l) => /Stream setup: rule 2 \(last_stock -> show_source\) is broken/.test(l)),
    `the log names the broken rules: ${obs.androssLines().join('\n')}`);

  // A scene that goes away breaks the rule that names it.
  await obs.call('RemoveScene', { sceneName: 'Break' });
  let after;
  await waitFor(async () => (after = await obs.vendorOk('GetRules', { id })).broken.length === 5, 5000, 100);
  assert.deepEqual(after.broken.map((b) => b.index), [0, 1, 3, 4, 5], `Break is gone: ${JSON.stringify(after.broken)}`);

  // ...and when they come due, they are skipped with a warning; OBS goes on.
  const sim = await startConsoleSim(['v3.13.slp'], { speed: 1, port, args: ['--nick', 'e2e-rules-broken'] });
  defer(() => sim.stop());
  await obs.waitEvents('game_end', 1, 60000, id);
  const skipped = await waitFor(() => obs.androssLines().some((l) => /game_end -> switch_scene not done: no scene named "Break"/.test(l)), 10000);
  assert.ok(skipped, `the due rule on a scene that is gone is skipped in the log: ${obs.androssLines().slice(-10).join('\n')}`);
  assert.ok(obs.androssLines().some((l) => /game_start -> switch_scene not done: no scene named "Nope"/.test(l)));
  assert.ok(obs.running, 'OBS runs on');
  await sim.stop();

  // A restart: the rules and the option come back as they were.
  const before = await obs.vendorOk('GetRules', { id });
  const exit = await obs.stop();
  assert.equal(exit.code, 0, `OBS exits cleanly: ${JSON.stringify(exit)}`);
  const saved = JSON.parse(fs.readFileSync(path.join(obs.home, '.config/obs-studio/plugin_config/andross/connections.json'), 'utf8'));
  assert.equal(saved.connections[0].rules.length, rules.length, 'connections.json holds the rules');
  const again = await launchObs({ name: 'rules-saved', home: obs.home, xvfb: x });
  defer(() => again.close());
  const list = (await again.vendorOk('GetConnections')).connections;
  assert.equal(list.length, 1);
  const back = await again.vendorOk('GetRules', { id: list[0].id });
  assert.deepEqual(back.rules, before.rules, 'the rules after the restart');
  assert.deepEqual(back.recordGames, { enabled: false, stopAfterMs: 4000 }, 'the per-game recording option too');
  assert.deepEqual(back.broken.map((b) => b.index), [0, 1, 3, 4, 5], 'and what is broken is broken still');
  assert.ok(again.androssLines().some((l) => /rule 5 \(game_end -> switch_scene\) is broken/.test(l)),
    'the log says so at start-up');
  // SetRules without recordGames keeps the option
  const keep = await again.vendorOk('SetRules', { id: list[0].id, rules: [] });
  assert.deepEqual(keep.recordGames, { enabled: false, stopAfterMs: 4000 });
  assert.deepEqual(keep.rules, []);
});

test('studio mode: the program goes to Game by a transition, the preview gets Break; a source hidden after 2 s of menus', async (t) => {
  const defer = cleanups(t);
  const obs = await launchObs({ name: 'rules-studio' });
  defer(() => obs.close());
  const preview = [];
  obs.ws.on('CurrentPreviewSceneChanged', (d) => preview.push({ t: performance.now(), scene: d.sceneName }));
  await obs.call('CreateScene', { sceneName: 'Between games' });
  // a cut, so that the program is Between games before studio mode comes on (not half-way through a fade)
  await obs.call('SetCurrentSceneTransition', { transitionName: 'Cut' });
  await obs.call('SetCurrentProgramScene', { sceneName: 'Between games' });
  await obs.waitObsEvent('CurrentProgramSceneChanged', (d) => d.sceneName === 'Between games', 10000);
  await obs.call('SetStudioModeEnabled', { studioModeEnabled: true });
  await waitFor(async () => (await obs.call('GetStudioModeEnabled')).studioModeEnabled, 5000);
  await obs.call('SetCurrentPreviewScene', { sceneName: 'Between games' });
  await obs.call('SetCurrentSceneTransition', { transitionName: 'Fade' }); // the game's switch: a transition
  assert.equal((await obs.call('GetCurrentProgramScene')).currentProgramSceneName, 'Between games');
  const port = await freePort();
  const { id } = await obs.vendorOk('AddConnection', { name: 'Studio', url: `console://127.0.0.1:${port}` });
  const { sceneItemId } = await obs.call('GetSceneItemId', { sceneName: 'Game', sourceName: 'Game label' });
  const labelShown = async () => (await obs.call('GetSceneItemEnabled', { sceneName: 'Game', sceneItemId })).sceneItemEnabled;
  await obs.vendorOk('SetRules', {
    id,
    rules: [
      { event: 'game_start', action: 'switch_scene', scene: 'Game' },
      { event: 'game_start', action: 'show_source', scene: 'Game', source: 'Game label' },
      { event: 'game_end', action: 'switch_scene', scene: 'Break', toPreview: true },
      { event: 'menus', seconds: 2, action: 'hide_source', scene: 'Game', source: 'Game label' },
    ],
  });
  const from = obs.obsEvents.length;
  // two games 1 s apart: the menus rule of game 1 is cancelled by game 2; game 2's comes 2 s after its end
  const sim = await startConsoleSim(['v3.13.slp', 'v3.13.slp'], { speed: 1, port, args: ['--nick', 'e2e-studio'] });
  defer(() => sim.stop());
  await obs.waitEvents('game_start', 1, 60000, id);
  await obs.waitObsEvent('CurrentProgramSceneChanged', (d) => d.sceneName === 'Game', 10000, from);
  const ends = await obs.waitEvents('game_end', 2, 60000, id);
  assert.ok(await labelShown(), 'the label is shown during the games');
  // a game's end: the preview gets Break, the program stays on Game
  // the rule runs on OBS's UI thread, the vendor event goes out from the module's vendor thread: either can reach
  // this client first, a few ms apart; game 1 started 2.5 s before its end, so a switch at game_start still fails
  assert.ok(await waitFor(() => preview.some((p) => p.scene === 'Break' && p.t > ends[0].t - 250), 10000),
    `the preview goes to Break at game 1's end (${ends[0].t.toFixed(1)} ms): ${JSON.stringify(preview)}`);
  assert.equal((await obs.call('GetCurrentProgramScene')).currentProgramSceneName, 'Game', 'the program stays on Game');
  assert.deepEqual(obs.obsEvents.slice(from).filter((e) => e.type === 'CurrentProgramSceneChanged').map((e) => e.data.sceneName),
    ['Game'], 'the program changed once, by a transition to Game (game 2 found it there)');
  // menus: 2 s after game 2's end (not after game 1's: game 2 started 1 s after it) the label is hidden
  assert.ok(await labelShown(), 'still shown right after the game');
  const hidden = await waitFor(async () => !(await labelShown()), 8000, 100);
  const hiddenAfter = performance.now() - ends[1].t;
  console.log(`label hidden ${hiddenAfter.toFixed(0)} ms after the last game_end (menus rule: 2 s)`);
  assert.ok(hidden, 'the menus rule hides the label');
  assert.ok(hiddenAfter >= 1800, 'not before 2 s of menus');
  const log = obs.androssLines();
  assert.equal(log.filter((l) => /menus -> hide_source/.test(l)).length, 1, 'the menus rule ran once: game 1\'s was cancelled');
});


test('connection lost and back: the console goes away and comes back', async (t) => {
  const defer = cleanups(t);
  const obs = await launchObs({ name: 'rules-link' });
  defer(() => obs.close());
  const port = await freePort();
  const { id } = await obs.vendorOk('AddConnection', { name: 'Link', url: `console://127.0.0.1:${port}` });
  await obs.vendorOk('SetRules', {
    id,
    rules: [
      { event: 'connection_lost', action: 'switch_scene', scene: 'Break' },
      { event: 'connection_back', action: 'switch_scene', scene: 'Game' },
    ],
  });
  const from = obs.obsEvents.length;
  // the first console plays a game and goes (console-sim exits once its client has everything)
  const first = await startConsoleSim(['v3.13.slp'], { speed: 1, port, args: ['--nick', 'e2e-link'] });
  defer(() => first.stop());
  await obs.waitState(id, 'connected', 20000);
  await obs.waitEvents('game_end', 1, 30000, id);
  await first.exited;
  const lost = await obs.waitObsEvent('CurrentProgramSceneChanged', (d) => d.sceneName === 'Break', 20000, from);
  // ...and comes back
  const second = await startConsoleSim(['v3.13.slp'], { speed: 1, port, args: ['--nick', 'e2e-link'] });
  defer(() => second.stop());
  const back = await obs.waitObsEvent('CurrentProgramSceneChanged', (d) => d.sceneName === 'Game', 30000, from);
  assert.ok(back.t > lost.t, 'Game again once the console is back');
  const seq = obs.obsEvents.slice(from).filter((e) => e.type === 'CurrentProgramSceneChanged').map((e) => e.data.sceneName);
  assert.deepEqual(seq, ['Break', 'Game'], 'the first connect is not "back"; one switch each way');
  const states = obs.events('connection', id).map((e) => e.eventData.state);
  console.log(`connection states: ${states.join(', ')}; scenes: ${seq.join(', ')}`);
});

test('set end: the andross_set_end signal (here from a script) runs the set_end rules', async (t) => {
  const defer = cleanups(t);
  const home = tempDir('home-rules-set-end');
  const wsPort = await freePort();
  const { cfg } = writeObsConfig(home, { wsPort, recDir: path.join(home, 'recordings') });
  const collectionFile = path.join(cfg, 'basic/scenes/Andross.json');
  const collection = JSON.parse(fs.readFileSync(collectionFile, 'utf8'));
  collection.modules = { 'scripts-tool': [{ path: path.join(import.meta.dirname, 'set_end.lua'), settings: { connection: 1 } }] };
  fs.writeFileSync(collectionFile, JSON.stringify(collection, null, 1));
  const obs = await launchObs({ name: 'rules-set-end', home });
  defer(() => obs.close());
  const port = await freePort();
  const { id } = await obs.vendorOk('AddConnection', { name: 'Set', url: `console://127.0.0.1:${port}` });
  assert.equal(id, 1, 'the script names connection 1');
  await obs.vendorOk('SetRules', { id, rules: [{ event: 'set_end', action: 'switch_scene', scene: 'Break' }] });
  const from = obs.obsEvents.length;
  await obs.call('SetStudioModeEnabled', { studioModeEnabled: true });
  const e = await obs.waitObsEvent('CurrentProgramSceneChanged', (d) => d.sceneName === 'Break', 10000, from);
  assert.ok(e);
  assert.ok(obs.androssLines().some((l) => /Set: set_end -> switch_scene Break/.test(l)), 'the rule ran');
});

test('set end from the set score runs the set_end rules: a Slippi Text template set, a scene switched', async (t) => {
  const defer = cleanups(t);
  const obs = await launchObs({ name: 'rules-score' });
  defer(() => obs.close());
  // nothing to reach until the rules, the score and the source are ready
  const { id } = await obs.vendorOk('AddConnection', { name: 'Bo1', url: 'console://127.0.0.1:1', autoConnect: false });
  await obs.call('CreateInput', {
    sceneName: 'Game',
    inputName: 'Scoreboard',
    inputKind: 'andross_text',
    inputSettings: { template: '{p1.score}-{p2.score}', connection: id, empty_text: 'no game' },
  });
  await obs.vendorOk('SetScore', { id, bestOf: 1 });
  const set = await obs.vendorOk('SetRules', {
    id,
    rules: [
      { event: 'set_end', action: 'set_text_template', source: 'Scoreboard', template: 'SET {p1.score}-{p2.score}' },
      { event: 'set_end', action: 'switch_scene', scene: 'Break' },
    ],
  });
  assert.deepEqual(set.broken, [], 'an andross_text source named Scoreboard and a scene Break: nothing broken');
  const sim = await startConsoleSim(['v3.13.slp'], { speed: '1' }); // one game, with a winner
  defer(() => sim.stop());
  const from = obs.obsEvents.length;
  await obs.vendorOk('UpdateConnection', { id, url: `console://127.0.0.1:${sim.port}` });
  const [setEnd] = await obs.waitEvents('set_end', 1, 30000, id);
  const e = await obs.waitObsEvent('CurrentProgramSceneChanged', (d) => d.sceneName === 'Break', 10000, from);
  assert.ok(e, 'the scene switched at the set end');
  const settings = await obs.call('GetInputSettings', { inputName: 'Scoreboard' });
  assert.equal(settings.inputSettings.template, 'SET {p1.score}-{p2.score}', 'the rule set the template');
  const shown = await waitFor(async () => {
    const r = await obs.vendorOk('GetText', { sourceName: 'Scoreboard' });
    return /^SET [01]-[01]$/.test(r.text) ? r : null;
  }, 10000, 50);
  assert.ok(shown, 'the source shows the new template with the set\'s score');
  const score = await obs.vendorOk('GetScore', { id });
  console.log(`set_end ${JSON.stringify(setEnd)}; text '${shown.text}'; score ${JSON.stringify(score)}`);
  assert.equal(shown.text.split(' ')[1].split('-').map(Number).reduce((a, b) => a + b), 1, 'one game won');
});
