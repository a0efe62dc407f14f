// SPDX-License-Identifier: GPL-2.0-or-later
// The README's Quick start demo, tools/obs-demo.sh, as a user runs it on a machine without a display: OBS under
// Xvfb with andross, a demo:// connection (the simulated Wii inside OBS) added while OBS records, the game's events
// printed as JSON Lines, the recording, its .slp beside it and its sidecar, and a screenshot of OBS.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';

import { BUILD_DIR, countColor, GAME_RGB, PLUGIN_BIN, REPO, run, tempDir } from './lib/obs.mjs';

test('tools/obs-demo.sh --seconds 10: a demo:// game recorded in OBS, its events, files and a screenshot', async () => {
  const home = tempDir('demo-home');
  const env = { ...process.env, ANDROSS_DEMO_HOME: home, ANDROSS_BUILD_DIR: BUILD_DIR, ANDROSS_OBS_PLUGIN_BIN: PLUGIN_BIN };
  delete env.DISPLAY; // as on a server: it must start its own Xvfb
  const r = await run(path.join(REPO, 'tools/obs-demo.sh'), ['--seconds', '10'], { timeoutMs: 180000, env });
  const say = `exit ${r.code}\nstderr:\n${r.stderr}\nstdout:\n${r.stdout.slice(0, 3000)}`;
  assert.equal(r.code, 0, say);

  // The events: JSON Lines, each with the connection, starting with the demo console's connection and its game.
  const events = r.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  for (const e of events) assert.equal(e.connection && e.connection.name, 'Demo', `every event names its connection: ${JSON.stringify(e)}`);
  const types = events.map((e) => e.type);
  assert.ok(events.some((e) => e.type === 'connection' && e.state === 'connected'), `a connected event: ${types}`);
  assert.equal(types.filter((t) => t === 'game_start').length, 1, `one game_start in 10 s: ${types}`);
  assert.ok(types.indexOf('connection') < types.indexOf('game_start'), `connected before the game: ${types}`);

  // The files it names.
  const line = (what) => (new RegExp(`^obs-demo: ${what}: +(.+)$`, 'm').exec(r.stderr) || [])[1];
  const video = line('recording');
  const sidecar = line('sidecar');
  const shot = line('screenshot');
  assert.ok(video && fs.existsSync(video) && fs.statSync(video).size > 0, `the recording exists: ${video}\n${say}`);
  assert.ok(sidecar && fs.existsSync(sidecar), `the sidecar exists: ${sidecar}`);
  const base = path.basename(video, path.extname(video));
  assert.equal(sidecar, path.join(path.dirname(video), `${base}.andross.json`));
  const games = JSON.parse(fs.readFileSync(sidecar, 'utf8')).games;
  assert.equal(games.length, 1, `the sidecar lists the game: ${JSON.stringify(games)}`);
  const slp = path.resolve(path.dirname(sidecar), games[0].file);
  assert.equal(path.dirname(slp), path.dirname(video), `the .slp ${slp} is beside the video`);
  assert.ok(path.basename(slp).startsWith(base), `the .slp ${slp} is named after the video`);
  assert.ok(fs.statSync(slp).size > 10000, 'the .slp holds the game so far');
  assert.ok(shot && fs.existsSync(shot), `a screenshot: ${shot}`);
  const px = await countColor(shot, GAME_RGB);
  assert.ok(px.matching > 0.1 * px.total, `the screenshot shows OBS with the Game scene (${px.matching} of ${px.total})`);
  // The Slippi dock in the screenshot: its card, connected, during the game.
  assert.match(r.stderr, /^obs-demo: dock: Demo: Connected to “.+” at the demo inside OBS \| .+ \| P\d /m, say);
  fs.mkdirSync(path.join(BUILD_DIR, 'test-logs/obs'), { recursive: true });
  fs.copyFileSync(shot, path.join(BUILD_DIR, 'test-logs/obs', 'demo.png'));
});
