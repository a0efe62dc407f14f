// SPDX-License-Identifier: GPL-2.0-or-later
// Compares a replay summary (from andross inspect or from slippi-js) with its expected.json entry on the fields
// the oracle defines. Fields a truncated file does not have are expected as null / empty, as expected.json says.
import { round4 } from './diff.mjs';

export const PLAYER_FIELDS = [
  'playerIndex',
  'port',
  'characterId',
  'displayName',
  'connectCode',
  'teamId',
  'nametag',
  'type',
  'startStocks',
  'costume',
];

export function compareWithExpected(m, where, exp, got, { winners = true, container = true } = {}) {
  m.check(where, 'slpVersion', exp.slpVersion, got.slpVersion);
  m.check(where, 'stageId', exp.stageId, got.stageId);

  const expPlayers = exp.players.map((p) => Object.fromEntries(PLAYER_FIELDS.map((k) => [k, p[k]])));
  const gotPlayers = Array.isArray(got.players) ? got.players : [];
  if (!Array.isArray(got.players)) m.fail(where, 'players', `not an array: ${JSON.stringify(got.players)}`);
  m.check(where, 'players.length', expPlayers.length, gotPlayers.length);
  expPlayers.forEach((ep, i) => {
    const gp = gotPlayers.find((p) => p && p.playerIndex === ep.playerIndex) ?? gotPlayers[i];
    if (!gp) {
      m.fail(where, `players[playerIndex=${ep.playerIndex}]`, 'missing');
      return;
    }
    for (const k of PLAYER_FIELDS) m.check(where, `players[playerIndex=${ep.playerIndex}].${k}`, ep[k], gp[k]);
  });

  m.check(where, 'frames.first', exp.frames.first, got.frames?.first ?? null);
  m.check(where, 'frames.lastInStream', exp.frames.lastInStream, got.frames?.lastInStream ?? null);

  if (exp.gameEnd === null) {
    m.check(where, 'gameEnd', null, got.gameEnd ?? null);
  } else if (!got.gameEnd) {
    m.check(where, 'gameEnd', exp.gameEnd, got.gameEnd ?? null);
  } else {
    m.check(where, 'gameEnd.gameEndMethod', exp.gameEnd.gameEndMethod, got.gameEnd.gameEndMethod);
    m.check(where, 'gameEnd.lrasInitiatorIndex', exp.gameEnd.lrasInitiatorIndex, got.gameEnd.lrasInitiatorIndex ?? null);
  }

  const expFps = exp.finalPlayerState;
  const gotFps = got.finalPlayerState ?? {};
  m.check(where, 'finalPlayerState keys', Object.keys(expFps).sort(), Object.keys(gotFps).sort());
  for (const [idx, e] of Object.entries(expFps)) {
    const g = gotFps[idx];
    if (!g) continue;
    m.check(where, `finalPlayerState.${idx}.frame`, e.frame, g.frame);
    m.check(where, `finalPlayerState.${idx}.stocksRemaining`, e.stocksRemaining, g.stocksRemaining);
    m.check(where, `finalPlayerState.${idx}.percent (4 decimals)`, round4(e.percent), round4(g.percent));
    m.check(where, `finalPlayerState.${idx}.internalCharacterId`, e.internalCharacterId, g.internalCharacterId);
  }

  if (winners) m.check(where, 'winners (vs winnersExpected)', exp.winnersExpected, got.winners);
  if (container) m.check(where, 'container.inProgress', exp.container.inProgress, got.container?.inProgress);
}

// `andross inspect --json` in the shape of an expected.json entry, for compareWithExpected. inspect nests the game's
// own game_start and game_end events (docs/events.md) as gameStart and gameEnd; a game_end without a Game End
// (`complete: false`) is expected.json's null. finalPlayers lists every player, with `frame: null` before its
// first frame; expected.json's finalPlayerState keys only players with a frame.
export function inspectAsSummary(got) {
  const start = got.gameStart ?? null;
  const end = got.gameEnd ?? null;
  const finalPlayers = Array.isArray(got.finalPlayers) ? got.finalPlayers : [];
  return {
    slpVersion: start ? start.slpVersion : null,
    stageId: start ? start.stageId : null,
    players: start ? start.players : [],
    frames: got.frames,
    gameEnd: end && end.complete ? end : null,
    finalPlayerState: Object.fromEntries(
      finalPlayers.filter((p) => p && p.frame !== null).map((p) => [String(p.playerIndex), p]),
    ),
    winners: end ? end.winners.map((w) => w.playerIndex) : null,
    container: got.container,
  };
}
