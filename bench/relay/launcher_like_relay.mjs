// SPDX-License-Identifier: GPL-2.0-or-later
// A relay built the way Slippi Launcher's is (protocols.md §3.1; LAU console_relay.ts + mirror_manager.ts), for the
// relay benchmark only: a slippi-js ConsoleConnection to the console, its `data` written first to an SlpFileWriter
// and then to every relay client; a catch-up buffer of all chunks since the last Game End, sent whole to each new
// client; client input never read. Written from the protocol notes, not copied.
//
//   node launcher_like_relay.mjs --upstream HOST:PORT --listen HOST:PORT --out DIR
// Prints `relay listening on HOST:PORT` once the server listens.
import net from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const nodeDir = process.env.ANDROSS_NODE_DIR || path.resolve(here, '../../tests/node');
const require = createRequire(path.join(nodeDir, 'package.json'));
const { ConsoleConnection, ConnectionEvent, SlpFileWriter, SlpStreamEvent, Command } = require('@slippi/slippi-js/node');

const args = Object.fromEntries(
  process.argv
    .slice(2)
    .reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []),
);
const [upHost, upPort] = args.upstream.split(':');
const [listenHost, listenPort] = (args.listen || '127.0.0.1:0').split(':');

// console_relay.ts: one server, a chunk list, every chunk to every client
class ConsoleRelay {
  constructor() {
    this.clients = [];
    this.dataBuffer = [];
    this.server = net.createServer((socket) => {
      socket.setNoDelay().setTimeout(20000);
      socket.write(Buffer.concat(this.dataBuffer));
      this.clients.push(socket);
      socket.on('close', () => {
        this.clients = this.clients.filter((c) => c !== socket);
      });
      socket.on('error', () => {}); // the Launcher has none (§3.1); a benchmark must not die of an ECONNRESET
    });
  }
  write(data) {
    this.dataBuffer.push(data);
    for (const c of this.clients) c.write(data);
  }
  clearBuffer() {
    this.dataBuffer = [];
  }
}

const relay = new ConsoleRelay();
const writer = new SlpFileWriter({ folderPath: args.out || '.', consoleNickname: 'bench' });
// mirror_manager.ts: the buffer is cleared when the file writer sees a Game End
writer.getProcessor().on(SlpStreamEvent.COMMAND, (d) => {
  if (d.command === Command.GAME_END) relay.clearBuffer();
});
const conn = new ConsoleConnection();
conn.on(ConnectionEvent.DATA, (data) => {
  const b = Buffer.from(data);
  writer.write(b);
  relay.write(b);
});
conn.on(ConnectionEvent.ERROR, () => {});
relay.server.listen(Number(listenPort), listenHost, () => {
  const a = relay.server.address();
  process.stdout.write(`relay listening on ${a.address}:${a.port}\n`);
  conn.connect(upHost, Number(upPort), true);
});
process.on('SIGTERM', () => process.exit(0));
