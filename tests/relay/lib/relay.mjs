// SPDX-License-Identifier: GPL-2.0-or-later
// Helpers for the relay tests: start `andross relay` (and `andross console-sim`), real slippi-js clients
// (ConsoleConnection + SlpFileWriter), raw TCP clients, a frame-aware cutting proxy, and /proc readings.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const NODE_DIR = path.resolve(here, '../../node');
const repo = path.resolve(here, '../../..');
export const REPLAY_DIR = process.env.ANDROSS_REPLAY_DIR || path.join(repo, 'tests/replays');
export const ANDROSS = process.env.ANDROSS_TOOL || path.join(repo, 'build/tools/andross');

const require = createRequire(path.join(NODE_DIR, 'package.json'));
export const slippi = require('@slippi/slippi-js/node');

export const HELO = Buffer.from('HELO\0', 'latin1');

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const tempDirs = [];
// Removed when the test process exits, unless ANDROSS_KEEP_TMP is set (to look at what a failing test wrote).
process.on('exit', () => {
  if (process.env.ANDROSS_KEEP_TMP) return;
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

export function tempDir(tag) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `andross-relay-${tag}-`));
  tempDirs.push(d);
  return d;
}

// The event bytes of a .slp (raw length 0: to the end of the file).
export function slpEvents(file) {
  const b = fs.readFileSync(file);
  const len = b.readUInt32BE(11);
  return b.subarray(15, 15 + (len || b.length - 15));
}

export function replayEvents(name) {
  return slpEvents(path.join(REPLAY_DIR, name));
}

export function firstDiff(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

// Starts an andross command that prints `<prefix>listening on HOST:PORT`; resolves {child, port, stderr(), exited}.
function startTool(args, what) {
  return new Promise((resolve, reject) => {
    const child = spawn(ANDROSS, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const exited = new Promise((res) => child.on('exit', (code, signal) => res({ code, signal })));
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${err}`)), 10000);
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (\S+):(\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[2]), stderr: () => err, exited });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before listening: ${err}`));
    });
  });
}

export function startRelay(args) {
  return startTool(['relay', '--listen', '127.0.0.1:0', ...args], 'andross relay');
}

export function startConsoleSim(replays, args = []) {
  const a = ['console-sim', '--listen', '127.0.0.1:0', '--broadcast', 'off', ...args];
  for (const r of replays) a.push('--replay', path.join(REPLAY_DIR, r));
  return startTool(a, 'andross console-sim');
}

export async function stop(proc, timeoutMs = 5000) {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return proc && proc.exited;
  proc.child.kill('SIGTERM');
  const t = setTimeout(() => proc.child.kill('SIGKILL'), timeoutMs);
  const r = await proc.exited;
  clearTimeout(t);
  return r;
}

export function readEvents(file) {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}

// A slippi-js ConsoleConnection writing each game with an SlpFileWriter into its own folder.
export function consoleClient(port, tag) {
  const { ConsoleConnection, SlpFileWriter, SlpFileWriterEvent, ConnectionEvent } = slippi;
  const folder = tempDir(`client-${tag}`);
  const conn = new ConsoleConnection();
  const writer = new SlpFileWriter({ folderPath: folder, consoleNickname: 'relay-test' });
  const c = { conn, writer, folder, newFiles: [], completed: [], errors: [], handshakes: [], tag };
  conn.on(ConnectionEvent.HANDSHAKE, (d) => c.handshakes.push(d));
  conn.on(ConnectionEvent.ERROR, (e) => c.errors.push(String(e)));
  conn.on(ConnectionEvent.DATA, (d) => writer.write(d));
  writer.on(SlpFileWriterEvent.NEW_FILE, (p) => c.newFiles.push(p));
  writer.on(SlpFileWriterEvent.FILE_COMPLETE, (p) => c.completed.push(p));
  c.waitFiles = async (n, timeoutMs) => {
    const until = Date.now() + timeoutMs;
    while (c.completed.length < n && Date.now() < until) await sleep(50);
    return c.completed.length >= n;
  };
  c.close = () => {
    conn.disconnect();
    writer.endCurrentFile();
  };
  conn.connect('127.0.0.1', port, true);
  return c;
}

// A raw TCP client: sends `send` (if any), collects everything it receives.
export function rawClient(port, { send, pause = false } = {}) {
  const sock = net.connect({ host: '127.0.0.1', port });
  const c = { sock, chunks: [], closed: false, error: null };
  sock.on('connect', () => {
    c.localPort = sock.localPort;
    if (send) sock.write(send);
  });
  sock.on('data', (d) => c.chunks.push(d));
  sock.on('error', (e) => (c.error = e));
  c.done = new Promise((resolve) => sock.on('close', () => ((c.closed = true), resolve())));
  if (pause) sock.pause();
  c.bytes = () => Buffer.concat(c.chunks);
  return c;
}

