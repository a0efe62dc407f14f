// SPDX-License-Identifier: GPL-2.0-or-later
// The Slippi dock in the real OBS 29 under Xvfb, driven through X (xdotool: the pointer and the keyboard) at the
// places GetDock says its widgets are: the dock is there, docked on the right the first time; the add dialog lists
// a console announcing itself (the simulator's SLIP_READY datagrams); a demo:// connection added through the dialog
// connects (the card and GetConnections agree) and shows its game (a screenshot of OBS during it goes to the logs); its relay switched on from the card serves a slippi-js ConsoleConnection and
// lists it, switched off closes the port; changes made over obs-websocket (AddConnection, SetRelay,
// RemoveConnection) reach the dock within a few refreshes; remove asks first.
import assert from 'node:assert/strict';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import test from 'node:test';

import { consoleClient } from '../../relay/lib/relay.mjs';
import { cleanups, launchObs, run, startConsoleSim, waitFor } from './lib/obs.mjs';

const card = (dock, name) => dock.cards.find((c) => c.name === name);

function refused(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('connect', () => (s.destroy(), resolve(false)));
    s.on('error', (e) => resolve(e.code === 'ECONNREFUSED'));
  });
}

// Clicks what at(dock) points at until pred(dock) holds (a click can be lost while a window is being mapped on a
// loaded machine): up to 3 clicks, each given waitMs to show. Resolves the dock that satisfied pred.
async function clickUntil(obs, at, pred, what, waitMs = 4000) {
  let last;
  for (let i = 0; i < 3; i++) {
    await obs.clickAt(at(await obs.dock()), what);
    last = await waitFor(async () => {
      const d = await obs.dock();
      return pred(d) && d;
    }, waitMs);
    if (last) return last;
  }
  throw new Error(`${what}: clicked 3 times, nothing happened: ${JSON.stringify(await obs.dock()).slice(0, 2000)}`);
}

