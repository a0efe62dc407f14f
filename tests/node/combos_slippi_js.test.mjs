// SPDX-License-Identifier: GPL-2.0-or-later
// The `combo` events (docs/events.md) against slippi-js 9.1.2 as the oracle: for every replay slippi-js can read,
// the combo lines `andross record --source FILE --events -` prints are `new SlippiGame(file).getStats().combos`,
// field by field; the same for replays cut in the middle of a combo (with and without a Game End), where combos
// stay open and the last frames are not final; and the lines are the same bytes when the game comes live from
// `andross console-sim` and `andross dolphin-sim` instead of a file.
//
// Fields compared, per combo (matched by playerIndex and startFrame; percents within 0.01):
//   playerIndex, port, attacker.playerIndex (slippi-js lastHitBy), attacker.port, startFrame, endFrame (null where
//   slippi-js has undefined), startPercent, endPercent (null / undefined), currentPercent, didKill,
//   hits (= moves.length), moves[].frame, moves[].moveId, moves[].hitCount, moves[].damage,
//   moves[].playerIndex (slippi-js) = attacker.playerIndex, damage = (endPercent ?? currentPercent) - startPercent,
//   frame = endFrame, or the game_end's lastFrame for a combo still open.
// And per replay: the number of combos, and each combo line between game_start and game_end in frame order.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';

import { SlippiGame } from '@slippi/slippi-js/node';

import { Mismatches } from './lib/diff.mjs';
import { REPLAY_DIR, describeRun, makeTempDir, parseJsonLines, replays, requireTool, run } from './lib/env.mjs';
import { SLP_HEADER, readContainer, walkEvents } from './lib/slp.mjs';

const NEAR = 0.01;
const FRAME_EVENTS = new Set([0x37, 0x38, 0x3a, 0x3b, 0x3c, 0x3f, 0x40, 0x41]);

// slippi-js's combos, or null when it cannot read the replay.
function oracleCombos(input) {
  try {
    const stats = new SlippiGame(input).getStats();
    return stats ? stats.combos : null;
  } catch (e) {
    return null;
  }
}

