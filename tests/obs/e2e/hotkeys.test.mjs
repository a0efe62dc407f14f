// SPDX-License-Identifier: GPL-2.0-or-later
// In the real OBS 29: each connection has four hotkeys in OBS's hotkey settings (andross.connection.<id>.connect,
// .disconnect, .relay_on, .relay_off), registered for the connections added later (AddConnection) and gone with the
// removed ones. Fired through obs-websocket's TriggerHotkeyByName they disconnect and connect the connection
// (GetConnections' state) and switch its relay (the relay port accepts, then refuses, a client). Bindings are saved
// in the module's hotkeys.json, keyed by the connection's name and URL, and loaded at the next start: a binding
// written there is bound after a restart (OBS's own obs_hotkey_save gives it back) and a real key press on the X
// display (xdotool) fires it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import test from 'node:test';

import { cleanups, freePort, launchObs, run, sleep, startConsoleSim, startXvfb, tempDir, waitFor } from './lib/obs.mjs';

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

const ACTIONS = ['connect', 'disconnect', 'relay_on', 'relay_off'];

async function androssHotkeys(obs) {
  const { hotkeys } = await obs.call('GetHotkeyList');
  return hotkeys.filter((h) => h.startsWith('andross.connection.')).sort();
}

function names(id) {
  return ACTIONS.map((a) => `andross.connection.${id}.${a}`).sort();
}

// Waits until the andross hotkeys are exactly `want`; resolves the last list.
async function waitHotkeys(obs, want, timeoutMs = 10000) {
  let last;
  const ok = await waitFor(async () => {
    last = await androssHotkeys(obs);
    return JSON.stringify(last) === JSON.stringify([...want].sort());
  }, timeoutMs, 100);
  assert.ok(ok, `hotkeys ${JSON.stringify(last)}, want ${JSON.stringify(want)}`);
  return last;
}

async function trigger(obs, name) {
  await obs.call('TriggerHotkeyByName', { hotkeyName: name });
}

test('connection hotkeys follow the list and connect, disconnect and switch the relay', async (t) => {
  const defer = cleanups(t);
  const sim = await startConsoleSim(['v3.14.0.slp'], { speed: 1, args: ['--loop'] });
  defer(() => sim.stop());
  const obs = await launchObs({ name: 'hotkeys' });
  defer(() => obs.close());
  const port = await freePort();
  assert.deepEqual(await androssHotkeys(obs), [], 'no connection, no hotkey');

  const { id } = await obs.vendorOk('AddConnection', {
    name: 'Wii',
    url: `console://127.0.0.1:${sim.port}`,
    relay: { enabled: false, listen: `127.0.0.1:${port}` },
    folder: tempDir('hotkeys-folder'),
  });
  await waitHotkeys(obs, names(id));
  await obs.waitState(id, 'connected', 20000);

  await trigger(obs, `andross.connection.${id}.disconnect`);
  await obs.waitState(id, 'disconnected', 10000);
  await trigger(obs, `andross.connection.${id}.disconnect`); // again: stays disconnected
  await sleep(300);
  assert.equal((await obs.connection(id)).state, 'disconnected');
  await trigger(obs, `andross.connection.${id}.connect`);
  await obs.waitState(id, 'connected', 20000);

  assert.equal(await probe(port), 'refused', 'relay off at first');
  await trigger(obs, `andross.connection.${id}.relay_on`);
  assert.ok(await waitFor(async () => (await obs.connection(id)).relay.enabled, 5000), 'relay on after the hotkey');
  assert.equal(await probe(port), 'connected', 'the relay port takes a client');
  await trigger(obs, `andross.connection.${id}.relay_off`);
  assert.ok(await waitFor(async () => !(await obs.connection(id)).relay.enabled, 5000), 'relay off after the hotkey');
  assert.equal(await probe(port), 'refused', 'the relay port refuses clients');
  assert.equal((await obs.connection(id)).state, 'connected', 'the relay hotkeys leave the connection connected');

  // A second connection gets its own; a removed one loses its.
  const { id: id2 } = await obs.vendorOk('AddConnection', {
    name: 'Wii 2',
    url: 'console://127.0.0.1:1',
    folder: tempDir('hotkeys-folder2'),
  });
  await waitHotkeys(obs, [...names(id), ...names(id2)]);
  await obs.vendorOk('RemoveConnection', { id });
  await waitHotkeys(obs, names(id2));
  await trigger(obs, `andross.connection.${id}.connect`).then(
    () => assert.fail('a removed connection has no hotkey'),
    (e) => assert.match(e.message, /hotkey/i),
  );
  const log = obs.androssLines().filter((l) => l.includes('hotkey'));
  console.log(log.join('\n'));
});

