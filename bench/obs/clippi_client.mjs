// SPDX-License-Identifier: GPL-2.0-or-later
// A Clippi-style automator, for bench/obs/scene_bench.mjs: a Node process of its own that reads the console with
// slippi-js (ConsoleConnection -> SlpStream, as Project Clippi and slp-realtime do) and switches OBS's program scene
// over obs-websocket (obs-websocket-js 5): Game Start -> "Game", Game End -> "Between games".
//
//   node bench/obs/clippi_client.mjs CONSOLE_PORT OBS_WS_PORT
//
// Prints `ready` once both are connected, `switched N` after each SetCurrentProgramScene; stops on stdin's end.
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../tests/node/package.json'));
const { Command, ConnectionEvent, ConsoleConnection, SlpStream, SlpStreamEvent } = require('@slippi/slippi-js/node');
const { OBSWebSocket } = require('obs-websocket-js/json');

const [consolePort, wsPort] = process.argv.slice(2).map(Number);
const obs = new OBSWebSocket();
await obs.connect(`ws://127.0.0.1:${wsPort}`, undefined, { rpcVersion: 1, eventSubscriptions: 0 });

const stream = new SlpStream();
let switched = 0;
stream.on(SlpStreamEvent.COMMAND, ({ command }) => {
  const scene = command === Command.GAME_START ? 'Game' : command === Command.GAME_END ? 'Between games' : null;
  if (!scene) return;
  obs.call('SetCurrentProgramScene', { sceneName: scene }).then(
    () => console.log(`switched ${++switched}`),
    (e) => console.error(`clippi_client: ${e.message}`),
  );
});
const conn = new ConsoleConnection();
conn.on(ConnectionEvent.DATA, (data) => stream.process(data));
conn.on(ConnectionEvent.ERROR, (e) => console.error(`clippi_client: console: ${e && e.message ? e.message : e}`));
conn.once(ConnectionEvent.HANDSHAKE, () => console.log('ready'));
conn.connect('127.0.0.1', consolePort, true);

process.stdin.resume();
process.stdin.on('end', async () => {
  conn.disconnect();
  await obs.disconnect();
  process.exit(0);
});
