// SPDX-License-Identifier: GPL-2.0-or-later
// CTest fixture: makes sure node_modules holds the locked packages, running `npm ci` only when it does not.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = JSON.parse(fs.readFileSync(path.join(here, 'package.json'), 'utf8'));

function installed(name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(here, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

const stale = Object.entries(pkg.dependencies).filter(([name, version]) => installed(name) !== version);
if (stale.length === 0) {
  console.log('node test dependencies: present');
  process.exit(0);
}
console.log(`node test dependencies missing or stale (${stale.map(([n]) => n).join(', ')}): running npm ci`);
const npm = process.env.NPM || 'npm';
const r = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: here, stdio: 'inherit' });
process.exit(r.status ?? 1);
