// SPDX-License-Identifier: GPL-2.0-or-later
// `andross inspect --json` and `andross record --events -` say the same about a replay in the same bytes: inspect's
// gameStart and gameEnd are the game_start and game_end lines that record prints for that replay (docs/cli.md,
// docs/events.md), so the two forms cannot drift apart again.
import fs from 'node:fs';
import test from 'node:test';

import { Mismatches } from './lib/diff.mjs';
import { describeRun, makeTempDir, parseJsonLines, replays, requireTool, run } from './lib/env.mjs';

// The line record printed for one event type; exactly one is expected per replay.
function eventLines(stdout, type) {
  const prefix = `{"type":"${type}",`;
  return stdout.split('\n').filter((l) => l.startsWith(prefix));
}

test("inspect's gameStart and gameEnd are byte for byte record's game_start and game_end events", async () => {
  const tool = requireTool();
  const m = new Mismatches();
  let completeEnds = 0;
  for (const rep of replays()) {
    const dir = makeTempDir('inspect-events');
    try {
      // --frames none: frame events do not touch game_start or game_end, and a long game prints 12,000 of them.
      const recArgs = ['record', '--source', rep.path, '--out', dir, '--events', '-', '--frames', 'none'];
      const rec = await run(tool, recArgs, { timeoutMs: 60000 });
      const insArgs = ['inspect', '--json', rep.path];
      const ins = await run(tool, insArgs);
      const before = m.list.length;
      m.check(rep.name, 'record exit code', 0, rec.code);
      m.check(rep.name, 'inspect exit code', 0, ins.code);
      const starts = eventLines(rec.stdout, 'game_start');
      const ends = eventLines(rec.stdout, 'game_end');
      m.check(rep.name, 'game_start lines from record', 1, starts.length);
      m.check(rep.name, 'game_end lines from record', 1, ends.length);
      const line = ins.stdout.split('\n')[0];
      if (starts.length === 1 && ends.length === 1) {
        // The bytes: each event line sits in inspect's line as the value of its key, in inspect's field order.
        if (!line.includes(`"gameStart":${starts[0]},"frames":`)) {
          m.fail(rep.name, 'gameStart bytes', `not ${starts[0]}`);
        }
        if (!line.includes(`"gameEnd":${ends[0]},"gameEndEventCount":`)) {
          m.fail(rep.name, 'gameEnd bytes', `not ${ends[0]}`);
        }
        // The same as values, so that a failure shows which fields differ.
        const [got] = parseJsonLines(line, `${rep.name} inspect stdout`);
        m.check(rep.name, 'gameStart', JSON.parse(starts[0]), got?.gameStart);
        m.check(rep.name, 'gameEnd', JSON.parse(ends[0]), got?.gameEnd);
        if (JSON.parse(ends[0]).complete) completeEnds++;
      }
      if (m.list.length > before) {
        console.log(describeRun(tool, recArgs, rec));
        console.log(describeRun(tool, insArgs, ins));
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  // Not vacuous: every replay with a Game End was compared with a complete game_end.
  const withGameEnd = replays().filter((r) => r.expected.gameEnd !== null).length;
  m.check('(all files)', 'replays compared with a complete game_end', withGameEnd, completeEnds);
  m.assertEmpty('andross inspect vs andross record --events');
});
