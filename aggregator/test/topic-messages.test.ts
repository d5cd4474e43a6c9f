import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDepthMessage, parseTradeMessage, tradeOf } from '../src/topic-messages.js';

const trade = {
  e: 'trade',
  E: 1_633_998_288_468,
  s: 'OMGBUSD',
  t: 425085,
  p: '13.80480000',
  q: '2.10000000',
  T: 1_633_998_288_467,
  m: false,
  M: true,
};
const buf = (value: unknown): Buffer => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

test('a Binance trade event parses and becomes an engine trade', () => {
  const parsed = parseTradeMessage(buf(trade));
  assert.ok(parsed.ok);
  assert.deepEqual(tradeOf(parsed.event), {
    symbol: 'OMGBUSD',
    tradeId: 425085,
    price: '13.80480000',
    qty: '2.10000000',
    tradeTimeMs: 1_633_998_288_467,
    isBuyerMaker: false,
  });
});

test('bad trade messages give a reason naming the problem', () => {
  const reason = (value: Buffer | null): string => {
    const parsed = parseTradeMessage(value);
    assert.ok(!parsed.ok);
    return parsed.reason;
  };
  assert.equal(reason(null), 'empty message');
  assert.equal(reason(Buffer.alloc(0)), 'empty message');
  assert.match(reason(buf('{"e":"trade",')), /^not JSON: /);
  assert.match(reason(buf({ ...trade, p: undefined })), /^not a trade event: p: /);
  assert.match(reason(buf({ ...trade, q: '1e-3' })), /^not a trade event: q: expected a decimal string/);
  assert.match(reason(buf({ ...trade, e: 'aggTrade' })), /^not a trade event: e: /);
  assert.match(reason(buf([1, 2])), /^not a trade event: /);
});

test('prices and quantities must fit Decimal(18, 8), the columns they are written through', () => {
  const tooFine = parseTradeMessage(buf({ ...trade, p: '13.804800001' }));
  assert.ok(!tooFine.ok);
  assert.equal(tooFine.reason, 'p: 13.804800001 has more than 10 integer or 8 fraction digits');
  const tooBig = parseTradeMessage(buf({ ...trade, q: '12345678901' }));
  assert.ok(!tooBig.ok);
  assert.match(tooBig.reason, /^q: 12345678901 /);
  assert.ok(parseTradeMessage(buf({ ...trade, p: '9999999999.99999999000' })).ok, 'trailing zeros are no digits');
  const level = parseDepthMessage(
    buf({ e: 'depthUpdate', E: 1, s: 'BTCUSDT', U: 5, u: 6, b: [['1.0', '2.0']], a: [['1.0', '0.000000001']] }),
  );
  assert.ok(!level.ok);
  assert.match(level.reason, /^a\.0\.1: 0\.000000001 /);
});

test('the depth topic takes depthUpdate and depthSnapshot, nothing else', () => {
  const update = parseDepthMessage(
    buf({ e: 'depthUpdate', E: 1, s: 'BTCUSDT', U: 5, u: 6, b: [], a: [['1.0', '2.0']] }),
  );
  assert.ok(update.ok && update.event.e === 'depthUpdate');
  const snapshot = parseDepthMessage(
    buf({ e: 'depthSnapshot', E: 1, s: 'BTCUSDT', lastUpdateId: 4, bids: [['1.0', '2.0']], asks: [] }),
  );
  assert.ok(snapshot.ok && snapshot.event.e === 'depthSnapshot');
  const wrong = parseDepthMessage(buf(trade));
  assert.ok(!wrong.ok);
  assert.match(wrong.reason, /^not a depthUpdate or depthSnapshot event: /);
  const missing = parseDepthMessage(buf({ e: 'depthUpdate', E: 1, s: 'BTCUSDT', U: 5, b: [], a: [] }));
  assert.ok(!missing.ok);
  assert.match(missing.reason, /u: /);
});