// The tool's events for a replay file, as `record --events - --frames none` prints them.
async function toolEvents(tool, file) {
  const dir = makeTempDir('combos');
  try {
    const args = ['record', '--source', file, '--out', dir, '--events', '-', '--frames', 'none'];
    const r = await run(tool, args, { timeoutMs: 90000 });
    return { args, r, lines: r.stdout.split('\n').filter((l) => l.trim()) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function near(a, b) {
  if (a === undefined || a === null || b === undefined || b === null) return (a ?? null) === (b ?? null);
  return Math.abs(a - b) <= NEAR;
}

function checkNear(m, where, field, want, got) {
  if (!near(want, got)) m.add(where, field, want ?? null, got);
}

// Compares one game's combo events with slippi-js's combos; returns how many were compared.
function compareGame(m, where, want, events) {
  const combos = events.filter((e) => e.type === 'combo');
  m.check(where, 'number of combos', want.length, combos.length);
  const types = events.map((e) => e.type);
  const start = types.indexOf('game_start');
  const end = types.lastIndexOf('game_end');
  const lastFrame = end >= 0 ? events[end].lastFrame : null;
  events.forEach((e, i) => {
    if (e.type === 'combo' && (i < start || i > end)) m.fail(where, 'combo order', `combo line ${i} outside the game`);
  });
  for (let i = 1; i < combos.length; i++) {
    if (combos[i].frame < combos[i - 1].frame) {
      m.fail(where, 'combo order', `frame ${combos[i].frame} after ${combos[i - 1].frame}`);
    }
  }
  const byKey = new Map(combos.map((c) => [`${c.playerIndex}@${c.startFrame}`, c]));
  for (const w of want) {
    const key = `${w.playerIndex}@${w.startFrame}`;
    const at = `${where} combo on playerIndex ${w.playerIndex} from frame ${w.startFrame}`;
    const g = byKey.get(key);
    if (!g) {
      m.fail(at, 'missing', JSON.stringify(w).slice(0, 300));
      continue;
    }
    byKey.delete(key);
    m.check(at, 'port', w.playerIndex + 1, g.port);
    m.check(at, 'attacker.playerIndex (lastHitBy)', w.lastHitBy, g.attacker?.playerIndex);
    m.check(at, 'attacker.port', w.lastHitBy + 1, g.attacker?.port);
    m.check(at, 'endFrame', w.endFrame ?? null, g.endFrame);
    checkNear(m, at, 'startPercent', w.startPercent, g.startPercent);
    checkNear(m, at, 'endPercent', w.endPercent, g.endPercent);
    checkNear(m, at, 'currentPercent', w.currentPercent, g.currentPercent);
    checkNear(m, at, 'damage', (w.endPercent ?? w.currentPercent) - w.startPercent, g.damage);
    m.check(at, 'didKill', w.didKill, g.didKill);
    m.check(at, 'frame', w.endFrame ?? lastFrame, g.frame);
    m.check(at, 'hits', w.moves.length, g.hits);
    m.check(at, 'moves.length', w.moves.length, g.moves?.length);
    w.moves.forEach((wm, i) => {
      const gm = g.moves?.[i] ?? {};
      m.check(at, `moves[${i}].frame`, wm.frame, gm.frame);
      m.check(at, `moves[${i}].moveId`, wm.moveId, gm.moveId);
      m.check(at, `moves[${i}].hitCount`, wm.hitCount, gm.hitCount);
      checkNear(m, at, `moves[${i}].damage`, wm.damage, gm.damage);
      m.check(at, `moves[${i}].playerIndex (the attacker)`, wm.playerIndex, g.attacker?.playerIndex);
    });
  }
  for (const g of byKey.values()) m.fail(where, 'a combo slippi-js does not have', JSON.stringify(g).slice(0, 300));
  return want.length;
}

test('the combo events of every replay slippi-js reads are its getStats().combos', async () => {
  const tool = requireTool();
  const m = new Mismatches();
  let total = 0;
  let kills = 0;
  const counts = [];
  for (const rep of replays()) {
    const want = oracleCombos(rep.path);
    if (!want) {
      counts.push(`${rep.name}: not read by slippi-js`);
      continue;
    }
    const t = await toolEvents(tool, rep.path);
    const before = m.list.length;
    m.check(rep.name, 'record exit code', 0, t.r.code);
    let events = [];
    try {
      events = parseJsonLines(t.r.stdout, `${rep.name} record stdout`);
    } catch (e) {
      m.fail(rep.name, 'events', e.message);
    }
    total += compareGame(m, rep.name, want, events);
    kills += want.filter((c) => c.didKill).length;
    counts.push(`${rep.name}: ${want.length}`);
    if (m.list.length > before) console.log(describeRun(tool, t.args, t.r));
  }
  console.log(`combos per replay (slippi-js = andross): ${counts.join(', ')}; ${total} in all, ${kills} kills`);
  // Not vacuous: the samples hold real combos, kills among them.
  if (total < 100) m.fail('(all files)', 'combos compared', `only ${total}`);
  if (kills < 5) m.fail('(all files)', 'kill combos compared', `only ${kills}`);
  m.assertEmpty('andross combo events vs slippi-js getStats().combos');
});

// The frame of a frame-carrying event (Frame Start, Pre/Post, Item, Bookend, stage events), else null.
function eventFrame(events, pos) {
  return FRAME_EVENTS.has(events[pos]) ? events.readInt32BE(pos + 1) : null;
}

// The replay's events up to where frame `frame` + 1 first begins, then a Game End (NO_CONTEST) when asked, as an
// in-progress file (raw length 0: both readers read to the end).
function cutReplay(file, frame, withGameEnd) {
  const { events } = readContainer(fs.readFileSync(file));
  const { sizes } = walkEvents(events);
  let pos = 0;
  while (pos < events.length) {
    const f = eventFrame(events, pos);
    if (f !== null && f > frame) break;
    pos += 1 + sizes.get(events[pos]);
  }
  const parts = [Buffer.from(SLP_HEADER), Buffer.alloc(4), events.subarray(0, pos)];
  if (withGameEnd) {
    const end = Buffer.alloc(1 + sizes.get(0x39), 0xff);
    end[0] = 0x39;
    end[1] = 7;
    parts.push(end);
  }
  return Buffer.concat(parts);
}

// Replays of three eras (online with finalized frames, 3.3 without, 0.1 without Frame Bookend), each cut two frames
// after the second move of its longest combo.
const CUTS = ['v3.14.0.slp', 'ics2.slp', '200306_2258_Falco_v_Fox_PS.slp', 'sheik_vs_ics_yoshis.slp'];

test('replays cut inside a combo: open at a Game End, unfinished frames without one, as in slippi-js', async () => {
  const tool = requireTool();
  const m = new Mismatches();
  const dir = makeTempDir('combo-cuts');
  let open = 0;
  let compared = 0;
  try {
    for (const name of CUTS) {
      const full = oracleCombos(path.join(REPLAY_DIR, name));
      const longest = full.reduce((a, b) => (b.moves.length > a.moves.length ? b : a));
      const frame = longest.moves[1].frame + 2;
      for (const withGameEnd of [true, false]) {
        const where = `${name} cut after frame ${frame} ${withGameEnd ? 'with' : 'without'} a Game End`;
        const cut = path.join(dir, `${path.basename(name, '.slp')}-${frame}-${withGameEnd ? 'end' : 'open'}.slp`);
        fs.writeFileSync(cut, cutReplay(path.join(REPLAY_DIR, name), frame, withGameEnd));
        const want = oracleCombos(cut);
        if (!want) {
          m.fail(where, 'slippi-js', 'cannot read the cut replay');
          continue;
        }
        const t = await toolEvents(tool, cut);
        const before = m.list.length;
        const events = parseJsonLines(t.r.stdout, `${where} record stdout`);
        compared += compareGame(m, where, want, events);
        const stillOpen = want.filter((c) => c.endFrame === undefined).length;
        open += stillOpen;
        // With a Game End, the combo cut through is still open: the case this test is for.
        if (withGameEnd && !want.some((c) => c.startFrame === longest.startFrame && c.endFrame === undefined)) {
          m.fail(where, 'slippi-js', `the combo from frame ${longest.startFrame} is not open at the cut`);
        }
        console.log(`${where}: ${want.length} combos, ${stillOpen} open`);
        if (m.list.length > before) console.log(describeRun(tool, t.args, t.r));
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (open < CUTS.length) m.fail('(all cuts)', 'open combos compared', `only ${open}`);
  console.log(`${compared} combos compared on ${CUTS.length * 2} cut replays, ${open} of them open`);
  m.assertEmpty('andross combo events vs slippi-js on cut replays');
});

// ---- live: the same lines from a simulated console and a simulated Dolphin ----

const LIVE = ['ics2.slp', 'sheik_vs_ics_yoshis.slp', '200306_2258_Falco_v_Fox_PS.slp', 'v3.14.0.slp'];

function startSim(tool, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args[0]} did not start: ${err}`));
    }, 10000);
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      const x = /listening on (\S+):(\d+)\n/.exec(out);
      if (x) {
        clearTimeout(timer);
        resolve({ child, port: Number(x[2]), stderr: () => err });
      }
    });
    child.on('error', reject);
  });
}

// Each game's combo lines, in order, from JSON Lines holding several games.
function comboLinesByGame(lines) {
  const games = [];
  let current = null;
  for (const l of lines) {
    if (l.startsWith('{"type":"game_start",')) games.push((current = []));
    else if (l.startsWith('{"type":"combo",') && current) current.push(l);
  }
  return games;
}

async function liveMatchesFile(scheme, simCommand, simArgs) {
  const tool = requireTool();
  const want = [];
  for (const name of LIVE) {
    const t = await toolEvents(tool, path.join(REPLAY_DIR, name));
    want.push(t.lines.filter((l) => l.startsWith('{"type":"combo",')));
  }
  const sim = await startSim(tool, [
    simCommand,
    ...LIVE.flatMap((g) => ['--replay', path.join(REPLAY_DIR, g)]),
    '--listen',
    '127.0.0.1:0',
    '--speed',
    'max',
    ...simArgs,
  ]);
  const dir = makeTempDir(`combo-${scheme}`);
  try {
    const args = ['record', '--source', `${scheme}://127.0.0.1:${sim.port}`, '--out', dir, '--events', '-',
      '--frames', 'none', '--games', String(LIVE.length)];
    const t0 = Date.now();
    const r = await run(tool, args, { timeoutMs: 100000 });
    console.log(`${scheme}: ${LIVE.length} games recorded live in ${Date.now() - t0} ms`);
    const m = new Mismatches();
    m.check(scheme, 'record exit code', 0, r.code);
    const got = comboLinesByGame(r.stdout.split('\n'));
    m.check(scheme, 'games', LIVE.length, got.length);
    LIVE.forEach((name, i) => {
      const g = got[i] ?? [];
      m.check(`${scheme} ${name}`, 'number of combo lines', want[i].length, g.length);
      want[i].forEach((line, k) => {
        if (g[k] !== line) m.fail(`${scheme} ${name}`, `combo line ${k}`, `live ${g[k]}\n    file ${line}`);
      });
    });
    if (!m.empty) console.log(describeRun(tool, args, r), `\nsimulator: ${sim.stderr().slice(-2000)}`);
    m.assertEmpty(`combo lines live from ${simCommand} vs from the file`);
    if (want.flat().length < 100) throw new Error(`only ${want.flat().length} combo lines compared`);
  } finally {
    sim.child.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('live from a console, the combo lines are the bytes the file gives', async () => {
  await liveMatchesFile('console', 'console-sim', ['--broadcast', 'off']);
});

test('live from Dolphin, the combo lines are the bytes the file gives', async () => {
  await liveMatchesFile('dolphin', 'dolphin-sim', ['--wait', '1', '--menu-ms', '50']);
});
