// SPDX-License-Identifier: GPL-2.0-or-later
// Helpers for the Dolphin end-to-end tests: start `andross dolphin-sim`, run `andross record` against it, and read
// the event bytes of replays and of the files written.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ANDROSS, REPLAY_DIR } from '../../node/lib/env.mjs';
import { readContainer } from '../../node/lib/slp.mjs';

export { ANDROSS, REPLAY_DIR };

export function replayEvents(name) {
  return readContainer(fs.readFileSync(path.join(REPLAY_DIR, name))).events;
}

export function fileEvents(file) {
  const c = readContainer(fs.readFileSync(file));
  return c;
}

// Starts the simulator; resolves {child, port, stderr()} once it prints `listening on HOST:PORT`.
export function startSim(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(ANDROSS, ['dolphin-sim', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`dolphin-sim did not start: ${err}`)), 10000);
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (\S+):(\d+)\n/);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[2]), stderr: () => err, exited: waitExit(child) });
      }
    });
    child.on('error', reject);
  });
}

export function waitExit(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.on('exit', (code, signal) => resolve({ code, signal }));
  });
}

// Runs `andross record`; resolves {code, stderr, events (parsed JSON lines), files (in the order written)}.
export function record(port, outDir, extra = [], { timeoutMs = 60000, onEvent } = {}) {
  return new Promise((resolve, reject) => {
    const args = ['record', '--source', `dolphin://127.0.0.1:${port}`, '--out', outDir, '--events', '-', ...extra];
    const child = spawn(ANDROSS, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const events = [];
    child.stdout.on('data', (d) => {
      out += d;
      let nl;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (!line.trim()) continue;
        const ev = JSON.parse(line);
        if (ev.type === 'connection' || ev.type === 'gap') {
          events.push(ev);
          if (onEvent) onEvent(ev, child);
        }
      }
    });
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const files = [...err.matchAll(/^writing (.*)$/gm)].map((m) => m[1]);
      resolve({ code, signal, stderr: err, events, files, child });
    });
  });
}

export function firstDiff(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}
