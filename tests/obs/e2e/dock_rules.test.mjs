// SPDX-License-Identifier: GPL-2.0-or-later
// The dock's rule editor in the real OBS 29 under Xvfb, driven through X (xdotool) at the places GetDock gives:
// - a SetRules over obs-websocket shows in the card's rule list (a broken rule with its reason), and the time it
//   took is printed;
// - through the rules dialog: the broken rule removed, and a rule "game start -> switch to scene Dock scene" added
//   with the rule editor (a scene made with obs-websocket, typed into the scene picker); GetRules has it;
// - it works: `andross console-sim` starts a game and OBS's program scene becomes "Dock scene";
// - the card's score row: the game's point, then its Swap and Reset buttons (clicked through X) as GetScore reports.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import test from 'node:test';

import { cleanups, freePort, launchObs, startConsoleSim, waitFor } from './lib/obs.mjs';

const card = (dock, name) => dock.cards.find((c) => c.name === name);

// Clicks what at(dock) points at until pred(dock) holds (a click can be lost while a window is being mapped on a
// loaded machine): up to 3 clicks. Resolves the dock that satisfied pred.
async function clickUntil(obs, at, pred, what, waitMs = 4000) {
  for (let i = 0; i < 3; i++) {
    await obs.clickAt(at(await obs.dock()), what);
    const d = await waitFor(async () => {
      const x = await obs.dock();
      return pred(x) && x;
    }, waitMs);
    if (d) return d;
  }
  throw new Error(`${what}: clicked 3 times, nothing happened: ${JSON.stringify(await obs.dock()).slice(0, 3000)}`);
}

