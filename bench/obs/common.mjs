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

// Reads `--name value` pairs onto a copy of defaults: take(name, value, v) sets what the option means and returns
// false for an option it does not know. v checks the value: v.num(min, max), v.int(min, max) (a whole number),
// v.oneOf(...words). --help or -h prints the usage and exits 0. Throws on a missing value, a bad one or an unknown
// option (start() then prints the usage and exits 2).
export function readOptions(argv, usage, defaults, take) {
  const o = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      console.log(usage);
      process.exit(0);
    }
    const value = argv[++i];
    if (value === undefined) throw new Error(`${a} needs a value`);
    const range = (min, max, whole) => {
      const n = Number(value);
      if (!(whole ? Number.isInteger(n) : Number.isFinite(n)) || n < min || n > max)
        throw new Error(`${a} takes a ${whole ? 'whole number' : 'number'} from ${min} to ${max}, not '${value}'`);
      return n;
    };
    const v = {
      num: (min, max) => range(min, max, false),
      int: (min, max) => range(min, max, true),
      oneOf: (...words) => {
        if (!words.includes(value)) throw new Error(`${a} takes ${words.join(' or ')}, not '${value}'`);
        return value;
      },
    };
    if (take(o, a, value, v) === false) throw new Error(`unknown option ${a}`);
  }
  return o;
}

// Nearest rank: the smallest value with at least p% of the sorted samples at or below it (null when none).
export function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1];
}
