// SPDX-License-Identifier: GPL-2.0-or-later
// `andross record --source dolphin://` against `andross dolphin-sim` serving real replays: every game byte for byte,
// connection events, a dropped link resumed without duplicates, and a restarted Dolphin reported as a gap.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { spawnSync } from 'node:child_process';
import { ANDROSS, REPLAY_DIR, fileEvents, firstDiff, record, replayEvents, startSim } from './lib/sim.mjs';

const tmp = (tag) => fs.mkdtempSync(path.join(os.tmpdir(), `andross-dolphin-${tag}-`));

function assertSameGame(file, replay) {
  const c = fileEvents(file);
  const want = replayEvents(replay);
  const d = firstDiff(c.events, want);
  assert.equal(d, -1, `${file} vs ${replay}: first difference at event byte ${d} (${c.events.length} vs ${want.length} bytes)`);
  assert.equal(c.inProgress, false, `${file} is finished`);
}

function states(events) {
  return events.filter((e) => e.type === 'connection').map((e) => e.state);
}

const GAMES = [
  'v3.13.slp', // modern, bookends, Gecko list as Message Splitter chunks
  'sheik_vs_ics_yoshis.slp', // 0.1.0: no Frame Start, no bookend
  '200306_2258_Falco_v_Fox_PS.slp', // 3.3.0: first with Message Splitter
  'realtimeTest.slp', // 2.0.1: no bookend, LRAS
  'unranked_game1.slp',
];

test('record gets every game byte for byte at --speed max', async () => {
  const out = tmp('max');
  const sim = await startSim([...GAMES.flatMap((g) => ['--replay', path.join(REPLAY_DIR, g)]), '--listen', '127.0.0.1:0', '--speed', 'max', '--wait', '1', '--menu-ms', '50']);
  const r = await record(sim.port, out, ['--games', String(GAMES.length)]);
  const s = await sim.exited;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(s.code, 0, sim.stderr());
  assert.equal(r.files.length, GAMES.length, r.stderr);
  GAMES.forEach((g, i) => assertSameGame(r.files[i], g));
  assert.deepEqual(states(r.events).slice(0, 2), ['connecting', 'connected']);
  assert.match(r.events[1].reason, /Slippi Online/);
  assert.equal(r.events.filter((e) => e.type === 'gap').length, 0);
  // the files read back
  for (const f of r.files) assert.equal(spawnSync(ANDROSS, ['inspect', f]).status, 0, f);
});

test('record at --speed 10 and the simulator ends with dolphin_closed', async () => {
  const out = tmp('x10');
  const sim = await startSim(['--replay', path.join(REPLAY_DIR, 'unranked_game1.slp'), '--listen', '127.0.0.1:0', '--speed', '10', '--wait', '1', '--menu-ms', '50']);
  const t0 = Date.now();
  // without --games: record runs until the simulator closes, then keeps retrying; stop it once it says so
  const r = await record(sim.port, out, [], {
    onEvent: (ev, child) => {
      if (ev.type === 'connection' && ev.state === 'disconnected') child.kill('SIGINT');
    },
  });
  const elapsed = Date.now() - t0;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.files.length, 1);
  assertSameGame(r.files[0], 'unranked_game1.slp');
  // 169 frames at 600 frames a second take at least a quarter of a second
  assert.ok(elapsed > 250, `took ${elapsed} ms`);
  const closed = r.events.find((e) => e.state === 'disconnected');
  assert.match(closed.reason, /closed/);
  await sim.exited;
});

test('a dropped link resumes at the cursor: no byte lost or repeated', async () => {
  const out = tmp('drop');
  // 8955 frames at 60 x 50 frames a second: 3 s, so the game still runs when the source comes back
  const sim = await startSim(['--replay', path.join(REPLAY_DIR, '200306_2258_Falco_v_Fox_PS.slp'), '--replay', path.join(REPLAY_DIR, 'unranked_game1.slp'), '--listen', '127.0.0.1:0', '--speed', '50', '--wait', '1', '--menu-ms', '50', '--drop-after', '60']);
  const r = await record(sim.port, out, ['--games', '2']);
  await sim.exited;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.files.length, 2, r.stderr);
  assertSameGame(r.files[0], '200306_2258_Falco_v_Fox_PS.slp');
  assertSameGame(r.files[1], 'unranked_game1.slp');
  const st = states(r.events);
  assert.deepEqual(st.slice(0, 5), ['connecting', 'connected', 'waiting', 'connecting', 'connected'], JSON.stringify(r.events));
  assert.match(r.events[4].reason, /from message 61/);
  assert.equal(r.events.filter((e) => e.type === 'gap').length, 0);
  assert.match(sim.stderr(), /asked for cursor 61, resumes at 61/);
});

test('a restarted Dolphin no longer has the cursor: a gap, the cut game finalised, the next game whole', async () => {
  const out = tmp('restart');
  const long = path.join(REPLAY_DIR, 'v3.14.0.slp');
  const sim1 = await startSim(['--replay', long, '--listen', '127.0.0.1:0', '--speed', '20', '--wait', '1']);
  const port = sim1.port;
  let sim2;
  let killed = false;
  // the cut game counts as one
  const r = await record(port, out, ['--games', '2'], {
    onEvent: async (ev) => {
      if (ev.type === 'connection' && ev.state === 'connected' && !killed) {
        killed = true;
        setTimeout(() => sim1.child.kill('SIGTERM'), 1500);
      }
      if (ev.type === 'connection' && ev.state === 'disconnected' && !sim2) {
        await sim1.exited;
        sim2 = await startSim(['--replay', path.join(REPLAY_DIR, 'v3.13.slp'), '--listen', `127.0.0.1:${port}`, '--speed', 'max', '--wait', '1']);
      }
    },
  });
  if (sim2) await sim2.exited;
  assert.equal(r.code, 0, r.stderr);
  const gaps = r.events.filter((e) => e.type === 'gap');
  assert.equal(gaps.length, 1, JSON.stringify(r.events));
  assert.match(gaps[0].reason, /Dolphin closed during a game/);
  assert.equal(r.files.length, 2, r.stderr);
  // the cut game: finalised, readable, a prefix of the replay
  const cut = fileEvents(r.files[0]);
  assert.equal(cut.inProgress, false);
  const want = replayEvents('v3.14.0.slp');
  assert.ok(cut.events.length > 0 && cut.events.length < want.length);
  assert.equal(firstDiff(cut.events, want.subarray(0, cut.events.length)), -1);
  assert.equal(spawnSync(ANDROSS, ['inspect', r.files[0]]).status, 0);
  assertSameGame(r.files[1], 'v3.13.slp');
});