test('the dock edits rules: SetRules shows in the card, a rule added in the dialog is in GetRules and works', async (t) => {
  const defer = cleanups(t);
  const obs = await launchObs({ name: 'dock-rules' });
  defer(() => obs.close());
  await obs.waitDock((d) => d.visible && d, 20000, 'the dock');
  await obs.call('CreateScene', { sceneName: 'Lobby' });
  await obs.call('CreateScene', { sceneName: 'Dock scene' });
  await obs.call('SetCurrentSceneTransition', { transitionName: 'Cut' }); // (the default fade takes 300 ms)
  await obs.call('SetCurrentProgramScene', { sceneName: 'Lobby' });
  await obs.waitObsEvent('CurrentProgramSceneChanged', (d) => d.sceneName === 'Lobby', 10000);

  // The console is not there yet: the connection waits to reconnect, no game starts before the rule is in.
  const port = await freePort();
  const { id } = await obs.vendorOk('AddConnection', { name: 'Setup 1', url: `console://127.0.0.1:${port}` });
  let dock = await obs.waitDock((d) => card(d, 'Setup 1') && card(d, 'Setup 1').rules.length === 2 && d, 5000, 'the card');
  assert.deepEqual(card(dock, 'Setup 1').rules.map((r) => r.text), [
    'Game start → switch to scene Game',
    'Game end (GAME!, Time) → switch to scene Between games after 3 s',
  ]);
  // (the profile has a scene "Game" but none "Between games": that default is optional, skipped, not broken)
  const between = card(dock, 'Setup 1').rules[1];
  assert.deepEqual([between.skipped, between.broken, between.reason], [true, false, 'no scene named "Between games"']);

  // obs-websocket -> dock
  const t0 = performance.now();
  await obs.vendorOk('SetRules', { id, rules: [{ event: 'game_end', action: 'switch_scene', scene: 'Nope' }] });
  dock = await obs.waitDock((d) => card(d, 'Setup 1').rules.length === 1 && d, 5000, 'SetRules in the card');
  const setMs = performance.now() - t0;
  const shown = card(dock, 'Setup 1').rules[0];
  assert.equal(shown.text, 'Game end → switch to scene Nope');
  assert.equal(shown.broken, true);
  assert.equal(shown.reason, 'no scene named "Nope"');
  console.log(`SetRules -> the card shows it: ${Math.round(setMs)} ms (GetDock polled every 50 ms)`);

  // The rules dialog: remove the broken rule (select its row, Remove).
  dock = await clickUntil(obs, (d) => card(d, 'Setup 1').at.rules, (d) => d.rules && d.rules.at.add, 'Rules…');
  assert.equal(dock.rules.title, 'Rules of “Setup 1”');
  assert.equal(dock.rules.rows.length, 1);
  dock = await clickUntil(obs, (d) => d.rules.at.rows[0], (d) => d.rules.selected === 0, 'the rule');
  dock = await clickUntil(obs, (d) => d.rules.at.remove, (d) => d.rules.rows.length === 0, 'Remove');
  assert.deepEqual((await obs.vendorOk('GetRules', { id })).rules, []);

  // Add: game start (the default event), switch to scene (the default action), "Dock scene" typed into the picker.
  dock = await clickUntil(obs, (d) => d.rules.at.add, (d) => d.rules.rule && d.rules.rule.at.scene, 'Add…');
  assert.equal(dock.rules.rule.title, 'Add a rule');
  assert.ok(dock.rules.rule.scenes.some((s) => s.name === 'Dock scene'), 'the picker lists OBS scenes');
  for (let i = 0; i < 3 && dock.rules.rule.rule.scene !== 'Dock scene'; i++) {
    await obs.clickAt(dock.rules.rule.at.scene, 'scene picker');
    await obs.key('ctrl+a', 'BackSpace');
    dock = await obs.dock();
    // emptied: the parser's error beside the field
    if (dock.rules.rule.rule.scene === '') assert.equal(dock.rules.rule.errors.scene, 'Choose or type a scene (at most 255 bytes).');
    await obs.type('Dock scene');
    dock = (await waitFor(async () => {
      const d = await obs.dock();
      return d.rules.rule && d.rules.rule.rule.scene === 'Dock scene' && d;
    }, 2000)) || (await obs.dock());
  }
  assert.deepEqual(dock.rules.rule.rule, { event: 'game_start', action: 'switch_scene', scene: 'Dock scene' });
  assert.deepEqual(dock.rules.rule.errors, {});
  assert.equal(dock.rules.rule.sceneWarning, '');
  dock = await clickUntil(obs, (d) => d.rules.rule.at.save, (d) => !d.rules.rule && d.rules.rows.length === 1, 'Save');
  const got = await obs.vendorOk('GetRules', { id });
  assert.deepEqual(got.rules, [
    { event: 'game_start', action: 'switch_scene', scene: 'Dock scene', delayMs: 0, enabled: true, optional: false },
  ]);
  assert.deepEqual(got.broken, []);
  dock = await obs.waitDock((d) => card(d, 'Setup 1').rules.length === 1 && d, 5000, 'the new rule in the card');
  assert.equal(card(dock, 'Setup 1').rules[0].text, 'Game start → switch to scene Dock scene');
  await clickUntil(obs, (d) => d.rules.at.close, (d) => !d.rules, 'Close');

  // It works: the console comes, its game starts, the program scene follows.
  await obs.dock({ resetHeartbeat: true });
  const from = obs.obsEvents.length;
  const sim = await startConsoleSim(['v3.13.slp'], { speed: 1, port, args: ['--nick', 'dock-rules'] });
  defer(() => sim.stop());
  const [start] = await obs.waitEvents('game_start', 1, 30000, id);
  const changed = await waitFor(
    () => obs.obsEvents.slice(from).find((e) => e.type === 'CurrentProgramSceneChanged' && e.data.sceneName === 'Dock scene'),
    10000,
  );
  assert.ok(changed, 'the program scene became "Dock scene"');
  console.log(`game_start -> CurrentProgramSceneChanged "Dock scene": ${(changed.t - start.t).toFixed(1)} ms`);
  const logged = await waitFor(() => {
    const l = obs.androssLines().filter((x) => /switch_scene Dock scene|changed the program scene/.test(x));
    return l.length >= 2 && l;
  }, 5000);
  console.log(`OBS log: ${logged.join(' | ')}`);
  assert.ok(logged.some((l) => /Setup 1: game_start -> switch_scene Dock scene/.test(l)));

  // The score row: the game's winner has a point; Swap and Reset from the card, as GetScore reports.
  await obs.waitEvents('game_end', 1, 30000, id);
  const scored = (d) => {
    const s = card(d, 'Setup 1').score;
    return s.sides.length === 2 && s.sides[0].points + s.sides[1].points === 1 && d;
  };
  dock = await obs.waitDock(scored, 5000, 'the point on the card');
  let score = await obs.vendorOk('GetScore', { id });
  const shownScore = card(dock, 'Setup 1').score;
  console.log(`the card's score: ${shownScore.text}; GetScore: ${JSON.stringify(score.sides)}`);
  assert.deepEqual(shownScore.sides.map((s) => s.points), score.sides.map((s) => s.score));
  assert.match(shownScore.text, /^.+ [01] – [01] .+$/);
  const before = score.sides.map((s) => s.score);
  await clickUntil(obs, (d) => card(d, 'Setup 1').at.scoreSwap,
    (d) => card(d, 'Setup 1').score.sides[0].points === before[1], 'Swap');
  score = await obs.vendorOk('GetScore', { id });
  assert.deepEqual(score.sides.map((s) => s.score), [before[1], before[0]], 'GetScore: the sides swapped');
  await clickUntil(obs, (d) => card(d, 'Setup 1').at.scoreReset,
    (d) => card(d, 'Setup 1').score.sides.every((s) => s.points === 0), 'Reset');
  score = await obs.vendorOk('GetScore', { id });
  assert.deepEqual(score.sides.map((s) => s.score), [0, 0], 'GetScore: zeroed by the Reset button');
  assert.equal(score.sides.length, 2, 'the players stay');

  await obs.vendorOk('SetRules', { id, rules: [...got.rules, { event: 'game_end', action: 'hide_source', scene: 'Lobby', source: 'Gone', delayMs: 3000 }] });
  await obs.waitDock((d) => card(d, 'Setup 1').rules.length === 2 && d, 5000, 'two rules');
  console.log(`screenshot: ${await obs.shot('dock-rules')}`);

  const hb = (await obs.dock()).heartbeat;
  console.log(`UI thread: max gap ${hb.maxGapMs.toFixed(1)} ms, longest dock refresh ${hb.maxRefreshMs.toFixed(2)} ms`);
  const exit = await obs.stop();
  assert.equal(exit.signal, null, `OBS exited cleanly: ${JSON.stringify(exit)}`);
  assert.equal(exit.code, 0);
});
