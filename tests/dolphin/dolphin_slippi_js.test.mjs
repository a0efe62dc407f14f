// SPDX-License-Identifier: GPL-2.0-or-later
// slippi-js's DolphinConnection (the real peer the Slippi tools use) against `andross dolphin-sim`: it receives
// every game byte for byte, and in the same session `andross record` writes exactly the bytes slippi-js received.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { REPLAY_DIR, fileEvents, firstDiff, record, replayEvents, startSim } from './lib/sim.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const nodeDir = path.join(here, '../node');
const haveSlippiJs = fs.existsSync(path.join(nodeDir, 'node_modules/@slippi/slippi-js'));

const GAMES = ['v3.13.slp', 'realtimeTest.slp', 'sheik_vs_ics_yoshis.slp', 'unranked_game1.slp'];

function slippiJsSpectator(port, games) {
  const require = createRequire(path.join(nodeDir, 'package.json'));
  const { DolphinConnection, ConnectionEvent, ConnectionStatus } = require('@slippi/slippi-js/node');
  const conn = new DolphinConnection();
  const got = [];
  const errors = [];
  let current = null;
  let handshake = null;
  const done = new Promise((resolve) => {
    conn.on(ConnectionEvent.HANDSHAKE, (d) => (handshake = d));
    conn.on(ConnectionEvent.ERROR, (e) => errors.push(String(e)));
    conn.on(ConnectionEvent.MESSAGE, (m) => {
      if (m.type === 'start_game') got.push((current = []));
      if (m.type === 'end_game' && got.length === games) resolve();
    });
    conn.on(ConnectionEvent.DATA, (d) => current && current.push(Buffer.from(d)));
    conn.on(ConnectionEvent.STATUS_CHANGE, (s) => s === ConnectionStatus.DISCONNECTED && resolve());
  });
  conn.connect('127.0.0.1', port);
  return {
    done,
    close: () => conn.disconnect(),
    result: () => ({ games: got.map((chunks) => Buffer.concat(chunks)), errors, handshake }),
  };
}

test('slippi-js DolphinConnection gets every game byte for byte, and andross record the same bytes', { skip: !haveSlippiJs && 'tests/node/node_modules missing (cd tests/node && npm ci)' }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'andross-dolphin-sjs-'));
  const sim = await startSim([...GAMES.flatMap((g) => ['--replay', path.join(REPLAY_DIR, g)]), '--listen', '127.0.0.1:0', '--speed', 'max', '--wait', '2', '--menu-ms', '100']);
  const js = slippiJsSpectator(sim.port, GAMES.length);
  const rec = record(sim.port, out, ['--games', String(GAMES.length)]);
  await js.done;
  const r = await rec;
  js.close();
  await sim.exited;
  const { games, errors, handshake } = js.result();
  assert.deepEqual(errors, []);
  assert.equal(handshake.consoleNick, 'Slippi Online');
  assert.equal(games.length, GAMES.length);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.files.length, GAMES.length, r.stderr);
  GAMES.forEach((name, i) => {
    const want = replayEvents(name);
    let d = firstDiff(games[i], want);
    assert.equal(d, -1, `slippi-js ${name}: first difference at ${d} (${games[i].length} vs ${want.length} bytes)`);
    const ours = fileEvents(r.files[i]).events;
    d = firstDiff(ours, games[i]);
    assert.equal(d, -1, `andross vs slippi-js ${name}: first difference at ${d}`);
  });
});
