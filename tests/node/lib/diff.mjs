// SPDX-License-Identifier: GPL-2.0-or-later
// Collects field-by-field mismatches so a failing test prints every difference at once, as
// "file: field: expected X, got Y".
import util from 'node:util';

export class Mismatches {
  constructor() {
    this.list = [];
  }

  add(where, field, expected, actual) {
    this.list.push({ where, field, expected, actual });
  }

  // Compares with strict deep equality; records a mismatch and returns false when different.
  check(where, field, expected, actual) {
    if (util.isDeepStrictEqual(expected, actual)) return true;
    this.add(where, field, expected, actual);
    return false;
  }

  fail(where, field, message) {
    this.list.push({ where, field, message });
  }

  get empty() {
    return this.list.length === 0;
  }

  report() {
    const show = (v) => util.inspect(v, { depth: 6, breakLength: Infinity, maxArrayLength: 20 });
    return this.list
      .map((m) =>
        m.message !== undefined
          ? `  ${m.where}: ${m.field}: ${m.message}`
          : `  ${m.where}: ${m.field}: expected ${show(m.expected)}, got ${show(m.actual)}`,
      )
      .join('\n');
  }

  assertEmpty(title) {
    if (!this.empty) {
      throw new Error(`${title}: ${this.list.length} mismatch(es)\n${this.report()}`);
    }
  }
}

export function round4(x) {
  return typeof x === 'number' ? Math.round(x * 1e4) / 1e4 : x;
}