test('the Slippi dock: docked, a demo connection added through it, its relay, websocket changes', async (t) => {
  const defer = cleanups(t);
  const obs = await launchObs({ name: 'dock' });
  defer(() => obs.close());

  // There, visible and docked: inside the main window on its right, not a window of its own.
  // (OBS's window is given the whole screen once it is up: the dock follows its right edge)
  const right = (d) => d.visible && d.rect && d.rect.width > 0 && d.rect.x + d.rect.width >= obs.xvfb.width - 10;
  const first = await obs.waitDock((d) => right(d) && d, 20000, 'the dock, visible on the right edge');
  assert.equal(first.empty, true);
  const floating = await run('xdotool', ['search', '--onlyvisible', '--maxdepth', '1', '--name', '^Slippi$'], {
    env: { ...process.env, DISPLAY: obs.display },
  });
  assert.equal(floating.stdout.trim(), '', 'no top-level window "Slippi" (a child of the root): the dock is docked');
  assert.ok(obs.androssLines().some((l) => l.includes('Slippi dock added')), obs.androssLines().join('\n'));
  const version = await obs.call('GetVersion');
  assert.match(version.obsVersion, /^29\./);

  // A Wii announcing itself (the simulator's SLIP_READY datagrams to 127.0.0.1:20582) is listed in the dialog.
  const wii = await startConsoleSim(['v3.13.slp'], { args: ['--nick', 'Station 7', '--broadcast', '127.0.0.1:20582'] });
  defer(() => wii.stop());

  // Add through the dialog: the button, the name typed, Tab to the kind and End (Demo is the last), Save.
  let dock = await clickUntil(obs, (d) => d.at.add, (d) => d.dialog && d.dialog.at && d.dialog.at.name, 'add button');
  assert.equal(dock.dialog.title, 'Add a connection');
  const listed = await waitFor(async () => {
    const d = await obs.dock();
    return d.dialog && d.dialog.consoles.some((c) => c.text === 'Station 7 (127.0.0.1)') && d;
  }, 10000);
  console.log(`consoles listed in the dialog: ${JSON.stringify(((listed || (await obs.dock())).dialog || {}).consoles)}`);
  assert.ok(listed, 'the announcing console is listed in the add dialog');
  await wii.stop();
  // empty: refused beside the fields, nothing added
  dock = await clickUntil(obs, (d) => d.dialog.at.save, (d) => d.dialog && d.dialog.errors.nameError, 'save');
  assert.equal(dock.dialog.errors.nameError, 'Give it a name.');
  assert.deepEqual((await obs.vendorOk('GetConnections')).connections, []);
  // (a dialog just mapped may not take the first keys yet: the field is checked, and typed again if empty)
  for (let i = 0; i < 3 && dock.dialog.name !== 'Demo Wii'; i++) {
    await obs.clickAt(dock.dialog.at.name, 'name field');
    await obs.key('ctrl+a', 'BackSpace');
    await obs.type('Demo Wii');
    dock = (await waitFor(async () => {
      const d = await obs.dock();
      return d.dialog && d.dialog.name === 'Demo Wii' && d;
    }, 2000)) || (await obs.dock());
  }
  assert.equal(dock.dialog.name, 'Demo Wii');
  for (let i = 0; i < 3 && dock.dialog.kind !== 3; i++) {
    await obs.clickAt(dock.dialog.at.name, 'name field');
    await obs.key('Tab', 'End'); // the tab order goes name -> kind; End picks its last entry
    dock = (await waitFor(async () => {
      const d = await obs.dock();
      return d.dialog && d.dialog.kind === 3 && d;
    }, 2000)) || (await obs.dock());
  }
  assert.equal(dock.dialog.kind, 3, 'the kind is Demo');
  const t0 = performance.now();
  dock = await clickUntil(obs, (d) => d.dialog.at.save, (d) => !d.dialog && card(d, 'Demo Wii'), 'save', 8000);
  const conns = (await obs.vendorOk('GetConnections')).connections;
  assert.equal(conns.length, 1);
  assert.equal(conns[0].name, 'Demo Wii');
  assert.equal(conns[0].url, 'demo://');
  const id = conns[0].id;
  const connected = await obs.waitDock((d) => card(d, 'Demo Wii').state === 'connected' && d, 20000, 'connected');
  console.log(`added through the dialog, connected in the dock ${Math.round(performance.now() - t0)} ms after Save`);
  assert.match(card(connected, 'Demo Wii').stateText, /^Connected to “.+” at the demo inside OBS$/);
  assert.equal((await obs.waitState(id, 'connected', 10000)).state, 'connected');

  // The game in progress on the card, and a screenshot of OBS with the dock during it.
  dock = await obs.waitDock((d) => card(d, 'Demo Wii').players.length >= 2 && d, 60000, 'a game on the card');
  const playing = card(dock, 'Demo Wii');
  const lines = playing.players.map((p) => p.text);
  console.log(`the card during the game: ${playing.game} | ${lines.join(' | ')}`);
  assert.notEqual(playing.game, 'In menus');
  for (const l of lines) assert.match(l, /^P[1-4] .+ · \d+%$/);
  const shot = await obs.shot('dock-game');
  console.log(`screenshot: ${shot}`);

  // The relay from the card: on, a slippi-js ConsoleConnection served and listed, off.
  dock = await clickUntil(obs, (d) => card(d, 'Demo Wii').at.relay, (d) => card(d, 'Demo Wii').relayAddress, 'relay on', 8000);
  const address = card(dock, 'Demo Wii').relayAddress;
  const port = Number(address.split(':').pop());
  const entry = await obs.connection(id);
  assert.equal(entry.relay.enabled, true);
  assert.equal(entry.relay.address, address);
  const client = consoleClient(port, 'dock');
  defer(() => client.close());
  assert.ok(await waitFor(() => client.handshakes.length > 0, 15000), `slippi-js handshake: ${client.errors}`);
  dock = await obs.waitDock((d) => card(d, 'Demo Wii').clients === 1 && d, 10000, 'one client on the card');
  assert.equal(card(dock, 'Demo Wii').clientsText, '1 client');
  assert.equal((await obs.connection(id)).relay.clients.length, 1);
  const clientsButton = (d) => card(d, 'Demo Wii').at.clients;
  await clickUntil(obs, clientsButton, (d) => d.clientList && d.clientList.rows === 1, 'clients button');
  client.close();
  await clickUntil(obs, (d) => d.clientList.close, (d) => !d.clientList, 'close the client list');
  const off = (d) => !card(d, 'Demo Wii').relayAddress && !card(d, 'Demo Wii').relaySwitch;
  await clickUntil(obs, (d) => card(d, 'Demo Wii').at.relay, off, 'relay off', 8000);
  assert.equal((await obs.connection(id)).relay.enabled, false);
  assert.ok(await waitFor(() => refused(port), 5000), `port ${port} refuses connections once the relay is off`);

  // obs-websocket -> dock: one source of truth.
  let w0 = performance.now();
  const { id: wsId } = await obs.vendorOk('AddConnection', { name: 'Over WS', url: 'console://127.0.0.1:1' });
  await obs.waitDock((d) => card(d, 'Over WS'), 5000, 'the websocket connection');
  const addMs = performance.now() - w0;
  w0 = performance.now();
  await obs.vendorOk('SetRelay', { id: wsId, enabled: true, listen: '127.0.0.1:0' });
  dock = await obs.waitDock((d) => card(d, 'Over WS').relaySwitch && card(d, 'Over WS').relayAddress && d, 5000, 'SetRelay');
  const relayMs = performance.now() - w0;
  assert.equal(card(dock, 'Over WS').relayAddress, (await obs.connection(wsId)).relay.address);
  assert.match(card(dock, 'Over WS').state, /connecting|reconnecting|disconnected/);
  w0 = performance.now();
  await obs.vendorOk('RemoveConnection', { id: wsId });
  await obs.waitDock((d) => !card(d, 'Over WS'), 5000, 'the card gone');
  const removeMs = performance.now() - w0;
  console.log(`websocket -> dock: AddConnection ${Math.round(addMs)} ms, SetRelay ${Math.round(relayMs)} ms, ` +
    `RemoveConnection ${Math.round(removeMs)} ms (request sent -> GetDock shows it, polled every 50 ms)`);

  // Remove from the dock asks first: "Cancel" keeps it, "Remove" removes it.
  const removeButton = (d) => card(d, 'Demo Wii').at.remove;
  dock = await clickUntil(obs, removeButton, (d) => d.question && d.question.no, 'remove');
  assert.match(dock.question.text, /Remove “Demo Wii”\?/);
  await clickUntil(obs, (d) => d.question.no, (d) => !d.question, 'cancel');
  assert.equal((await obs.vendorOk('GetConnections')).connections.length, 1);
  await clickUntil(obs, removeButton, (d) => d.question && d.question.yes, 'remove');
  await clickUntil(obs, (d) => d.question.yes, (d) => d.cards.length === 0 && d.empty, 'yes');
  assert.deepEqual((await obs.vendorOk('GetConnections')).connections, []);

  const hb = (await obs.dock()).heartbeat;
  console.log(`UI thread heartbeat (20 ms timer) over the test: max gap ${hb.maxGapMs.toFixed(1)} ms, ` +
    `longest dock refresh ${hb.maxRefreshMs.toFixed(2)} ms, ${hb.refreshes} refreshes`);

  const exit = await obs.stop();
  assert.equal(exit.signal, null, `OBS exited cleanly: ${JSON.stringify(exit)}`);
  assert.equal(exit.code, 0);
});
