// SPDX-License-Identifier: GPL-2.0-or-later
// Where the tests find the andross tool, the replays and the oracle. CTest passes them as environment variables
// (see CMakeLists.txt); running by hand, the defaults point at a build in ../../build.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');

export const REPLAY_DIR = process.env.ANDROSS_REPLAY_DIR || path.join(repo, 'tests/replays');
export const ANDROSS = process.env.ANDROSS_TOOL || path.join(repo, 'build/tools/andross');
export const EXPECTED = JSON.parse(fs.readFileSync(path.join(REPLAY_DIR, 'expected.json'), 'utf8'));

// Replays in the folder, in a stable order, with their oracle entry.
export function replays() {
  return fs
    .readdirSync(REPLAY_DIR)
    .filter((f) => f.endsWith('.slp'))
    .sort()
    .map((name) => ({ name, path: path.join(REPLAY_DIR, name), expected: EXPECTED.files[name] }));
}

export function requireTool() {
  if (!fs.existsSync(ANDROSS)) {
    throw new Error(`andross tool not found at ${ANDROSS} (set ANDROSS_TOOL)`);
  }
  return ANDROSS;
}

export function makeTempDir(tag) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `andross-${tag}-`));
}

// Runs a command to completion. Resolves {code, signal, stdout, stderr} (strings); never rejects on exit status.
export function run(cmd, args, { timeoutMs = 60000, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        timedOut: signal === 'SIGKILL',
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

export function describeRun(cmd, args, r) {
  const tail = (s) => (s.length > 2000 ? '…' + s.slice(-2000) : s);
  return `command: ${[cmd, ...args].join(' ')}\nexit: ${r.code} signal: ${r.signal}\nstderr: ${tail(r.stderr)}`;
}

// Parses JSON Lines; throws with the line number on a bad line.
export function parseJsonLines(text, what) {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      try {
        return JSON.parse(l);
      } catch (e) {
        throw new Error(`${what}: line ${i + 1} is not JSON (${e.message}): ${l.slice(0, 200)}`);
      }
    });
}