test('bindings are saved in hotkeys.json by connection name and loaded at the next start', async (t) => {
  const defer = cleanups(t);
  const sim = await startConsoleSim(['v3.14.0.slp'], { speed: 1, args: ['--loop'] });
  defer(() => sim.stop());
  const xvfb = await startXvfb();
  defer(() => xvfb.stop());
  const home = tempDir('hotkeys-home');
  const url = `console://127.0.0.1:${sim.port}`;

  // First run: a connection; quitting saves its connections.json. hotkeys.json has its four (unbound) hotkeys.
  let obs = await launchObs({ name: 'hotkeys-save', home, xvfb });
  const { id } = await obs.vendorOk('AddConnection', { name: 'Stage Wii', url, folder: tempDir('hotkeys-f') });
  await waitHotkeys(obs, names(id));
  await obs.close();
  const file = path.join(home, '.config/obs-studio/plugin_config/andross/hotkeys.json');
  assert.ok(fs.existsSync(file), `${file} written`);
  const saved = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.equal(saved.connections.length, 1);
  assert.equal(saved.connections[0].name, 'Stage Wii');
  assert.equal(saved.connections[0].url, url);
  assert.deepEqual(saved.connections[0].disconnect, [], 'nothing bound yet');

  // Bind F9 to "disconnect" in the file, as OBS's settings would (OBS's binding format), and start again.
  saved.connections[0].disconnect = [{ key: 'OBS_KEY_F9' }];
  fs.writeFileSync(file, JSON.stringify(saved));
  obs = await launchObs({ name: 'hotkeys-load', home, xvfb });
  defer(() => obs.close());
  const ids = (await obs.vendorOk('GetConnections')).connections.map((c) => c.id);
  assert.equal(ids.length, 1);
  await waitHotkeys(obs, names(ids[0]));
  await obs.waitState(ids[0], 'connected', 20000);

  // A real key press on the X display: OBS's hotkey thread sees F9 and disconnects the connection.
  const env = { ...process.env, DISPLAY: xvfb.display };
  const r = await run('xdotool', ['key', '--delay', '100', 'F9'], { env, timeoutMs: 10000 });
  assert.equal(r.code, 0, `xdotool: ${r.stderr}`);
  await obs.waitState(ids[0], 'disconnected', 10000);

  // A rename saves the file again, from OBS's own bindings: F9 is still bound, under the new name.
  await obs.vendorOk('UpdateConnection', { id: ids[0], name: 'Main Wii' });
  const resaved = await waitFor(() => {
    const d = JSON.parse(fs.readFileSync(file, 'utf8'));
    return d.connections[0].name === 'Main Wii' ? d : null;
  }, 10000, 100);
  assert.ok(resaved, 'hotkeys.json saved after the rename');
  assert.deepEqual(
    resaved.connections[0].disconnect.map((b) => b.key),
    ['OBS_KEY_F9'],
    `the binding loaded at start is OBS's: ${JSON.stringify(resaved.connections[0])}`,
  );
  await obs.close();

  // A damaged file (and no backup to fall back on): a warning, the file kept aside, the hotkeys registered unbound,
  // OBS runs on.
  fs.rmSync(`${file}.bak`, { force: true });
  fs.writeFileSync(file, '{"connections": [ {"name": "Main Wii", "disconnect": [{"key": ');
  obs = await launchObs({ name: 'hotkeys-damaged', home, xvfb });
  defer(() => obs.close());
  const id3 = (await obs.vendorOk('GetConnections')).connections[0].id;
  await waitHotkeys(obs, names(id3));
  assert.ok(
    obs.androssLines().some((l) => l.includes('cannot be read as andross\'s hotkeys')),
    `a warning in the log: ${obs.androssLines().join(' | ')}`,
  );
  await obs.vendorOk('UpdateConnection', { id: id3, name: 'Spare Wii' });
  const rewritten = await waitFor(() => {
    try {
      const d = JSON.parse(fs.readFileSync(file, 'utf8'));
      return d.connections[0].name === 'Spare Wii' ? d : null;
    } catch {
      return null;
    }
  }, 10000, 100);
  assert.ok(rewritten, 'hotkeys.json written again after the rename');
  assert.deepEqual(rewritten.connections[0].disconnect, [], 'nothing bound from the damaged file');
  const aside = fs.readdirSync(path.dirname(file)).filter((f) => f.startsWith('hotkeys.json.damaged-'));
  assert.equal(aside.length, 1, `the damaged file kept aside: ${aside}`);
  assert.match(fs.readFileSync(path.join(path.dirname(file), aside[0]), 'utf8'), /"key": $/, 'as it was');
});
