// SPDX-License-Identifier: GPL-2.0-or-later
// `andross inspect --json` agrees with tests/replays/expected.json (the slippi-js oracle) for every replay.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';

import { compareWithExpected, inspectAsSummary } from './lib/compare.mjs';
import { Mismatches } from './lib/diff.mjs';
import { describeRun, makeTempDir, parseJsonLines, replays, requireTool, run } from './lib/env.mjs';

const REQUIRED_FIELDS = ['file', 'error', 'container', 'gameStart', 'frames', 'finalPlayers', 'gameEnd',
  'gameEndEventCount', 'stream', 'metadata'];
// What inspect printed before it nested the events: a game's start, final state and end are said once, in the
// events' form (gameStart, finalPlayers, gameEnd), never a second time beside them.
const RETIRED_FIELDS = ['slpVersion', 'stageId', 'isTeams', 'startingTimerSeconds', 'players', 'finalPlayerState',
  'winners'];

// The checks of one inspect line: the oracle's fields, and the events' form of what inspect nests.
function checkInspection(m, rep, got) {
  for (const k of REQUIRED_FIELDS) if (!(k in got)) m.fail(rep.name, k, 'field missing');
  for (const k of RETIRED_FIELDS) if (k in got) m.fail(rep.name, k, 'said outside gameStart / finalPlayers / gameEnd');
  compareWithExpected(m, rep.name, rep.expected, inspectAsSummary(got));
  m.check(rep.name, 'gameStart.type', 'game_start', got.gameStart?.type);
  // Every replay here has a Game Start, so the game_end event was made, complete or not.
  m.check(rep.name, 'gameEnd.type', 'game_end', got.gameEnd?.type);
  m.check(rep.name, 'gameEnd.complete', rep.expected.gameEnd !== null, got.gameEnd?.complete);
  m.check(rep.name, 'finalPlayers: one per player', rep.expected.players.map((p) => p.playerIndex),
    (got.finalPlayers ?? []).map((p) => p.playerIndex));
}

test('inspect --json on every replay matches expected.json', async () => {
  const tool = requireTool();
  const all = replays();
  const args = ['inspect', ...all.map((r) => r.path), '--json'];
  const r = await run(tool, args);
  const m = new Mismatches();
  // Every replay here can be read at least in part (corrupt.slp has its settings), so the exit code is 0.
  m.check('(all files)', 'exit code', 0, r.code);
  let lines = [];
  try {
    lines = parseJsonLines(r.stdout, 'inspect stdout');
  } catch (e) {
    m.fail('(all files)', 'stdout', e.message);
  }
  m.check('(all files)', 'number of JSON lines', all.length, lines.length);
  all.forEach((rep, i) => {
    const got = lines[i];
    if (!got) return;
    m.check(rep.name, 'file (the path given, in order)', rep.path, got.file);
    checkInspection(m, rep, got);
    // corrupt.slp ends inside an event: the contract allows an error message for it, so only the others must be clean.
    if (rep.name !== 'corrupt.slp') m.check(rep.name, 'error', null, got.error ?? null);
    m.check(rep.name, 'container.rawLength', rep.expected.container.rawLength, got.container?.rawLength);
    m.check(rep.name, 'container.hasMetadata', rep.expected.container.hasMetadata, got.container?.hasMetadata);
  });
  if (!m.empty) console.log(describeRun(tool, args, r));
  m.assertEmpty('andross inspect vs expected.json');
});

test('inspect --json reports one line per file when run on each file alone', async () => {
  const tool = requireTool();
  const m = new Mismatches();
  for (const rep of replays()) {
    const r = await run(tool, ['inspect', rep.path, '--json']);
    m.check(rep.name, 'exit code', 0, r.code);
    const lines = parseJsonLines(r.stdout, `${rep.name} stdout`);
    m.check(rep.name, 'number of JSON lines', 1, lines.length);
    if (lines[0]) checkInspection(m, rep, lines[0]);
  }
  m.assertEmpty('andross inspect (one file per run)');
});

test('inspect exits non-zero and names the error for files it cannot read', async () => {
  const tool = requireTool();
  const dir = makeTempDir('inspect');
  const missing = path.join(dir, 'does-not-exist.slp');
  const garbage = path.join(dir, 'garbage.slp');
  fs.writeFileSync(garbage, Buffer.from('this is not a slippi replay at all\n'));
  const good = replays().find((r) => r.name === 'v3.13.slp');
  try {
    for (const bad of [missing, garbage]) {
      const args = ['inspect', good.path, bad, '--json'];
      const r = await run(tool, args);
      assert.notEqual(r.code, 0, `exit code for an unreadable file must be non-zero\n${describeRun(tool, args, r)}`);
      const lines = parseJsonLines(r.stdout, 'inspect stdout');
      const line = lines.find((l) => l.file === bad);
      assert.ok(line, `no JSON line for ${bad}\nstdout: ${r.stdout}`);
      assert.equal(typeof line.error, 'string', `error must be a message for ${bad}: ${JSON.stringify(line)}`);
      const ok = lines.find((l) => l.file === good.path);
      assert.ok(ok && ok.error === null, `the readable file is still reported: ${JSON.stringify(ok)}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
