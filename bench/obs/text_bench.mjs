// SPDX-License-Identifier: GPL-2.0-or-later
// bench/obs --text: how soon a "Slippi Text" source (andross_text) shows a stock lost. The real OBS 29 at 60 fps
// (under an Xvfb of its own, through tests/obs/e2e/lib/obs.mjs) with one andross_text source in the program scene,
// template "{p1.stocks} {p2.stocks} {p3.stocks} {p4.stocks}" (its text changes only when a stock is lost or a game
// starts), following a connection to `andross console-sim` playing real games in real time (--loop, --write-log).
// Measured: from the simulator's write of the stock-lost frame (CLOCK_MONOTONIC, --write-log) to the first render
// of the source after its inner text source was given the new text (os_gettime_ns in its video_render, read back
// with the source's proc get_text through the vendor request GetText, polled every 20 ms).
//
//   node bench/obs/text_bench.mjs [--build DIR] [--seconds S] [--replay FILE]... [--obs-fps N]
//
// Prints the numbers, the command and the machine. Exit 0 unless it could not run.
import fs from 'node:fs';
import { percentile, readOptions, start } from './common.mjs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(here, '../..');

const USAGE = `usage: node bench/obs/text_bench.mjs [--build DIR] [--seconds S] [--replay FILE]... [--obs-fps N]
                                     [--preview on|off]
  --build DIR      the build tree with obs-plugins/bin/andross.so and tools/andross (default: build)
  --seconds S      how long the games play (default 120)
  --replay FILE    a game for the simulator, played in a loop with the others (default tests/replays/v3.13.slp,
                   a 2.5 s game that ends on a stock lost)
  --obs-fps N      OBS's frame rate (default 60)
  --preview on|off OBS's preview in its main window (default off, as bench/obs: software rendering of the preview
                   costs OBS's graphics thread more than the program)`;

function parseArgs(argv) {
  const defaults = { build: path.join(REPO, 'build'), seconds: 120, replays: [], obsFps: 60, preview: false };
  const o = readOptions(argv, USAGE, defaults, (o, a, value, v) => {
    if (a === '--build') o.build = path.resolve(value);
    else if (a === '--seconds') o.seconds = v.num(5, 3600);
    else if (a === '--replay') o.replays = [...o.replays, path.resolve(value)];
    else if (a === '--obs-fps') o.obsFps = Math.round(v.num(1, 240));
    else if (a === '--preview') o.preview = v.oneOf('on', 'off') === 'on';
    else return false;
    return true;
  });
  if (!o.replays.length) o.replays.push(path.join(REPO, 'tests/replays/v3.13.slp'));
  return o;
}

const { opts, lib } = await start('text_bench', parseArgs, USAGE);


// `GAME FRAME STREAM_END WRITE_NS` lines: frame -> [ns, ...] in write order.
function readWrites(file) {
  const byFrame = new Map();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^(\d+) (start|-?\d+) \d+ (\d+)$/.exec(line);
    if (!m) continue;
    if (!byFrame.has(m[2])) byFrame.set(m[2], []);
    byFrame.get(m[2]).push(BigInt(m[3]));
  }
  return byFrame;
}

