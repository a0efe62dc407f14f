// SPDX-License-Identifier: GPL-2.0-or-later
// In the real OBS 29: connections are saved in the module's config folder
// ($HOME/.config/obs-studio/plugin_config/andross/connections.json) and come back, connected, when OBS restarts. A
// damaged file (garbage bytes) or a hand-edited one (a field of the wrong type) gives defaults for what is wrong,
// one warning in the OBS log, and the damaged file kept beside it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';

import {
  androssThreads,
  cleanups,
  freePort,
  launchObs,
  startConsoleSim,
  startXvfb,
  tempDir,
  writeObsConfig,
} from './lib/obs.mjs';

function configDir(home) {
  return path.join(home, '.config/obs-studio/plugin_config/andross');
}

// The [andross] lines of a log that warn about the connections file. The module words its warning as it likes, but
// it names the file and says what is wrong with it.
function configWarnings(obs) {
  return obs.androssLines().filter((l) => /connections\.json/.test(l) && /damaged|invalid|wrong|not |must|bad|cannot|error|warn|default|ignor/i.test(l));
}

function damagedCopies(home) {
  const dir = configDir(home);
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.startsWith('connections.json.damaged')) : [];
}

// Finds the saved object of the connection whose url is `url`, anywhere in the file's JSON.
function findConnection(node, url) {
  if (!node || typeof node !== 'object') return null;
  if (node.url === url) return node;
  for (const v of Object.values(node)) {
    const f = findConnection(v, url);
    if (f) return f;
  }
  return null;
}

// The settings GetConnections reports, without what changes while it runs.
function settings(c) {
  return { name: c.name, url: c.url, relay: { enabled: c.relay.enabled, listen: c.relay.listen }, folder: c.folder,
    autoConnect: c.autoConnect };
}

test('a saved connection comes back after a restart, and connects', async (t) => {
  const defer = cleanups(t);
  const sim = await startConsoleSim(['v3.13.slp'], { speed: 1, args: ['--nick', 'e2e-restart', '--loop'] });
  defer(() => sim.stop());
  const x = await startXvfb();
  defer(() => x.stop());
  const relayPort = await freePort();
  const folder = tempDir('restart-folder');

  const first = await launchObs({ name: 'restart', xvfb: x });
  defer(() => first.close());
  // one added and removed before: the saved connection's id is not the first, and must stay what it was
  const gone = await first.vendorOk('AddConnection', { name: 'Gone', url: 'demo://', autoConnect: false });
  const { id } = await first.vendorOk('AddConnection', {
    name: 'Saved setup',
    url: `console://127.0.0.1:${sim.port}`,
    relay: { enabled: true, listen: `127.0.0.1:${relayPort}` },
    folder,
    autoConnect: true,
  });
  await first.vendorOk('RemoveConnection', { id: gone.id });
  assert.notEqual(id, 1, 'the saved connection is not the first one added');
  const before = await first.waitState(id, 'connected', 20000);
  assert.equal(before.consoleNick, 'e2e-restart');
  await first.shot('restart-first');
  const exit1 = await first.stop();
  assert.equal(exit1.code, 0, `first OBS exits cleanly: ${JSON.stringify(exit1)}`);
  const file = path.join(configDir(first.home), 'connections.json');
  assert.ok(fs.existsSync(file), `the module saved ${file}`);
  JSON.parse(fs.readFileSync(file, 'utf8')); // valid JSON

  // ANDROSS_REALTIME=off: the module's threads keep normal scheduling, and the log says so (README, "Realtime scheduling")
  const second = await launchObs({ name: 'restart', home: first.home, xvfb: x, env: { ANDROSS_REALTIME: 'off' } });
  defer(() => second.close());
  const list = (await second.vendorOk('GetConnections')).connections;
  assert.equal(list.length, 1, `one connection after the restart: ${JSON.stringify(list)}`);
  assert.equal(list[0].id, id, 'the same id after the restart (scripts and scene collections keep it)');
  assert.deepEqual(settings(list[0]), settings(before), 'its settings are the ones saved');
  const back = await second.waitState(list[0].id, 'connected', 20000);
  assert.equal(back.consoleNick, 'e2e-restart', 'connected to the same console');
  assert.equal(back.relay.address, `127.0.0.1:${relayPort}`, 'its relay listens again where it did');
  await second.waitEvents('game_start', 1, 20000, list[0].id);
  assert.deepEqual(configWarnings(second), [], 'no warning about a good file');
  const lines = second.androssLines();
  assert.ok(lines.includes('[andross] realtime scheduling: off (ANDROSS_REALTIME=off)'), JSON.stringify(lines));
  assert.ok(!lines.some((l) => /realtime scheduling: (not )?granted/.test(l)), 'and asks for none');
  const threads = androssThreads(second.child.pid);
  assert.ok(threads.some((th) => th.name === 'andross: events') && threads.some((th) => /^andross: rec \d+$/.test(th.name)),
    JSON.stringify(threads));
  for (const th of threads) assert.notEqual(th.policy, 'SCHED_FIFO', `${th.name}: ${JSON.stringify(threads)}`);
  await second.shot('restart-second');
});

