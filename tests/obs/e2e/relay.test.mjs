// SPDX-License-Identifier: GPL-2.0-or-later
// In the real OBS 29: SetRelay switches a connection's relay on and off at runtime. On: a slippi-js
// ConsoleConnection and a raw TCP client both get the whole game. Off: the port refuses connections, and the
// connection stays connected and keeps recording (the next game's .slp is still written whole).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import test from 'node:test';

import { consoleClient, rawClient, stripFillers } from '../../relay/lib/relay.mjs';
import { completeEventBytes, firstDifference, readContainer } from '../../node/lib/slp.mjs';
import { freePort, launchObs, replayPath, startConsoleSim, tempDir, waitFor, cleanups } from './lib/obs.mjs';

const REPLAYS = ['unranked_game1.slp', 'v3.13.slp']; // 2.8 s then 2.5 s of play, 1 s of menu between them

function events(name) {
  return completeEventBytes(fs.readFileSync(replayPath(name))).bytes;
}

// Resolves 'refused' when a TCP connect to the port is refused, 'connected' when it is accepted.
function probe(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e) => resolve(e.code === 'ECONNREFUSED' ? 'refused' : e.code));
  });
}

test('SetRelay on: slippi-js and a raw client get the whole game; off: the port closes, recording goes on', async (t) => {
  const defer = cleanups(t);
  const sim = await startConsoleSim(REPLAYS, { speed: 1, args: ['--nick', 'e2e-relay', '--loop'] }); // stays up after game 2
  defer(() => sim.stop());
  const obs = await launchObs({ name: 'relay' });
  defer(() => obs.close());
  const folder = tempDir('relay-folder');
  const port = await freePort();

  const { id } = await obs.vendorOk('AddConnection', {
    name: 'Relayed',
    url: `console://127.0.0.1:${sim.port}`,
    relay: { enabled: false },
    folder,
  });
  const on = await obs.vendorOk('SetRelay', { id, enabled: true, listen: `127.0.0.1:${port}` });
  assert.equal(on.enabled, true);
  assert.equal(on.address, `127.0.0.1:${port}`, 'SetRelay answers the address it bound');

  const sjs = consoleClient(port, 'obs-relay');
  const raw = rawClient(port);
  defer(() => {
    sjs.close();
    raw.sock.destroy();
  });

  // Both get game 1 whole, however far it was when they connected (the relay serves a game from its start).
  const game1 = events(REPLAYS[0]);
  assert.ok(await sjs.waitFiles(1, 30000), `slippi-js completed a file (errors: ${sjs.errors.join('; ')})`);
  const sjsEvents = readContainer(fs.readFileSync(sjs.completed[0])).events;
  assert.equal(firstDifference(game1, sjsEvents), -1, `slippi-js file ${sjs.completed[0]} holds game 1 byte for byte`);
  const rawWhole = await waitFor(() => stripFillers(raw.bytes()).length >= game1.length, 15000);
  const rawEvents = stripFillers(raw.bytes());
  assert.ok(rawWhole, `the raw client got ${rawEvents.length} of game 1's ${game1.length} event bytes`);
  assert.equal(firstDifference(game1, rawEvents.subarray(0, game1.length)), -1, 'the raw client got game 1 byte for byte');
  await obs.shot('relay-on');

  const clientsSeen = obs.events('relay_client', id).filter((e) => e.eventData.event === 'connected');
  assert.deepEqual(clientsSeen.map((e) => e.eventData.mode).sort(), ['console', 'raw'], 'relay_client events');
  const listed = await obs.connection(id);
  assert.equal(listed.relay.enabled, true);
  assert.equal(listed.relay.address, `127.0.0.1:${port}`);
  assert.ok(listed.relay.clients.length >= 2, `GetConnections lists the relay's clients: ${JSON.stringify(listed.relay)}`);

  // Off, during game 2.
  await obs.waitEvents('game_start', 2, 20000, id);
  const off = await obs.vendorOk('SetRelay', { id, enabled: false });
  assert.equal(off.enabled, false);
  assert.equal(await probe(port), 'refused', 'the relay port refuses connections once the relay is off');
  assert.ok(await waitFor(() => raw.closed, 5000), 'the raw client was closed when the relay went off');
  const during = await obs.connection(id);
  assert.equal(during.state, 'connected', `the connection stays connected: ${JSON.stringify(during)}`);
  assert.equal(during.relay.enabled, false);

  // Game 2 is recorded whole into the connection's folder (OBS is not recording).
  await obs.waitEvents('game_end', 2, 30000, id);
  const saved = await obs.waitEvents('replay_saved', 2, 30000, id);
  const file2 = saved[1].eventData.path;
  assert.equal(path.dirname(path.resolve(file2)), path.resolve(folder), `game 2 went to the connection folder: ${file2}`);
  const out2 = readContainer(fs.readFileSync(file2));
  assert.notEqual(out2.rawLength, 0, 'game 2 file finished');
  assert.equal(firstDifference(events(REPLAYS[1]), out2.events), -1, 'game 2 recorded byte for byte after the relay went off');
  assert.equal((await obs.connection(id)).state, 'connected', 'still connected after game 2');
  assert.equal(await probe(port), 'refused', 'still refused');
});