async function main() {
  console.log(`command: ${process.env.ANDROSS_BENCH_COMMAND || `node bench/obs/text_bench.mjs ${process.argv.slice(2).join(' ')}`}`);
  console.log(`machine: ${os.cpus()[0].model}, ${os.cpus().length} cores, ${os.release()}; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const frameMs = 1000 / opts.obsFps;
  console.log(`OBS at ${opts.obsFps} fps (a frame every ${frameMs.toFixed(2)} ms), preview ${opts.preview ? 'on' : 'off'}, not recording; games: ` +
    `${opts.replays.map((r) => path.basename(r)).join(', ')} in a loop, real time, for ${opts.seconds} s`);
  const tmp = lib.tempDir('bench-text');
  const writeLog = path.join(tmp, 'writes.txt');
  const home = lib.tempDir('bench-text-home');
  const wsPort = await lib.freePort();
  const { cfg, profile } = lib.writeObsConfig(home, { wsPort, recDir: path.join(home, 'recordings') });
  const global = path.join(cfg, 'global.ini');
  fs.writeFileSync(global, fs.readFileSync(global, 'utf8').replace('[BasicWindow]\n', `[BasicWindow]\nPreviewEnabled=${opts.preview}\n`));
  const ini = path.join(profile, 'basic.ini');
  fs.writeFileSync(ini, fs.readFileSync(ini, 'utf8').replace(/^FPSCommon=.*$/m, `FPSCommon=${opts.obsFps}`));
  let obs = null;
  let sim = null;
  try {
    obs = await lib.launchObs({ home, name: 'bench-text' });
    sim = await lib.startConsoleSim(opts.replays, { speed: 1, args: ['--loop', '--nick', 'bench-text', '--write-log', writeLog] });
    const { id } = await obs.vendorOk('AddConnection', { name: 'bench', url: `console://127.0.0.1:${sim.port}` });
    await obs.call('CreateInput', {
      sceneName: 'Game',
      inputName: 'Stocks',
      inputKind: 'andross_text',
      inputSettings: { template: '{p1.stocks} {p2.stocks} {p3.stocks} {p4.stocks}', connection: id },
    });
    // every text the source shows, with when it was given to the inner source and first drawn
    const texts = [];
    const until = Date.now() + opts.seconds * 1000;
    let lastChanged = null;
    while (Date.now() < until) {
      const r = await obs.vendorOk('GetText', { sourceName: 'Stocks' });
      if (r.changedNs !== lastChanged && r.shownNs >= r.changedNs && r.changedNs > 0) {
        lastChanged = r.changedNs;
        texts.push({ text: r.text, frame: r.frame, changed: BigInt(r.changedNs), shown: BigInt(r.shownNs) });
      }
      await lib.sleep(20);
    }
    const stats = await obs.call('GetStats');
    const lost = obs.events('stock_lost', id).map((e) => e.eventData);
    await sim.stop();
    sim = null;
    await obs.close();
    obs = null;

    // each stock lost: the first text made from its frame or later, against the last write of that frame before it
    const writes = readWrites(writeLog);
    const samples = [];
    const tickToRender = [];
    const writeToTick = [];
    let missing = 0;
    let used = 0;
    for (const ev of lost) {
      const list = writes.get(String(ev.frame)) || [];
      let best = null;
      for (let i = used; i < texts.length; i++) {
        const t = texts[i];
        if (t.frame < ev.frame) continue;
        const w = list.filter((ns) => ns <= t.changed).pop();
        if (w === undefined) continue;
        best = { t, w };
        used = i + 1;
        break;
      }
      if (!best) {
        missing++;
        continue;
      }
      samples.push(Number(best.t.shown - best.w) / 1e3);
      tickToRender.push(Number(best.t.shown - best.t.changed) / 1e3);
      writeToTick.push(Number(best.t.changed - best.w) / 1e3);
    }
    samples.sort((a, b) => a - b);
    tickToRender.sort((a, b) => a - b);
    writeToTick.sort((a, b) => a - b);
    const us = (x) => (x === null ? '-' : Math.round(x).toLocaleString('en-US'));
    console.log('');
    console.log(`stock_lost events ${lost.length}, texts seen ${texts.length}, matched ${samples.length}, unmatched ${missing}`);
    console.log(`OBS: ${stats.renderTotalFrames} frames rendered, ${stats.renderSkippedFrames} lagged, average render ${stats.averageFrameRenderTime.toFixed(2)} ms`);
    console.log('');
    console.log('| from | to | n | p50 µs | p99 µs | max µs |');
    console.log('|---|---|---:|---:|---:|---:|');
    console.log(`| simulator's write of the stock-lost frame | first render showing it | ${samples.length} | ${us(percentile(samples, 50))} | ${us(percentile(samples, 99))} | ${us(samples.length ? samples[samples.length - 1] : null)} |`);
    console.log(`| simulator's write of the stock-lost frame | text given to the inner source (OBS's tick) | ${writeToTick.length} | ${us(percentile(writeToTick, 50))} | ${us(percentile(writeToTick, 99))} | ${us(writeToTick.length ? writeToTick[writeToTick.length - 1] : null)} |`);
    console.log(`| text given to the inner source (tick) | first render showing it | ${tickToRender.length} | ${us(percentile(tickToRender, 50))} | ${us(percentile(tickToRender, 99))} | ${us(tickToRender.length ? tickToRender[tickToRender.length - 1] : null)} |`);
    const target = frameMs * 1000 + 1000;
    const p99 = percentile(samples, 99);
    console.log('');
    const under = samples.filter((x) => x < target).length;
    console.log(`under one OBS frame + 1 ms: ${under} of ${samples.length}; under one frame: ${samples.filter((x) => x < frameMs * 1000).length}`);
    console.log(`target: p99 under one OBS frame + 1 ms (${us(target)} µs): ${p99 === null ? 'not measured' : p99 < target ? 'met' : 'NOT met'} (${us(p99)} µs over ${samples.length})`);
  } catch (e) {
    console.log(`text_bench: the run did not complete: ${e.stack || e.message}`);
    process.exitCode = 1;
  } finally {
    if (sim) await sim.stop().catch(() => {});
    if (obs) await obs.close().catch(() => {});
  }
}

await main();
