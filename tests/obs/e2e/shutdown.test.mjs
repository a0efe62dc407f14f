// SPDX-License-Identifier: GPL-2.0-or-later
// In the real OBS 29: SIGINT (OBS's clean exit) while OBS records, a game is being played and written, a second
// console is in reconnect backoff, and 9 relay clients are connected. OBS exits within 2 s (ANDROSS_E2E_EXIT_MS), the
// game's replay is finished (raw length patched, metadata written), the recording's sidecar lists it, the module's
// unload stopped its engine (every thread joined) within 1 s, and OBS counts as many memory leaks as without the
// plugin.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';

import { consoleClient, rawClient } from '../../relay/lib/relay.mjs';
import { completeEventBytes, firstDifference, readContainer } from '../../node/lib/slp.mjs';
import {
  androssThreads,
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
const ENGINE_STOP_MS = Number(process.env.ANDROSS_E2E_ENGINE_STOP_MS || 1000); // issue 10: everything stops within 1 s
const RAW_CLIENTS = 8;

test('SIGINT with a game running, a console in backoff and clients connected', async (t) => {
  const defer = cleanups(t);
  const x = await startXvfb();
  defer(() => x.stop());

  // OBS's own count of leaks at exit, without the plugin, in the same set-up.
  const plain = await launchObs({ name: 'shutdown-baseline', plugin: false, xvfb: x });
  defer(() => plain.close());
  await sleep(1000);
  const plainExit = await plain.stop();
  const baselineLeaks = plain.memoryLeaks();
  assert.equal(plainExit.code, 0, `OBS without the plugin exits cleanly: ${JSON.stringify(plainExit)}`);
  assert.notEqual(baselineLeaks, null, 'OBS logs its memory leak count');

  const sim = await startConsoleSim(['v3.14.0.slp'], { speed: 1, args: ['--nick', 'e2e-exit'] }); // 3.4 minutes
  defer(() => sim.stop());
  const obs = await launchObs({ name: 'shutdown', xvfb: x });
  defer(() => obs.close());
  const folder = tempDir('shutdown-folder');
  const relayPort = await freePort();
  const deadPort = await freePort(); // nothing listens there: that console stays in backoff

  const recording = await obs.startRecord(); // OBS is closed while it records, too
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
  const names = threads.map((th) => th.name);
  assert.ok(threads.length >= 3, `andross threads run in OBS: ${names.join(', ')}`);
  // Realtime scheduling (README, "Realtime scheduling"): where it is granted, the events thread runs SCHED_FIFO 2 and the recorders
  // SCHED_FIFO 1; the loop, the relay's helper and the vendor thread never do. The log says which it was.
  const sched = threads.map((th) => `${th.name} ${th.policy}${th.priority ? ` ${th.priority}` : ''}`).join(', ');
  console.log(`scheduling: ${sched}`);
  const realtime = obs.androssLines().find((l) => /^\[andross\] realtime scheduling: /.test(l));
  assert.ok(realtime, `the log says whether realtime scheduling was granted: ${JSON.stringify(obs.androssLines())}`);
  console.log(realtime);
  const granted = /: granted \(the events thread at SCHED_FIFO 2, the recorders at 1\)/.test(realtime);
  assert.ok(granted || /: not granted \(RLIMIT_RTPRIO \d+, no CAP_SYS_NICE\)/.test(realtime), realtime);
  for (const th of threads) {
    const want = !granted ? null : th.name === 'andross: events' ? 2 : /^andross: rec \d+$/.test(th.name) ? 1 : null;
    if (want) assert.deepEqual([th.policy, th.priority], ['SCHED_FIFO', want], `${th.name}: ${sched}`);
    else assert.notEqual(th.policy, 'SCHED_FIFO', `${th.name} is not realtime: ${sched}`);
  }
  assert.ok(names.includes('andross: events') && names.filter((n) => /^andross: rec \d+$/.test(n)).length === 2,
    `the events thread and both recorders run: ${names.join(', ')}`);

  const exit = await obs.stop(30000);
  console.log(`OBS exited ${exit.ms.toFixed(0)} ms after SIGINT (${threads.length} andross threads: ${names.join(', ')})`);
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

  // The recording that was running got its sidecar, listing the game that was going on (it has no end).
  const video = recording.data.outputPath;
  const sidecar = path.join(path.dirname(video), `${path.basename(video, path.extname(video))}.andross.json`);
  assert.ok(fs.existsSync(sidecar), `the recording's sidecar ${sidecar} was written at exit`);
  const games = JSON.parse(fs.readFileSync(sidecar, 'utf8')).games;
  assert.equal(games.length, 1, `the sidecar lists the game: ${JSON.stringify(games)}`);
  assert.equal(path.resolve(path.dirname(sidecar), games[0].file), file, 'with its .slp');
  assert.equal(games[0].endMs, null, 'a game cut off by the exit has no end in the video');

  // The log: at unload the module stopped its engine (every thread joined, every replay finished), in time, and
  // then unloaded. plugin/andross-module.c words it "[andross] engine stopped in N ms: every thread joined, ...".
  const lines = obs.androssLines();
  const stoppedAt = lines.findIndex((l) => /^\[andross\] engine stopped in \d+ ms: every thread joined/.test(l));
  assert.ok(stoppedAt >= 0, `the log says the engine stopped and joined its threads: ${JSON.stringify(lines.slice(-8))}`);
  const engineMs = Number(/in (\d+) ms/.exec(lines[stoppedAt])[1]);
  console.log(`unload: ${lines[stoppedAt]}`);
  assert.ok(engineMs <= ENGINE_STOP_MS, `the engine stopped in ${engineMs} ms (limit ${ENGINE_STOP_MS} ms)`);
  assert.ok(lines.slice(stoppedAt + 1).some((l) => /^\[andross\] module unloaded/.test(l)), 'then the module unloaded');
  assert.equal(obs.memoryLeaks(), baselineLeaks, `memory leaks as without the plugin (${baselineLeaks})`);

  // The relay clients saw their connections closed, not left hanging.
  assert.ok(await waitFor(() => raws.every((r) => r.closed), 5000), 'every raw client was closed');
});
