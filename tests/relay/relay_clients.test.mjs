// SPDX-License-Identifier: GPL-2.0-or-later
// `andross relay` with real clients: slippi-js ConsoleConnection + SlpFileWriter (console protocol) and raw TCP
// readers (Slippi Launcher relay stream), early and late joiners, a reconnect, a chain of two relays, a stalled
// client among many, bad clients, a thousand connects with random early closes, slow clients in every slot, the
// per-address limit, and a burst of connects.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import test from 'node:test';
import {
  ANDROSS,
  NODE_DIR,
  REPLAY_DIR,
  consoleClient,
  cuttingProxy,
  fdCount,
  firstDiff,
  handshake,
  memory,
  rawClient,
  readEvents,
  replayEvents,
  sleep,
  slpEvents,
  splitFrames,
  startConsoleSim,
  startRelay,
  stop,
  stripFillers,
  tempDir,
} from './lib/relay.mjs';

const ubjson = createRequire(path.join(NODE_DIR, 'package.json'))('@shelacek/ubjson');

function assertSameEvents(got, want, what) {
  const d = firstDiff(got, want);
  assert.equal(d, -1, `${what}: ${got.length} bytes vs ${want.length} expected, first difference at byte ${d}`);
}

function assertClientGotGame(c, want, what) {
  assert.equal(c.newFiles.length, 1, `${what}: opened ${c.newFiles.length} files: ${c.newFiles.join(', ')}`);
  assert.equal(c.completed.length, 1, `${what}: completed ${c.completed.length} files`);
  assertSameEvents(slpEvents(c.completed[0]), want, what);
}

function wroteFiles(stderr) {
  return [...stderr.matchAll(/^wrote (.+)$/gm)].map((m) => m[1]);
}

// Decodes every console frame of a raw socket's bytes.
function consoleMessages(buf) {
  return splitFrames(buf).frames.map((f) => ubjson.decode(f.buffer.slice(f.byteOffset, f.byteOffset + f.length)));
}

const u64 = (a) => Buffer.from(a).readBigUInt64BE(0);
const u32 = (a) => Buffer.from(a).readUInt32BE(0);

test('console and raw clients, early and late, and a reconnect each get the game byte for byte', async () => {
  const name = 'realtimeTest.slp'; // 2182 frames: about 6 s at --speed 6
  const want = replayEvents(name);
  const dir = tempDir('real');
  const evFile = path.join(dir, 'events.jsonl');
  const relay = await startRelay(['--source', path.join(REPLAY_DIR, name), '--speed', '6', '--events', evFile]);
  const early = Array.from({ length: 8 }, (_, i) => consoleClient(relay.port, `early${i}`));
  const raws = Array.from({ length: 3 }, () => rawClient(relay.port));
  const proxy = cuttingProxy(relay.port);
  const resumer = consoleClient(await proxy.listening, 'resume');
  await sleep(1500);
  proxy.cut(); // mid-game, at a frame boundary; slippi-js reconnects after 2 s with its token and cursor
  await sleep(300);
  const late = [consoleClient(relay.port, 'late0'), consoleClient(relay.port, 'late1')];
  const lateRaw = rawClient(relay.port);
  try {
    for (const c of [...early, resumer, ...late]) {
      assert.ok(await c.waitFiles(1, 20000), `${c.tag}: no complete file (errors: ${c.errors.join('; ')})`);
    }
    const r = await relay.exited;
    assert.equal(r.code, 0, `relay exit ${r.code}: ${relay.stderr()}`);
    for (const c of early) assertClientGotGame(c, want, c.tag);
    for (const c of late) assertClientGotGame(c, want, c.tag);
    assertClientGotGame(resumer, want, 'reconnected client');
    assert.equal(proxy.connections, 2, 'the resumer reconnected once');
    assert.equal(resumer.handshakes.length, 2);
    assert.equal(resumer.handshakes[1].clientToken, resumer.handshakes[0].clientToken, 'same token on resume');
    const inspect = spawnSync(ANDROSS, ['inspect', late[0].completed[0]], { encoding: 'utf8' });
    assert.equal(inspect.status, 0, `late joiner's file does not inspect: ${inspect.stderr}`);
    await Promise.all([...raws, lateRaw].map((c) => c.done));
    for (const [i, c] of [...raws, lateRaw].entries()) {
      const bytes = c.bytes();
      const events = stripFillers(bytes);
      assert.equal(events[0], 0x35, `raw client ${i} starts at Event Payloads`);
      assertSameEvents(events, want, `raw client ${i}`);
    }
    const ev = readEvents(evFile).filter((e) => e.type === 'relay_client');
    const connected = ev.filter((e) => e.event === 'connected');
    assert.equal(connected.filter((e) => e.mode === 'console').length, 8 + 2 + 2);
    assert.equal(connected.filter((e) => e.mode === 'raw').length, 4);
    assert.ok(
      connected.some((e) => /resumed at its cursor/.test(e.reason) && e.cursor > 0),
      'the reconnect resumed at its cursor',
    );
  } finally {
    for (const c of [...early, resumer, ...late]) c.close();
    await proxy.close();
    await stop(relay);
  }
});

