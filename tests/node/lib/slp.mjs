// SPDX-License-Identifier: GPL-2.0-or-later
// Byte-level helpers for .slp files, written from docs/slp-format.md: the container header and a walk over the
// event stream using the Event Payloads (0x35) size table. Message Splitter (0x10) is an ordinary fixed-size event.

export const SLP_HEADER = Buffer.from([0x7b, 0x55, 0x03, 0x72, 0x61, 0x77, 0x5b, 0x24, 0x55, 0x23, 0x6c]);
export const RAW_OFFSET = 15;

// Container facts: raw length, whether the file is in progress, and the event bytes.
// For an in-progress file (raw length 0) the events run to the end of the file.
export function readContainer(buf) {
  if (buf.length < RAW_OFFSET || !buf.subarray(0, SLP_HEADER.length).equals(SLP_HEADER)) {
    throw new Error(`not a .slp file: bad or short header (${buf.length} bytes)`);
  }
  const rawLength = buf.readUInt32BE(11);
  const inProgress = rawLength === 0;
  const end = inProgress ? buf.length : RAW_OFFSET + rawLength;
  if (end > buf.length) {
    throw new Error(`raw length ${rawLength} runs past the end of the file (${buf.length} bytes)`);
  }
  return { rawLength, inProgress, events: buf.subarray(RAW_OFFSET, end), metadataOffset: inProgress ? null : end };
}

// Walks whole events. Returns completeBytes (bytes up to the end of the last complete event), count, per-command
// counts, the stream offset of every event boundary (Set), and why the walk stopped ("end", "partial", "unknown").
export function walkEvents(events, { boundaries = false } = {}) {
  const result = {
    completeBytes: 0,
    count: 0,
    counts: {},
    stop: 'end',
    detail: '',
    boundaries: boundaries ? new Set([0]) : null,
    sizes: null,
  };
  if (events.length === 0) return result;
  if (events[0] !== 0x35) {
    result.stop = 'unknown';
    result.detail = `first event is 0x${events[0].toString(16)}, not 0x35`;
    return result;
  }
  if (events.length < 2) {
    result.stop = 'partial';
    return result;
  }
  const tableSize = events[1];
  if (events.length < 1 + tableSize) {
    result.stop = 'partial';
    result.detail = 'inside Event Payloads';
    return result;
  }
  const sizes = new Map([[0x35, tableSize]]);
  for (let p = 2; p + 3 <= 1 + tableSize; p += 3) sizes.set(events[p], events.readUInt16BE(p + 1));
  result.sizes = sizes;
  let pos = 0;
  while (pos < events.length) {
    const cmd = events[pos];
    const size = sizes.get(cmd);
    if (size === undefined) {
      result.stop = 'unknown';
      result.detail = `undeclared command 0x${cmd.toString(16)} at stream byte ${pos}`;
      break;
    }
    if (pos + 1 + size > events.length) {
      result.stop = 'partial';
      result.detail = `0x${cmd.toString(16)} at stream byte ${pos}: ${events.length - pos} of ${1 + size} bytes`;
      break;
    }
    pos += 1 + size;
    result.count++;
    const key = '0x' + cmd.toString(16).padStart(2, '0');
    result.counts[key] = (result.counts[key] || 0) + 1;
    if (result.boundaries) result.boundaries.add(pos);
  }
  result.completeBytes = pos;
  return result;
}

// The complete-event bytes of a file's stream: everything for a finished file, complete events for an in-progress one.
export function completeEventBytes(buf) {
  const c = readContainer(buf);
  const w = walkEvents(c.events);
  return { container: c, walk: w, bytes: c.events.subarray(0, w.completeBytes) };
}

// First differing byte between two buffers, or -1 when equal.
export function firstDifference(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

export function hexAround(buf, offset, radius = 8) {
  const from = Math.max(0, offset - radius);
  return `[${from}..] ${buf.subarray(from, Math.min(buf.length, offset + radius)).toString('hex')}`;
}
