// SPDX-License-Identifier: GPL-2.0-or-later
// In the real OBS 29: SIGINT (OBS's clean exit) while a game is being recorded, a second console is in reconnect
// backoff, and relay clients are connected. OBS exits within 2 s, the game's replay is finished (raw length patched,
// metadata written), every andross thread is stopped by the module's unload, and OBS counts no more memory leaks than
// it does without the plugin.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import test from 'node:test';

import { consoleClient, rawClient } from '../../relay/lib/relay.mjs';
import { completeEventBytes, firstDifference, readContainer } from '../../node/lib/slp.mjs';
import {
  cleanups,
  freePort,
  inspect,
  launchObs,
  replayPath,
  sleep,
  startConsoleSim,
  startXvfb,
  tempDir,
  waitFor,
} from './lib/obs.mjs';

const EXIT_MS = Number(process.env.ANDROSS_E2E_EXIT_MS || 2000);
const RAW_CLIENTS = 8;

// The names of a process's threads that belong to andross ("andross: loop", "andross: rec 1", ...; the kernel keeps
// 15 bytes of a name).
function androssThreads(pid) {
  const names = [];
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      if (name.startsWith('andross')) names.push(name);
    } catch {
      // the thread ended meanwhile
    }
  }
  return names.sort();
}

test('SIGINT with a game running, a console in backoff and clients connected', async (t) => {
  const defer = cleanups(t);
  const x = await startXvfb();
  defer(() => x.stop());

  // OBS's own count of leaks at exit, without the plugin, in the same set-up.
  const plain = await launchObs({ name: 'shutdown-baseline', plugin: false, display: x.display });
  defer(() => plain.close());
  await sleep(1000);
  const plainExit = await plain.stop();
  const baselineLeaks = plain.memoryLeaks();
  assert.equal(plainExit.code, 0, `OBS without the plugin exits cleanly: ${JSON.stringify(plainExit)}`);
  assert.notEqual(baselineLeaks, null, 'OBS logs its memory leak count');

  const sim = await startConsoleSim(['v3.14.0.slp'], { speed: 1, args: ['--nick', 'e2e-exit'] }); // 3.4 minutes
  defer(() => sim.stop());
  const obs = await launchObs({ name: 'shutdown', display: x.display });
  defer(() => obs.close());
  const folder = tempDir('shutdown-folder');
  const relayPort = await freePort();
  const deadPort = await freePort(); // nothing listens there: that console stays in backoff

  const { id } = await obs.vendorOk('AddConnection', {
    name: 'Playing',
    url: `console://127.0.0.1:${sim.port}`,
    relay: { enabled: true, listen: `127.0.0.1:${relayPort}` },
    folder,
  });
  const { id: idle } = await obs.vendorOk('AddConnection', {
    name: 'Unplugged',
    url: `console://127.0.0.1:${deadPort}`,
    folder,
  });
  await obs.waitEvents('game_start', 1, 20000, id);
  const sjs = consoleClient(relayPort, 'obs-exit');
  defer(() => sjs.close());
  const raws = Array.from({ length: RAW_CLIENTS }, () => rawClient(relayPort));
  defer(() => raws.forEach((r) => r.sock.destroy()));
  assert.ok(await waitFor(() => raws.every((r) => r.bytes().length > 0) && sjs.handshakes.length > 0, 10000),
    'every relay client is being served');
  const waiting = await obs.waitState(idle, 'waiting', 20000);
  assert.ok(waiting.reconnectInMs >= 0, `the unplugged console waits to reconnect: ${JSON.stringify(waiting)}`);
  const playing = await obs.connection(id);
  assert.equal(playing.state, 'connected');
  assert.equal(playing.relay.clients.length, RAW_CLIENTS + 1, 'GetConnections lists every relay client');
  const file = playing.currentReplay;
  assert.ok(typeof file === 'string' && file.length > 0, `a replay is being written: ${JSON.stringify(playing)}`);
  await sleep(2000);
  await obs.shot('shutdown-before-sigint');
  const threads = androssThreads(obs.child.pid);
  assert.ok(threads.length >= 3, `andross threads run in OBS: ${threads.join(', ')}`);

  const exit = await obs.stop(30000);
  console.log(`OBS exited ${exit.ms.toFixed(0)} ms after SIGINT (${threads.length} andross threads: ${threads.join(', ')})`);
  assert.equal(exit.killed, false, 'OBS exited by itself');
  assert.equal(exit.signal, null, `OBS did not crash: ${obs.crashReport()}`);
  assert.equal(exit.code, 0);
  assert.ok(exit.ms <= EXIT_MS, `OBS exited ${exit.ms.toFixed(0)} ms after SIGINT (limit ${EXIT_MS} ms)`);

  // The replay was finished at unload: raw length patched, metadata present, the events a prefix of the source's.
  const info = await inspect(file);
  assert.equal(info.container.inProgress, false, `${file}: raw length patched: ${JSON.stringify(info.container)}`);
  assert.equal(info.container.hasMetadata, true, `${file}: metadata written`);
  const written = readContainer(fs.readFileSync(file)).events;
  const source = completeEventBytes(fs.readFileSync(replayPath('v3.14.0.slp'))).bytes;
  assert.ok(written.length > 10000, `the game so far was written (${written.length} bytes)`);
  assert.equal(firstDifference(source.subarray(0, written.length), written), -1, 'the replay is the source\'s prefix');

  // The log: the module stopped every thread it started, and unloaded.
  const lines = obs.androssLines();
  const unload = lines.slice(lines.findIndex((l) => /engine stopped|stopped|unload/.test(l)));
  const joined = lines.map((l) => /engine stopped, (\d+) threads? joined/.exec(l)).find(Boolean);
  assert.ok(joined, `the log says the engine stopped and how many threads it joined: ${JSON.stringify(lines.slice(-8))}`);
  assert.equal(Number(joined[1]), threads.length, `threads joined = andross threads that ran (${threads.join(', ')})`);
  assert.ok(unload.some((l) => /module unloaded/.test(l)), `the module unloaded: ${JSON.stringify(unload)}`);
  assert.equal(obs.memoryLeaks(), baselineLeaks, `memory leaks as without the plugin (${baselineLeaks})`);

  // The relay clients saw their connections closed, not left hanging.
  assert.ok(await waitFor(() => raws.every((r) => r.closed), 5000), 'every raw client was closed');
});
