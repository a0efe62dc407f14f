// SPDX-License-Identifier: GPL-2.0-or-later
// bench/obs: N raw TCP clients of a relay, in a process of their own (so that reading them does not delay the
// obs-websocket client's stamps). Each connects, sends nothing (the relay serves it the raw stream after 250 ms)
// and reads everything as it comes.
//
//   node relay_clients.mjs HOST PORT N
//
// Prints `connected K` once every client has connected or failed. On a line `stop` on stdin (or stdin's end) it
// prints one JSON line {clients, connected, open, served, bytes: [per client], closed: [reasons]} and exits.
import net from 'node:net';
import readline from 'node:readline';

const [host, portText, nText] = process.argv.slice(2);
const port = Number(portText);
const n = Number(nText);
if (!host || !(port > 0) || !(n > 0)) {
  console.error('usage: node relay_clients.mjs HOST PORT N');
  process.exit(2);
}

const clients = [];
let settled = 0;
function settle(c) {
  if (c.settled) return;
  c.settled = true;
  if (++settled === n) console.log(`connected ${clients.filter((x) => x.connected).length}`);
}

for (let i = 0; i < n; i++) {
  const c = { bytes: 0, connected: false, closed: null, settled: false };
  clients.push(c);
  const s = net.connect({ host, port });
  c.socket = s;
  s.on('connect', () => {
    c.connected = true;
    settle(c);
  });
  s.on('data', (d) => {
    c.bytes += d.length;
  });
  s.on('error', (e) => {
    c.closed = c.closed || e.code || e.message;
    settle(c);
  });
  s.on('close', () => {
    c.closed = c.closed || (c.bytes ? 'closed by the relay' : 'closed by the relay before any byte');
    settle(c);
  });
}

let stopped = false;
function stop() {
  if (stopped) return;
  stopped = true;
  const open = clients.filter((c) => c.connected && !c.closed).length;
  const report = {
    clients: n,
    connected: clients.filter((c) => c.connected).length,
    open,
    served: clients.filter((c) => c.bytes > 0).length,
    bytes: clients.map((c) => c.bytes),
    closed: clients.map((c) => c.closed),
  };
  for (const c of clients) c.socket.destroy();
  process.stdout.write(`${JSON.stringify(report)}\n`, () => process.exit(0));
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (l) => {
  if (l.trim() === 'stop') stop();
});
rl.on('close', stop);
