// SPDX-License-Identifier: GPL-2.0-or-later
// What slippi-js 9.1.2 says about a replay, in the shape of tests/replays/expected.json.
import { SlippiGame } from '@slippi/slippi-js/node';

import { round4 } from './diff.mjs';

// input: a path or a Buffer.
export function slippiSummary(input) {
  const game = new SlippiGame(input);
  const settings = game.getSettings() ?? null;
  const frames = game.getFrames();
  const frameNumbers = Object.keys(frames)
    .map(Number)
    .sort((a, b) => a - b);
  const finalPlayerState = {};
  for (const f of frameNumbers) {
    const players = frames[f].players || {};
    for (const [idx, p] of Object.entries(players)) {
      if (!p || !p.post) continue;
      finalPlayerState[idx] = {
        frame: f,
        stocksRemaining: p.post.stocksRemaining,
        percent: round4(p.post.percent),
        internalCharacterId: p.post.internalCharacterId,
      };
    }
  }
  const end = game.getGameEnd() ?? null;
  return {
    game,
    slpVersion: settings?.slpVersion ?? null,
    stageId: settings?.stageId ?? null,
    players: (settings?.players ?? []).map((p) => ({
      playerIndex: p.playerIndex,
      port: p.port,
      characterId: p.characterId,
      displayName: p.displayName,
      connectCode: p.connectCode,
      teamId: p.teamId,
      nametag: p.nametag,
      type: p.type,
      startStocks: p.startStocks,
      costume: p.characterColor,
    })),
    frames: {
      count: frameNumbers.length,
      first: frameNumbers.length ? frameNumbers[0] : null,
      lastInStream: frameNumbers.length ? frameNumbers[frameNumbers.length - 1] : null,
    },
    gameEnd: end && {
      gameEndMethod: end.gameEndMethod,
      lrasInitiatorIndex: end.lrasInitiatorIndex ?? null,
      placements: end.placements ?? null,
    },
    finalPlayerState,
    metadata: game.getMetadata() ?? null,
  };
}
