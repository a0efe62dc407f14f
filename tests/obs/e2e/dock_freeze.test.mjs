// SPDX-License-Identifier: GPL-2.0-or-later
// "Never freezes": the real OBS with the Slippi dock while a console hangs (a TCP server that accepts and never
// answers), while DNS hangs (a console:// host name whose lookup takes the resolver's whole timeout: OBS runs with a
// private /etc/resolv.conf, through `unshare -m`, naming a loopback address where a UDP socket takes the queries and
// never answers) and while 256 slippi-js clients connect to a relay (64 served, the module's cap; the rest refused).
// The dock's own measure of the UI thread (a 20 ms heartbeat timer's longest gap, GetDock) and OBS's frames
// (GetStats) are printed per phase; the test fails only if the UI thread stalls for seconds (as a lookup or a
// connect waited on it would) or the dock stops following.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import test from 'node:test';

import { cleanups, launchObs, NODE_DIR, sleep, tempDir } from './lib/obs.mjs';

const require = createRequire(path.join(NODE_DIR, 'package.json'));
const slippi = require('@slippi/slippi-js/node');

const STALL_MS = 3000; // far above any frame or refresh; far below the 10 s lookup
const DNS_IP = '127.83.83.53';
const card = (dock, name) => dock.cards.find((c) => c.name === name);

// A DNS server that never answers. Resolves the socket, or null when port 53 cannot be had (not root).
function silentDns() {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.on('error', () => resolve(null));
    s.on('message', () => {}); // taken, never answered
    s.bind(53, DNS_IP, () => resolve(s));
  });
}

test('the dock and OBS stay smooth while a console hangs, DNS hangs and 256 relay clients connect', async (t) => {
  const defer = cleanups(t);
  const dns = await silentDns();
  const home = tempDir('freeze');
  let wrap;
  if (dns) {
    defer(() => dns.close());
    const resolv = path.join(home, 'resolv.conf');
    fs.writeFileSync(resolv, `nameserver ${DNS_IP}\noptions timeout:5 attempts:2\n`);
    wrap = ['unshare', '-m', 'sh', '-c', `mount --bind '${resolv}' /etc/resolv.conf && exec "$@"`, 'sh'];
  } else {
    console.log('cannot bind UDP port 53 (needs root): the DNS phase is skipped');
  }
  // a console that accepts and never says a word
  const hung = [];
  const server = net.createServer((s) => hung.push(s));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  defer(() => {
    for (const s of hung) s.destroy();
    server.close();
  });

  const obs = await launchObs({ name: 'freeze', wrap });
  defer(() => obs.close());
  await obs.waitDock((d) => d.visible, 20000, 'the dock');
  const results = [];

  async function phase(name, seconds, during) {
    const s0 = await obs.call('GetStats');
    await obs.dock({ resetHeartbeat: true });
    await sleep(300); // the reset reaches the UI thread within 100 ms
    const t0 = Date.now();
    if (during) await during();
    const left = seconds * 1000 - (Date.now() - t0);
    if (left > 0) await sleep(left);
    const d = await obs.dock();
    const s1 = await obs.call('GetStats');
    const r = {
      phase: name,
      maxGapMs: d.heartbeat.maxGapMs,
      maxRefreshMs: d.heartbeat.maxRefreshMs,
      beats: d.heartbeat.beats,
      renderSkipped: s1.renderSkippedFrames - s0.renderSkippedFrames,
      renderFrames: s1.renderTotalFrames - s0.renderTotalFrames,
      fps: s1.activeFps,
    };
    results.push(r);
    console.log(`${name}: UI heartbeat max gap ${r.maxGapMs.toFixed(1)} ms (${r.beats} beats), longest dock refresh ` +
      `${r.maxRefreshMs.toFixed(2)} ms, OBS ${r.fps.toFixed(1)} fps, ${r.renderSkipped} of ${r.renderFrames} frames ` +
      'skipped in rendering');
    assert.ok(r.maxGapMs < STALL_MS, `${name}: the UI thread stalled ${r.maxGapMs} ms`);
    return d;
  }

  await phase('idle', 4);

  // A console that hangs: connect, then the card's Disconnect and Connect clicked through X while it hangs.
  const hungPort = server.address().port;
  const { id: hungId } = await obs.vendorOk('AddConnection', { name: 'Hung', url: `console://127.0.0.1:${hungPort}` });
  let dock = await phase('console hangs', 6, async () => {
    const d = await obs.waitDock((x) => card(x, 'Hung') && card(x, 'Hung').at.connect && x, 5000, 'the hung card');
    await obs.clickAt(card(d, 'Hung').at.connect, 'disconnect');
    await obs.waitDock((x) => card(x, 'Hung').state === 'disconnected', 5000, 'disconnected');
    await obs.clickAt(card(await obs.dock(), 'Hung').at.connect, 'connect');
  });
  assert.ok(hung.length >= 2, `the console was connected to twice (${hung.length})`);
  assert.match(card(dock, 'Hung').state, /connecting|reconnecting|connected/);
  await obs.vendorOk('RemoveConnection', { id: hungId });

  // DNS that hangs: the lookup takes 10 s; the dock shows the card connecting, and disconnecting it answers at once.
  if (dns) {
    const { id: dnsId } = await obs.vendorOk('AddConnection', { name: 'DNS', url: 'console://wii.slippi.test:51441' });
    dock = await phase('DNS hangs', 8, async () => {
      const d = await obs.waitDock((x) => card(x, 'DNS') && card(x, 'DNS').at.connect && x, 5000, 'the DNS card');
      assert.equal(card(d, 'DNS').state, 'connecting');
      await sleep(1000);
      await obs.clickAt(card(await obs.dock(), 'DNS').at.connect, 'disconnect');
      await obs.waitDock((x) => card(x, 'DNS').state === 'disconnected', 5000, 'disconnected during the lookup');
      await obs.clickAt(card(await obs.dock(), 'DNS').at.connect, 'connect');
    });
    await obs.vendorOk('RemoveConnection', { id: dnsId });
  }

  // 256 relay clients on a demo connection.
  const { id: demoId } = await obs.vendorOk('AddConnection', {
    name: 'Demo',
    url: 'demo://',
    relay: { enabled: true, listen: '127.0.0.1:0' },
  });
  const entry = await obs.waitState(demoId, 'connected', 20000);
  const port = Number(entry.relay.address.split(':').pop());
  const clients = [];
  defer(() => {
    for (const c of clients) c.disconnect();
  });
  dock = await phase('256 relay clients', 8, async () => {
    for (let i = 0; i < 256; i++) {
      const c = new slippi.ConsoleConnection();
      c.on(slippi.ConnectionEvent.ERROR, () => {});
      c.connect('127.0.0.1', port, false);
      clients.push(c);
    }
    await obs.waitDock((x) => card(x, 'Demo').clients === 64, 20000, '64 clients on the card');
  });
  assert.equal(card(dock, 'Demo').clientsText, '64 clients');
  await obs.clickAt(card(dock, 'Demo').at.clients, 'clients');
  await obs.waitDock((x) => x.clientList && x.clientList.rows === 64, 5000, 'the client list, 64 rows');

  console.log(`BENCH dock_freeze ${JSON.stringify(results)}`);
  for (const c of clients) c.disconnect();
  clients.length = 0;
  const exit = await obs.stop();
  assert.equal(exit.signal, null, `OBS exited cleanly: ${JSON.stringify(exit)}`);
});
