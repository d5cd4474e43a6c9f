import assert from 'node:assert/strict';
import { test } from 'node:test';
import { depthTopicEventSchema, describeZodError, tradeEventSchema } from '../src/binance-events.js';

// Frames as Binance sends them (Binance.US capture, 2021-10-12).
const trade = {
  e: 'trade',
  E: 1633998288468,
  s: 'OMGBUSD',
  t: 425085,
  p: '13.80480000',
  q: '2.10000000',
  T: 1633998288467,
  m: false,
  M: true,
};
const diff = {
  e: 'depthUpdate',
  E: 1633998274793,
  s: 'COMPUSDT',
  U: 113129219,
  u: 113129219,
  b: [],
  a: [['297.32000000', '19.08719000']],
};

test('a Binance trade parses and keeps its extra fields', () => {
  const parsed = tradeEventSchema.parse(trade);
  assert.deepEqual(parsed, trade);
});

test('depth topic events are told apart by e', () => {
  assert.equal(depthTopicEventSchema.parse(diff).e, 'depthUpdate');
  const snapshot = { e: 'depthSnapshot', E: 1, s: 'COMPUSDT', lastUpdateId: 7, bids: [['1', '2']], asks: [] };
  assert.deepEqual(depthTopicEventSchema.parse(snapshot), snapshot);
});

test('bad fields are named in the error', () => {
  const result = tradeEventSchema.safeParse({ ...trade, p: 'abc', T: -1 });
  assert.equal(result.success, false);
  if (!result.success) {
    const message = describeZodError(result.error);
    assert.match(message, /p: expected a decimal string/);
    assert.match(message, /T: /);
  }
  const levels = depthTopicEventSchema.safeParse({ ...diff, a: [['1']] });
  assert.equal(levels.success, false);
});