// Event bytes of a raw stream: HELO fillers at event boundaries removed, using the 0x35 size table.
export function stripFillers(buf) {
  const out = [];
  let sizes = null;
  let pos = 0;
  while (pos < buf.length) {
    if (buf[pos] === 0x48 && buf.subarray(pos, pos + 5).equals(HELO)) {
      pos += 5;
      continue;
    }
    let size;
    if (buf[pos] === 0x35) {
      if (pos + 1 >= buf.length) break;
      size = 1 + buf[pos + 1];
      const table = new Map([[0x35, buf[pos + 1]]]);
      for (let p = pos + 2; p + 3 <= pos + 1 + buf[pos + 1]; p += 3) table.set(buf[p], buf.readUInt16BE(p + 1));
      sizes = table;
    } else {
      if (!sizes || !sizes.has(buf[pos])) {
        throw new Error(`raw stream not event-aligned: byte 0x${buf[pos].toString(16)} at ${pos}`);
      }
      size = 1 + sizes.get(buf[pos]);
    }
    if (pos + size > buf.length) break;
    out.push(buf.subarray(pos, pos + size));
    pos += size;
  }
  return Buffer.concat(out);
}

// The 83-byte slippi-js handshake (protocols.md §1.6).
export function handshake(cursor = 0n, token = 0, realtime = true) {
  const hex = [
    '0000004f', // body length 79
    '7b', // {
    '6904' + Buffer.from('type').toString('hex') + '6901',
    '6907' + Buffer.from('payload').toString('hex') + '7b',
    '6906' + Buffer.from('cursor').toString('hex') + '5b2455236908' + '00'.repeat(8),
    '690b' + Buffer.from('clientToken').toString('hex') + '5b2455236904' + '00'.repeat(4),
    '690a' + Buffer.from('isRealtime').toString('hex') + (realtime ? '54' : '46'),
    '7d7d',
  ].join('');
  const b = Buffer.from(hex, 'hex');
  b.writeBigUInt64BE(BigInt(cursor), 37);
  b.writeUInt32BE(token >>> 0, 64);
  return b;
}

// Splits console frames: [u32 BE length][body]. Returns {frames, rest}.
export function splitFrames(buf) {
  const frames = [];
  let pos = 0;
  while (buf.length - pos >= 4) {
    const n = buf.readUInt32BE(pos);
    if (buf.length - pos - 4 < n) break;
    frames.push(buf.subarray(pos + 4, pos + 4 + n));
    pos += 4 + n;
  }
  return { frames, rest: buf.subarray(pos) };
}

// A proxy that forwards relay -> client only in whole console frames and can cut the link at a frame boundary
// (slippi-js keeps a partial frame across reconnects, protocols.md §4, so a cut mid-frame would wedge it).
export function cuttingProxy(upstreamPort) {
  const p = { connections: 0, links: [] };
  p.server = net.createServer((down) => {
    p.connections++;
    const up = net.connect({ host: '127.0.0.1', port: upstreamPort });
    let pending = Buffer.alloc(0);
    const link = { up, down, cut: false };
    p.links.push(link);
    down.on('data', (d) => up.write(d));
    up.on('data', (d) => {
      if (link.cut) return;
      pending = Buffer.concat([pending, d]);
      const { rest } = splitFrames(pending);
      const whole = pending.subarray(0, pending.length - rest.length);
      if (whole.length) down.write(whole);
      pending = Buffer.from(rest);
    });
    const close = () => {
      up.destroy();
      down.end();
    };
    up.on('error', close);
    down.on('error', () => up.destroy());
    up.on('close', () => down.end());
    down.on('close', () => up.destroy());
    link.cutNow = () => {
      link.cut = true;
      down.end(); // FIN after the whole frames already written
      up.destroy();
    };
  });
  p.listening = new Promise((resolve) => p.server.listen(0, '127.0.0.1', () => resolve(p.server.address().port)));
  p.cut = () => {
    for (const l of p.links) if (!l.cut) l.cutNow();
  };
  p.close = () => new Promise((resolve) => p.server.close(() => resolve()));
  return p;
}

export function fdCount(pid) {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

// Peak and current resident memory in KiB.
export function memory(pid) {
  let s = '';
  try {
    s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return { hwmKb: 0, rssKb: 0 }; // exited
  }
  const kb = (k) => Number((new RegExp(`${k}:\\s+(\\d+)`).exec(s) || [0, 0])[1]);
  return { hwmKb: kb('VmHWM'), rssKb: kb('VmRSS') };
}
