import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReplayFormatError, loadReplay, parseReplay } from '../src/replay-file.js';
import { ReplayTimeline, LOOP_GAP_MS } from '../src/replay-timeline.js';
import { recordingLines, writeRecording } from './replay-fixture.js';

const ndjson = (lines: (object | string)[]): string =>
  lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n');

test('a recording parses into stream and REST lines with their symbols and streams', () => {
  const recording = parseReplay(ndjson(recordingLines()) + '\n\n');
  assert.equal(recording.lines.length, 4 + 40 * 2 * 4);
  assert.deepEqual(recording.symbols, ['AAAUSDT', 'BBBUSDT']);
  assert.deepEqual(
    [...recording.streams].sort(),
    ['aggTrade', 'bookTicker', 'depth@100ms', 'trade'].flatMap((t) => [`aaausdt@${t}`, `bbbusdt@${t}`]).sort(),
  );
  const [first, second] = recording.lines;
  assert.equal(first?.kind, 'rest');
  assert.equal(first?.symbol, 'AAAUSDT');
  assert.equal(first?.line, 1);
  assert.equal(second?.kind, 'stream');
  assert.ok(second?.kind === 'stream' && second.json === JSON.stringify(second.data));
});

test('bad lines fail with the line number and what is wrong', () => {
  const good = recordingLines().slice(0, 3);
  const cases: [object | string, RegExp][] = [
    ['{"ts": 1, "stream": ', /^line 4: not JSON/],
    [{ ts: 2e12, stream: 'aaausdt@trade', data: { e: 'trade', s: 'AAAUSDT' } }, /^line 4: aaausdt@trade data: E: /],
    [{ ts: 2e12, stream: 'aaausdt@depth@100ms', data: { e: 'depthUpdate' } }, /^line 4: aaausdt@depth@100ms data:/],
    [{ ts: 2e12, stream: 'AAAUSDT@trade', data: {} }, /^line 4: stream: expected a stream name/],
    [{ ts: -1, stream: 'aaausdt@kline_1m', data: {} }, /^line 4: ts:/],
    [{ ts: 2e12, rest: '/api/v3/ticker/24hr', body: {} }, /^line 4: rest: only \/api\/v3\/depth/],
    [
      { ts: 2e12, rest: '/api/v3/depth?limit=5', body: { lastUpdateId: 1, bids: [], asks: [] } },
      /^line 4: rest: expected symbol=SYMBOL/,
    ],
    [{ ts: 2e12, rest: '/api/v3/depth?symbol=AAAUSDT', body: { bids: [] } }, /^line 4: body.lastUpdateId/],
    [{ ts: 1, stream: 'aaausdt@kline_1m', data: {} }, /^line 4: ts 1 is earlier than the line before/],
    [{ ts: 2e12, stream: 'aaausdt@kline_1m', data: {}, extra: 1 }, /^line 4: .*extra/],
  ];
  for (const [bad, message] of cases) {
    assert.throws(
      () => parseReplay(ndjson([...good, bad])),
      (e: unknown) => e instanceof ReplayFormatError && message.test(e.message),
      JSON.stringify(bad),
    );
  }
  assert.throws(() => parseReplay('\n\n'), /no lines/);
});

test('other stream types pass as recorded', () => {
  const recording = parseReplay(ndjson([{ ts: 1, stream: 'aaausdt@kline_1m', data: { e: 'kline', k: { o: '1' } } }]));
  assert.deepEqual(recording.lines[0]?.kind === 'stream' && recording.lines[0].data, { e: 'kline', k: { o: '1' } });
});

test('loadReplay names the file in errors', async () => {
  const { file, cleanup } = writeRecording([...recordingLines().slice(0, 2), 'nope']);
  try {
    await assert.rejects(
      loadReplay(file),
      (e: unknown) => e instanceof ReplayFormatError && e.message.startsWith(`${file}: line 3:`),
    );
  } finally {
    cleanup();
  }
});

test('the timeline: due times, the snapshot at the current point, and looping', () => {
  const recording = parseReplay(ndjson(recordingLines()));
  const lines = recording.lines;
  const first = lines[0]?.ts ?? 0;
  const span = (lines[lines.length - 1]?.ts ?? 0) - first;
  const snapshotIds = (symbol: string): number[] =>
    lines.flatMap((l) => (l.kind === 'rest' && l.symbol === symbol ? [l.body.lastUpdateId] : []));
  const [early, late] = snapshotIds('BBBUSDT');

  const timeline = new ReplayTimeline(recording, true);
  assert.equal(timeline.snapshot('BBBUSDT')?.lastUpdateId, early, 'before any snapshot line: the first one');
  assert.equal(timeline.snapshot('NOPEUSDT'), undefined);
  let index = 0;
  for (; index < lines.length; index++) {
    assert.equal(timeline.nextDueMs(), (lines[index]?.ts ?? 0) - first);
    const line = timeline.peek();
    timeline.advance();
    if (line?.kind === 'rest' && line.symbol === 'BBBUSDT' && line.body.lastUpdateId === late) break;
  }
  assert.equal(timeline.snapshot('BBBUSDT')?.lastUpdateId, late, 'just past the second snapshot');
  for (index++; index < lines.length; index++) timeline.advance();
  assert.equal(timeline.passes, 1);
  assert.equal(timeline.finished, false);
  assert.equal(timeline.nextDueMs(), span + LOOP_GAP_MS, 'the second pass follows the first');
  assert.equal(timeline.snapshot('BBBUSDT')?.lastUpdateId, early, 'a new pass starts from the first snapshot');

  const once = new ReplayTimeline(recording, false);
  for (let i = 0; i < lines.length; i++) once.advance();
  assert.equal(once.finished, true);
  assert.equal(once.peek(), undefined);
  assert.equal(once.nextDueMs(), Number.POSITIVE_INFINITY);
  assert.equal(once.snapshot('BBBUSDT')?.lastUpdateId, late);
});