test('a chain of two relays delivers byte-identical games', async () => {
  const games = ['realtimeTest.slp', 'v3.13.slp'];
  const dir = tempDir('chain');
  const sim = await startConsoleSim(games, ['--speed', '8']);
  const a = await startRelay(['--source', `console://127.0.0.1:${sim.port}`]);
  const b = await startRelay([
    '--source',
    `relay://127.0.0.1:${a.port}`,
    '--out',
    path.join(dir, 'out'),
    '--games',
    '2',
  ]);
  const client = consoleClient(b.port, 'chain');
  try {
    assert.ok(await client.waitFiles(2, 30000), `chain client got ${client.completed.length} files`);
    const r = await b.exited;
    assert.equal(r.code, 0, b.stderr());
    const written = wroteFiles(b.stderr());
    assert.equal(written.length, 2, b.stderr());
    games.forEach((g, i) => {
      assertSameEvents(slpEvents(client.completed[i]), replayEvents(g), `client game ${i + 1}`);
      assertSameEvents(slpEvents(written[i]), replayEvents(g), `second relay's recording ${i + 1}`);
    });
    assert.equal(client.newFiles.length, 2);
  } finally {
    client.close();
    await stop(b);
    await stop(a);
    await stop(sim);
  }
});

test('a stalled client among many: the others get every frame, memory stays bounded, the policy applies', async () => {
  const name = '200306_2258_Falco_v_Fox_PS.slp'; // 2.4 MB of events, about 7.5 s at --speed 20
  const want = replayEvents(name);
  const dir = tempDir('slow');
  const evFile = path.join(dir, 'events.jsonl');
  const relay = await startRelay([
    '--source',
    path.join(REPLAY_DIR, name),
    '--speed',
    '20',
    '--lag-cap',
    '512K', // the readers keep within it even on a loaded machine; the stalled clients pass it in about 3 s
    '--history',
    '4M',
    '--events',
    evFile,
  ]);
  const readers = Array.from({ length: 6 }, (_, i) => consoleClient(relay.port, `reader${i}`));
  const rawReaders = [rawClient(relay.port), rawClient(relay.port)];
  const stalledRaw = rawClient(relay.port, { pause: true });
  const stalledConsole = rawClient(relay.port, { send: handshake(), pause: true });
  let peakKb = 0;
  try {
    // bad clients, mid-game
    await sleep(800);
    const garbage = rawClient(relay.port, { send: Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n') });
    const oversized = Buffer.alloc(4 + 5000, 0x7b);
    oversized.writeUInt32BE(5000, 0);
    const big = rawClient(relay.port, { send: oversized });
    const half = rawClient(relay.port, { send: handshake().subarray(0, 40) });
    const bogus = rawClient(relay.port, { send: handshake(123457n, 0xdeadbeef) });
    const flood = rawClient(relay.port, { send: Buffer.concat([handshake(), Buffer.alloc(100 * 1024, 0x55)]) });
    const until = Date.now() + 20000;
    while (readers.some((c) => c.completed.length < 1) && Date.now() < until) {
      peakKb = Math.max(peakKb, memory(relay.child.pid).hwmKb);
      await sleep(100);
    }
    for (const c of readers) {
      assert.ok(await c.waitFiles(1, 1000), `${c.tag}: no complete file (errors: ${c.errors.join('; ')})`);
    }
    await Promise.all([garbage.done, big.done, flood.done]);
    stalledConsole.sock.resume();
    stalledRaw.sock.resume();
    const r = await relay.exited;
    assert.equal(r.code, 0, relay.stderr());
    for (const c of readers) assertClientGotGame(c, want, c.tag);
    await Promise.all([...rawReaders, half, bogus].map((c) => c.done));
    rawReaders.forEach((c, i) => assertSameEvents(stripFillers(c.bytes()), want, `raw reader ${i}`));
    // half a handshake then silence: raw after 250 ms, from the game's Event Payloads
    assertSameEvents(stripFillers(half.bytes()), want, 'half-handshake client (raw)');
    // a bogus token and cursor: a fresh token, served from the game's start
    const msgs = consoleMessages(bogus.bytes());
    assert.equal(msgs[0].type, 1);
    assert.notEqual(u32(msgs[0].payload.clientToken), 0xdeadbeef);
    assert.equal(u64(msgs[0].payload.pos), 0n);
    const replays = msgs.filter((m) => m.type === 2);
    assert.equal(u64(replays[0].payload.pos), 0n);
    assert.equal(replays[0].payload.data[0], 0x35);
    assertSameEvents(Buffer.concat(replays.map((m) => Buffer.from(m.payload.data))), want, 'bogus-token client');

    const ev = readEvents(evFile).filter((e) => e.type === 'relay_client');
    const byAddr = (sock) => ev.filter((e) => e.address === `127.0.0.1:${sock.localPort}`);
    const reason = (c, event) => (byAddr(c).find((e) => e.event === event) || {}).reason || '';
    assert.match(reason(garbage, 'disconnected'), /handshake frame of \d+ bytes/);
    assert.match(reason(big, 'disconnected'), /handshake frame of 5000 bytes/);
    assert.match(reason(flood, 'disconnected'), /sent more than 65536 bytes/);
    assert.match(reason(half, 'connected'), /raw stream: 40 bytes but no complete handshake/);
    assert.match(reason(stalledRaw, 'disconnected'), /too slow: \d+ bytes behind/);
    assert.ok(
      byAddr(stalledConsole).some((e) => e.event === 'skipped' && e.skippedBytes > 0),
      'the stalled console client was moved forward',
    );
    // the history is 4 MiB, the replay 2.4 MB held by the file source; nothing grows with the stalled clients
    assert.ok(peakKb < 48 * 1024, `relay peak RSS ${peakKb} KiB`);
  } finally {
    for (const c of readers) c.close();
    await stop(relay);
  }
});

test('a thousand connects and disconnects with random early closes leak no descriptor', async () => {
  const name = 'realtimeTest.slp'; // about 12 s at --speed 3
  const want = replayEvents(name);
  const dir = tempDir('churn');
  const evFile = path.join(dir, 'events.jsonl');
  const relay = await startRelay([
    '--source',
    path.join(REPLAY_DIR, name),
    '--speed',
    '3',
    '--max-clients',
    '40',
    '--events',
    evFile,
  ]);
  const steady = consoleClient(relay.port, 'steady');
  const steadyRaw = rawClient(relay.port);
  await sleep(400);
  const pid = relay.child.pid;
  const fdBefore = fdCount(pid);
  let seed = 12345;
  const rand = (n) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
  const one = (i) =>
    new Promise((resolve) => {
      const kind = rand(6);
      const s = net.connect({ host: '127.0.0.1', port: relay.port });
      const end = () => {
        clearTimeout(guard);
        if (!s.destroyed) s.destroy();
        resolve();
      };
      const guard = setTimeout(end, 1500);
      s.on('error', () => {});
      s.on('data', () => {});
      s.on('close', end);
      s.on('connect', () => {
        if (kind === 0) return end();
        if (kind === 1) {
          s.write(handshake().subarray(0, 1 + rand(80)));
          return setTimeout(end, rand(100));
        }
        if (kind === 2) {
          s.write(handshake(BigInt(rand(100000)), i));
          return setTimeout(end, rand(400));
        }
        if (kind === 3) return setTimeout(end, 250 + rand(150));
        if (kind === 4) {
          s.write(handshake());
          return setTimeout(() => (s.resetAndDestroy(), end()), rand(300));
        }
        s.write(Buffer.from('\x00\x00\x00\x10garbage garbage!'));
        return setTimeout(end, rand(200));
      });
    });
  try {
    const started = Date.now();
    let next = 0;
    const worker = async () => {
      while (next < 1000 && Date.now() - started < 30000) await one(next++);
    };
    await Promise.all(Array.from({ length: 24 }, worker));
    assert.equal(next, 1000, 'all churn clients ran within 30 s');
    await sleep(500);
    const fdAfter = fdCount(pid);
    assert.equal(fdAfter, fdBefore, `descriptors before ${fdBefore}, after ${fdAfter}`);
    assert.ok(await steady.waitFiles(1, 20000), 'the steady client still got its game');
    assertClientGotGame(steady, want, 'steady client');
    const r = await relay.exited; // under ASan a leak makes this non-zero
    assert.equal(r.code, 0, relay.stderr().slice(-3000));
    await steadyRaw.done;
    assertSameEvents(stripFillers(steadyRaw.bytes()), want, 'steady raw client');
    const ev = readEvents(evFile).filter((e) => e.type === 'relay_client' && e.event === 'disconnected');
    assert.ok(ev.length >= 1000, `${ev.length} disconnect events`);
  } finally {
    steady.close();
    await stop(relay);
  }
});

// A console-protocol client that reads 64 KiB every 2 s: it keeps taking bytes (it never stalls), but far slower
// than the stream comes.
function slowConsoleClient(port) {
  const c = rawClient(port, { send: handshake(), pause: true });
  let budget = 0;
  c.sock.on('data', (d) => {
    budget -= d.length;
    if (budget <= 0) c.sock.pause();
  });
  c.timer = setInterval(() => {
    budget = 64 * 1024;
    c.sock.resume();
  }, 2000);
  c.close = () => {
    clearInterval(c.timer);
    c.sock.destroy();
  };
  return c;
}

test('slow console clients in every slot do not lock a slippi-js client out', async () => {
  const name = '200306_2258_Falco_v_Fox_PS.slp'; // 2.4 MB of events, about 15 s at --speed 10 (160 KB/s)
  const want = replayEvents(name);
  const dir = tempDir('slowslots');
  const evFile = path.join(dir, 'events.jsonl');
  const relay = await startRelay([
    '--source',
    path.join(REPLAY_DIR, name),
    '--speed',
    '10',
    '--max-clients',
    '4',
    '--lag-cap',
    '128K', // the slow clients pass it twice within about 6 s; slippi-js keeps well within it
    '--events',
    evFile,
  ]);
  const slow = Array.from({ length: 4 }, () => slowConsoleClient(relay.port));
  let client;
  try {
    await sleep(500); // every slot is taken
    const started = Date.now();
    client = consoleClient(relay.port, 'locked-out');
    assert.ok(await client.waitFiles(1, 30000), `slippi-js got no complete file (errors: ${client.errors.join('; ')})`);
    assertClientGotGame(client, want, 'slippi-js client');
    const r = await relay.exited;
    assert.equal(r.code, 0, relay.stderr());
    const ev = readEvents(evFile).filter((e) => e.type === 'relay_client');
    const refused = ev.filter((e) => e.event === 'disconnected' && /^refused: the relay is full/.test(e.reason));
    assert.ok(refused.length >= 1, 'the slippi-js client was refused while the slow clients held every slot');
    const joined = ev.find((e) => e.event === 'connected' && e.client > 4 && e.mode === 'console');
    assert.ok(joined, 'the slippi-js client got a slot');
    // each slow client: moved forward once, then dropped, which freed its slot
    for (const c of slow) {
      const mine = ev.filter((e) => e.address === `127.0.0.1:${c.localPort}`);
      assert.equal(mine.filter((e) => e.event === 'skipped').length, 1, JSON.stringify(mine));
      const gone = mine.find((e) => e.event === 'disconnected');
      assert.ok(gone && /too slow: .* after it was already moved forward/.test(gone.reason), JSON.stringify(mine));
    }
    assert.ok(Date.now() - started < 30000);
  } finally {
    for (const c of slow) c.close();
    if (client) client.close();
    await stop(relay);
  }
});

test('--max-clients-per-address refuses the extra clients cleanly, the reason logged once per burst', async () => {
  const bad = spawnSync(ANDROSS, ['relay', '--source', 'x.slp', '--max-clients-per-address', '0'], {
    encoding: 'utf8',
  });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--max-clients-per-address takes a whole number/);
  const name = 'realtimeTest.slp';
  const want = replayEvents(name);
  const relay = await startRelay([
    '--source',
    path.join(REPLAY_DIR, name),
    '--speed',
    '6',
    '--max-clients-per-address',
    '1',
  ]);
  const first = rawClient(relay.port);
  try {
    await sleep(300);
    const extra = Array.from({ length: 5 }, () => rawClient(relay.port, { send: handshake() }));
    await Promise.all(extra.map((c) => c.done));
    for (const c of extra) {
      assert.equal(c.error, null, `refused client saw ${c.error}: a reset, not a clean close`);
      assert.equal(c.bytes().length, 0);
    }
    await first.done;
    assertSameEvents(stripFillers(first.bytes()), want, 'the client within the limit');
    const r = await relay.exited;
    assert.equal(r.code, 0, relay.stderr());
    const err = relay.stderr();
    const limit = /refused: 127\.0\.0\.1 is at the limit of 1 client per address/;
    const lines = err.split('\n').filter((l) => limit.test(l));
    assert.equal(lines.length, 1, err);
    assert.match(err, /refused 4 more connections from 127\.0\.0\.1 in [\d.]+ s \(127\.0\.0\.1 is at the limit/);
  } finally {
    await stop(relay);
  }
});

test('a burst of 256 connects is queued at once, even while the relay cannot accept', async () => {
  const relay = await startRelay([
    '--source',
    path.join(REPLAY_DIR, '200306_2258_Falco_v_Fox_PS.slp'),
    '--speed',
    '1',
    '--max-clients',
    '300',
  ]);
  const socks = [];
  try {
    // stopped, the relay accepts nothing: only the kernel's queue (its listen backlog) holds the connections
    relay.child.kill('SIGSTOP');
    let connected = 0;
    for (let i = 0; i < 256; i++) {
      const s = net.connect({ host: '127.0.0.1', port: relay.port });
      s.on('error', () => {});
      s.on('connect', () => connected++);
      s.got = 0;
      s.on('data', (d) => (s.got += d.length));
      socks.push(s);
    }
    const until = Date.now() + 900; // a connect whose SYN found the queue full retries after 1 s
    while (connected < 256 && Date.now() < until) await sleep(20);
    assert.equal(connected, 256, `${connected} of 256 connects completed while the relay was busy`);
    relay.child.kill('SIGCONT');
    const served = Date.now() + 10000;
    while (socks.some((s) => s.got === 0) && Date.now() < served) await sleep(50);
    assert.equal(socks.filter((s) => s.got > 0).length, 256, 'every client is served once the relay runs');
  } finally {
    relay.child.kill('SIGCONT');
    for (const s of socks) s.destroy();
    await stop(relay);
  }
});
