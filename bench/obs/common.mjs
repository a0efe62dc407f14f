// SPDX-License-Identifier: GPL-2.0-or-later
// What the OBS benchmarks (obs_bench.mjs, text_bench.mjs, scene_bench.mjs) share: reading their options, loading
// the E2E harness (tests/obs/e2e/lib/obs.mjs) for the build tree they measure, and percentiles.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// Reads the command line with parseArgs (exit 2 with the usage when it throws), points the harness at opts.build
// (it reads where the plugin and the tool are when it is loaded) and loads it. Resolves {opts, lib}.
export async function start(name, parseArgs, usage) {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`${name}: ${e.message}\n${usage}`);
    process.exit(2);
  }
  process.env.ANDROSS_BUILD_DIR = opts.build;
  process.env.ANDROSS_OBS_PLUGIN_BIN ||= path.join(opts.build, 'obs-plugins/bin');
  process.env.ANDROSS_OBS_PLUGIN_DATA ||= path.join(opts.build, 'obs-plugins/data');
  process.env.ANDROSS_TOOL ||= path.join(opts.build, 'tools/andross');
  process.env.ANDROSS_SHOT_DIR ||= path.join(opts.build, 'bench-logs/obs');
  const lib = await import(pathToFileURL(path.join(REPO, 'tests/obs/e2e/lib/obs.mjs')).href);
  return { opts, lib };
}

// Nearest rank: the smallest value with at least p% of the sorted samples at or below it (null when none).
export function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1];
}
