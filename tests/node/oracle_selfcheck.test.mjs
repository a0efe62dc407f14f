// SPDX-License-Identifier: GPL-2.0-or-later
// Guards the oracle itself: slippi-js 9.1.2 (as installed here) must reproduce tests/replays/expected.json, and the
// byte-level walker in lib/slp.mjs must agree with its stream facts. Needs no andross build.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import test from 'node:test';

import { compareWithExpected } from './lib/compare.mjs';
import { Mismatches } from './lib/diff.mjs';
import { replays } from './lib/env.mjs';
import { slippiSummary } from './lib/oracle.mjs';
import { readContainer, walkEvents } from './lib/slp.mjs';

test('slippi-js reproduces expected.json for every original replay', () => {
  const m = new Mismatches();
  for (const r of replays()) {
    assert.ok(r.expected, `${r.name} has no expected.json entry`);
    const s = slippiSummary(r.path);
    compareWithExpected(m, r.name, r.expected, s, { winners: false, container: false });
    m.check(r.name, 'frames.distinct', r.expected.frames.distinct, s.frames.count);
  }
  m.assertEmpty('slippi-js vs expected.json');
});

test('the event walker agrees with expected.json stream facts', () => {
  const m = new Mismatches();
  for (const r of replays()) {
    const buf = fs.readFileSync(r.path);
    const c = readContainer(buf);
    m.check(r.name, 'container.rawLength', r.expected.container.rawLength, c.rawLength);
    m.check(r.name, 'container.inProgress', r.expected.container.inProgress, c.inProgress);
    const w = walkEvents(c.events);
    m.check(r.name, 'walk reaches end', r.expected.stream.truncatedLastEvent ? 'partial' : 'end', w.stop);
    for (const [cmd, n] of Object.entries(r.expected.stream.eventCounts)) {
      if (!cmd.startsWith('0x')) continue; // e.g. reassembled_0x3d: messages, not stream events
      m.check(r.name, `eventCounts.${cmd}`, n, w.counts[cmd] ?? 0);
    }
  }
  m.assertEmpty('walker vs expected.json');
});
