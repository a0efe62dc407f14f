// SPDX-License-Identifier: GPL-2.0-or-later
// In the real OBS 29: every bad request of docs/obs-websocket.md (unknown id, missing or wrongly typed fields, a URL
// no source takes, a bad listen address, a port in use, too many connections) is answered with {error}, changes
// nothing, and OBS keeps rendering and recording meanwhile.
import assert from 'node:assert/strict';
import net from 'node:net';
import test from 'node:test';

import {
  cleanups,
  countColor,
  freePort,
  GAME_RGB,
  launchObs,
  sleep,
  startConsoleSim,
  tempDir,
} from './lib/obs.mjs';

function settings(c) {
  return { id: c.id, name: c.name, url: c.url, relay: { enabled: c.relay.enabled, listen: c.relay.listen },
    folder: c.folder, autoConnect: c.autoConnect };
}

async function snapshot(obs) {
  return (await obs.vendorOk('GetConnections')).connections.map(settings);
}

function accepts(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

// The skipped and rendered frame counters of GetStats.
async function frames(obs) {
  const s = await obs.call('GetStats');
  return { render: s.renderTotalFrames, renderSkipped: s.renderSkippedFrames, output: s.outputTotalFrames,
    outputSkipped: s.outputSkippedFrames };
}

function delta(a, b) {
  return Object.fromEntries(Object.keys(a).map((k) => [k, b[k] - a[k]]));
}

test('every bad request gets {error}, changes nothing, and OBS keeps rendering', async (t) => {
  const defer = cleanups(t);
  const sim = await startConsoleSim(['v3.13.slp'], { speed: 1, args: ['--loop'] });
  defer(() => sim.stop());
  const obs = await launchObs({ name: 'bad-requests' });
  defer(() => obs.close());

  // Something to refer to: a connection with its relay on, and a port another program holds.
  const relayPort = await freePort();
  const { id } = await obs.vendorOk('AddConnection', {
    name: 'Good',
    url: `console://127.0.0.1:${sim.port}`,
    relay: { enabled: true, listen: `127.0.0.1:${relayPort}` },
    folder: tempDir('bad-folder'),
  });
  await obs.waitState(id, 'connected', 20000);
  const holder = net.createServer();
  await new Promise((resolve) => holder.listen(0, '127.0.0.1', resolve));
  defer(() => new Promise((resolve) => holder.close(resolve)));
  const held = `127.0.0.1:${holder.address().port}`;
  const url = 'console://127.0.0.1:9';
  // A port in use: the error names the address (docs/obs-websocket.md: "127.0.0.1:53742: address already in use").
  const inUse = (address) => new RegExp(`${address.replace(/\./g, '\\.')}: address already in use`, 'i');
  const unknown = 987654;

  const bad = [
    // missing fields
    ['AddConnection', { name: 'x' }, /url/],
    ['AddConnection', { url }, /name/],
    ['UpdateConnection', { name: 'y' }, /id/],
    ['RemoveConnection', { name: 'x' }, /id/],
    ['SetRelay', { id }, /enabled/],
    ['SetRelay', { enabled: true }, /id/],
    ['GetGameState', { name: 'x' }, /id/],
    ['SetFrameEvents', { perSecond: 5 }, /enabled/],
    // wrong types
    ['AddConnection', { name: 5, url }, /name/],
    ['AddConnection', { name: 'x', url: 7 }, /url/],
    ['AddConnection', { name: 'x', url, relay: 'on' }, /relay/],
    ['AddConnection', { name: 'x', url, relay: { enabled: 'yes' } }, /enabled/],
    ['AddConnection', { name: 'x', url, folder: 3 }, /folder/],
    ['AddConnection', { name: 'x', url, autoConnect: 'yes' }, /autoConnect/],
    ['UpdateConnection', { id: String(id), name: 'y' }, /id/],
    ['UpdateConnection', { id, url: 5 }, /url/],
    ['UpdateConnection', { id, autoConnect: 1 }, /autoConnect/],
    ['RemoveConnection', { id: 'one' }, /id/],
    ['SetRelay', { id, enabled: 'no' }, /enabled/],
    ['GetGameState', { id: 'x' }, /id/],
    ['SetFrameEvents', { enabled: 'yes' }, /enabled/],
    ['SetFrameEvents', { enabled: true, perSecond: '5' }, /perSecond/],
    ['SetFrameEvents', { enabled: true, perSecond: 0 }, /perSecond/],
    ['SetFrameEvents', { enabled: true, perSecond: 11 }, /perSecond/],
    // unknown ids
    ['UpdateConnection', { id: unknown, name: 'y' }, new RegExp(String(unknown))],
    ['RemoveConnection', { id: unknown }, new RegExp(String(unknown))],
    ['SetRelay', { id: unknown, enabled: true }, new RegExp(String(unknown))],
    ['GetGameState', { id: unknown }, new RegExp(String(unknown))],
    // URLs no source takes
    ['AddConnection', { name: 'x', url: 'http://127.0.0.1:9' }, /http/],
    ['AddConnection', { name: 'x', url: 'console://' }, /console/],
    ['AddConnection', { name: 'x', url: 'nonsense' }, /nonsense/],
    ['AddConnection', { name: 'x', url: '' }, /url/],
    ['AddConnection', { name: 'x', url: 'console://127.0.0.1:99999' }, /99999/],
    ['UpdateConnection', { id, url: 'ftp://127.0.0.1' }, /ftp/],
    // listen addresses that are not HOST:PORT
    ['AddConnection', { name: 'x', url, relay: { enabled: true, listen: '127.0.0.1:port' } }, /listen|HOST:PORT/],
    ['SetRelay', { id, enabled: true, listen: 'nonsense' }, /listen|HOST:PORT/],
    ['SetRelay', { id, enabled: true, listen: '127.0.0.1:70000' }, /70000|listen|HOST:PORT/],
    // ports in use: another program's, and the good connection's own relay for a second one
    ['AddConnection', { name: 'x', url, relay: { enabled: true, listen: held } }, inUse(held)],
    ['AddConnection', { name: 'x', url, relay: { enabled: true, listen: `127.0.0.1:${relayPort}` } },
      inUse(`127.0.0.1:${relayPort}`)],
    ['UpdateConnection', { id, relay: { enabled: true, listen: held } }, inUse(held)],
    ['SetRelay', { id, enabled: true, listen: held }, inUse(held)],
  ];

  const before = await snapshot(obs);
  const version = await obs.vendorOk('GetVersion');

  await obs.startRecord();
  await sleep(1000);
  // An idle window and a window of bad requests, of about the same length, to compare OBS's frame counters.
  const idle0 = await frames(obs);
  const started = Date.now();
  await sleep(4000);
  const idle1 = await frames(obs);
  const answers = [];
  const badStart = Date.now();
  // Round 0 asks each once; the rounds after it, for about 4 s, ask again those that were refused (one accepted by
  // mistake is not repeated: it would pile up connections).
  let again = bad;
  for (let round = 0; Date.now() - badStart < 4000 || round < 1; round++) {
    for (const [type, data, words] of again) {
      const r = await obs.vendor(type, data);
      if (round === 0) answers.push({ type, data, words, r });
    }
    if (round === 0) again = bad.filter((_, i) => answers[i].r && 'error' in answers[i].r);
  }
  const bad1 = await frames(obs);
  const idle = delta(idle0, idle1);
  const busy = delta(idle1, bad1);
  console.log(`frames in ${badStart - started} ms idle: ${JSON.stringify(idle)}; in ${Date.now() - badStart} ms of ` +
    `bad requests: ${JSON.stringify(busy)}`);
  const shot = await obs.shot('bad-requests-after');
  await obs.stopRecord();

  // OBS kept rendering and recording: frames went on, and no more were skipped than while idle (give or take a few).
  const fps = 30;
  assert.ok(busy.render >= 0.5 * fps * 4, `OBS rendered ${busy.render} frames during the bad requests`);
  assert.ok(busy.output >= 0.5 * fps * 4, `OBS recorded ${busy.output} frames during the bad requests`);
  assert.ok(busy.renderSkipped <= 2 * idle.renderSkipped + 15,
    `render skipped frames did not jump: ${busy.renderSkipped} (idle: ${idle.renderSkipped})`);
  assert.ok(busy.outputSkipped <= 2 * idle.outputSkipped + 15,
    `output skipped frames did not jump: ${busy.outputSkipped} (idle: ${idle.outputSkipped})`);
  const px = await countColor(shot, GAME_RGB);
  assert.ok(px.matching > 0.1 * px.total, `the scene is on screen after the bad requests (${px.matching} of ${px.total})`);
  assert.ok(obs.running, 'OBS is still running');

  const wrong = [];
  for (const { type, data, words, r } of answers) {
    const what = `${type} ${JSON.stringify(data)} -> ${JSON.stringify(r)}`;
    if (!r || typeof r.error !== 'string' || r.error.length === 0) wrong.push(`no {error}: ${what}`);
    else if (Object.keys(r).length !== 1) wrong.push(`more than {error}: ${what}`);
    else if (!words.test(r.error)) wrong.push(`error does not say ${words}: ${what}`);
  }
  assert.deepEqual(wrong, [], `${wrong.length} of ${answers.length} bad requests answered wrongly`);

  // Nothing changed: the same connections with the same settings, the relay where it was, no frame events.
  assert.deepEqual(await snapshot(obs), before, 'GetConnections is as before');
  assert.equal((await obs.vendorOk('GetVersion')).connections, version.connections, 'GetVersion counts as before');
  const good = await obs.connection(id);
  assert.equal(good.relay.address, `127.0.0.1:${relayPort}`, 'the relay was not moved');
  assert.ok(await accepts(relayPort), 'the relay still accepts clients');
  assert.equal(good.state, 'connected', 'the connection is still connected');
  assert.equal(obs.events('frame').length, 0, 'no frame events: SetFrameEvents with bad fields enabled nothing');
});

test('too many connections: {error}, and the ones there stay', async (t) => {
  const defer = cleanups(t);
  const obs = await launchObs({ name: 'too-many' });
  defer(() => obs.close());
  const ids = [];
  let refusal = null;
  for (let i = 0; i < 200 && !refusal; i++) {
    const r = await obs.vendor('AddConnection', { name: `c${i}`, url: 'console://127.0.0.1:9', autoConnect: false });
    if (r && typeof r.id === 'number') ids.push(r.id);
    else refusal = r;
  }
  assert.ok(refusal, `a limit exists: ${ids.length} connections were added`);
  assert.equal(typeof refusal.error, 'string', `the refusal is {error}: ${JSON.stringify(refusal)}`);
  assert.match(refusal.error, /too many/i);
  const list = (await obs.vendorOk('GetConnections')).connections;
  assert.equal(list.length, ids.length, 'the refused one was not added');
  for (const id of ids) await obs.vendorOk('RemoveConnection', { id });
  assert.equal((await obs.vendorOk('GetConnections')).connections.length, 0, 'all removed');
  const again = await obs.vendorOk('AddConnection', { name: 'again', url: 'console://127.0.0.1:9', autoConnect: false });
  assert.ok(!ids.includes(again.id), 'ids are never reused while OBS runs');
});
