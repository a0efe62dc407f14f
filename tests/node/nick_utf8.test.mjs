// SPDX-License-Identifier: GPL-2.0-or-later
// A `--nick` longer than its field is cut between UTF-8 characters, never inside one: slippi-js 9.1.2 reads the
// replay's metadata.consoleNick (record, 63 bytes) and the relay's handshake nick (32 bytes) as valid UTF-8.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';

import { ConnectionEvent, ConsoleConnection, SlippiGame } from '@slippi/slippi-js/node';

import { REPLAY_DIR, describeRun, makeTempDir, requireTool, run } from './lib/env.mjs';

const REPLAY = path.join(REPLAY_DIR, 'v3.13.slp');
const a = (n) => 'a'.repeat(n);

// The nick given, and what must come out of a 63-byte field.
const RECORD_CASES = [
  { what: 'é across the boundary', nick: a(62) + 'é', want: a(62) },
  { what: 'a 4-byte emoji across the boundary', nick: a(60) + '🎮', want: a(60) },
  { what: 'a 4-byte emoji that just fits', nick: a(59) + '🎮', want: a(59) + '🎮' },
  { what: 'kana, 3 bytes each', nick: 'ネ'.repeat(30), want: 'ネ'.repeat(21) },
];

test('record --nick: metadata.consoleNick is cut between characters', async () => {
  const tool = requireTool();
  for (const c of RECORD_CASES) {
    const dir = makeTempDir('nick');
    try {
      const args = ['record', '--source', REPLAY, '--out', dir, '--nick', c.nick];
      const r = await run(tool, args, { timeoutMs: 60000 });
      assert.equal(r.code, 0, describeRun(tool, args, r));
      const files = fs.readdirSync(dir).filter((f) => f.endsWith('.slp'));
      assert.equal(files.length, 1, `${c.what}: ${files.length} files`);
      const meta = new SlippiGame(path.join(dir, files[0])).getMetadata();
      const nick = meta?.consoleNick;
      assert.ok(!String(nick).includes('\uFFFD'), `${c.what}: consoleNick is not valid UTF-8: ${JSON.stringify(nick)}`);
      assert.equal(nick, c.want, c.what);
      assert.ok(Buffer.byteLength(nick, 'utf8') <= 63, c.what);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
});

// Starts `andross relay` and resolves its port once it prints `relay listening on HOST:PORT`.
function startRelay(tool, args) {
  const child = spawn(tool, ['relay', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  const port = new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on [^\s]*:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    exited.then((code) => reject(new Error(`relay exited ${code} before listening: ${err}`)));
  });
  return { child, port, exited, stderr: () => err };
}

test('relay --nick: the handshake nick is cut between characters', async () => {
  const tool = requireTool();
  const nick = a(31) + 'é'; // the relay's field holds 32 bytes
  const relay = startRelay(tool, ['--source', REPLAY, '--speed', '1', '--listen', '127.0.0.1:0', '--nick', nick]);
  const conn = new ConsoleConnection();
  try {
    const port = await relay.port;
    const details = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no handshake: ${relay.stderr()}`)), 20000);
      conn.on(ConnectionEvent.HANDSHAKE, (d) => {
        clearTimeout(timer);
        resolve(d);
      });
      conn.on(ConnectionEvent.ERROR, () => {});
      conn.connect('127.0.0.1', port, false);
    });
    assert.ok(!details.consoleNick.includes('\uFFFD'), `not valid UTF-8: ${JSON.stringify(details.consoleNick)}`);
    assert.equal(details.consoleNick, a(31));
  } finally {
    conn.disconnect();
    relay.child.kill('SIGTERM');
    await relay.exited;
  }
});