test('a connections file of garbage bytes: no connections, one warning, the file kept beside', async (t) => {
  const defer = cleanups(t);
  const home = tempDir('home-garbage');
  writeObsConfig(home, { wsPort: await freePort(), recDir: path.join(home, 'recordings') });
  fs.mkdirSync(configDir(home), { recursive: true });
  const garbage = Buffer.concat([Buffer.from('{"connections":[{"name":"x","url":'), Buffer.from([0xff, 0x00, 0xfe, 0x7b, 0x0a])]);
  fs.writeFileSync(path.join(configDir(home), 'connections.json'), garbage);

  const obs = await launchObs({ name: 'config-garbage', home });
  defer(() => obs.close());
  const list = (await obs.vendorOk('GetConnections')).connections;
  assert.deepEqual(list, [], 'defaults: no connections');
  const warnings = configWarnings(obs);
  assert.equal(warnings.length, 1, `one warning about the file: ${JSON.stringify(obs.androssLines())}`);
  const copies = damagedCopies(home);
  assert.equal(copies.length, 1, `the damaged file is kept beside it: ${fs.readdirSync(configDir(home)).join(', ')}`);
  assert.ok(fs.readFileSync(path.join(configDir(home), copies[0])).equals(garbage), 'the kept copy is the damaged file');

  // The module goes on: a new connection is saved in a good file.
  await obs.vendorOk('AddConnection', { name: 'After damage', url: 'console://127.0.0.1:9', autoConnect: false });
  const exit = await obs.stop();
  assert.equal(exit.code, 0);
  const saved = JSON.parse(fs.readFileSync(path.join(configDir(home), 'connections.json'), 'utf8'));
  assert.ok(findConnection(saved, 'console://127.0.0.1:9'), 'the new connection was saved');
  assert.equal(damagedCopies(home).length, 1, 'the damaged copy is still there');
});

test('a hand-edited connections file with fields of the wrong type: defaults for those, one warning', async (t) => {
  const defer = cleanups(t);
  const x = await startXvfb();
  defer(() => x.stop());
  const url = 'console://127.0.0.1:9';
  const first = await launchObs({ name: 'config-types', xvfb: x });
  defer(() => first.close());
  const { id } = await first.vendorOk('AddConnection', {
    name: 'Hand edited',
    url,
    relay: { enabled: false, listen: `127.0.0.1:${await freePort()}` },
    autoConnect: false,
  });
  const saved = settings(await first.connection(id));
  assert.equal((await first.stop()).code, 0);

  const file = path.join(configDir(first.home), 'connections.json');
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  const conn = findConnection(json, url);
  assert.ok(conn, `the saved file holds the connection: ${JSON.stringify(json)}`);
  assert.ok('autoConnect' in conn, `the saved connection has autoConnect: ${JSON.stringify(conn)}`);
  conn.autoConnect = 'yes'; // wrong type: the default (true) applies
  const edited = JSON.stringify(json, null, 2);
  fs.writeFileSync(file, edited);

  const second = await launchObs({ name: 'config-types', home: first.home, xvfb: x });
  defer(() => second.close());
  const list = (await second.vendorOk('GetConnections')).connections;
  assert.equal(list.length, 1, `the connection is kept: ${JSON.stringify(list)}`);
  const now = settings(list[0]);
  assert.equal(now.autoConnect, true, 'autoConnect of the wrong type gives its default (true)');
  assert.deepEqual({ ...now, autoConnect: saved.autoConnect }, saved, 'every other field is as saved');
  const warnings = configWarnings(second);
  assert.equal(warnings.length, 1, `one warning about the file: ${JSON.stringify(second.androssLines())}`);
  const copies = damagedCopies(first.home);
  assert.equal(copies.length, 1, `the hand-edited file is kept beside it: ${fs.readdirSync(configDir(first.home)).join(', ')}`);
  assert.equal(fs.readFileSync(path.join(configDir(first.home), copies[0]), 'utf8'), edited, 'the kept copy is the edited file');
});
