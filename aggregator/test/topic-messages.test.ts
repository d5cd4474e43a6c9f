import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BINANCE_FIRST_DAY_MS,
  MAX_AHEAD_MS,
  parseDepthMessage,
  parseTradeMessage,
  type Parsed,
  type RecordEnvelope,
} from '../src/topic-messages.js';
import { scanTrade } from '../src/trade-scanner.js';
import type { TradeEvent } from '@candleflow/common/binance-events';
import { parseUnits } from '@candleflow/common/decimal';

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

/** The record as the producer writes it: keyed by symbol, stamped a little after the trade. */
const envelope = (symbol = 'OMGBUSD', timestampMs = trade.T + 5): RecordEnvelope => ({
  key: Buffer.from(symbol),
  timestampMs,
});
const depthEnvelope = envelope('BTCUSDT', 1_633_998_288_467);
const E = 1_633_998_288_000;

function failure<T>(parsed: Parsed<T>): string {
  assert.ok(!parsed.ok, 'expected a rejection');
  return `${parsed.reason}: ${parsed.detail}`;
}

test('a Binance trade event parses into an engine trade, its decimals in units of 10^-8', () => {
  const parsed = parseTradeMessage(buf(trade), envelope());
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.event, {
    symbol: 'OMGBUSD',
    tradeId: 425085,
    price: 1_380_480_000n,
    qty: 210_000_000n,
    tradeTimeMs: 1_633_998_288_467,
    isBuyerMaker: false,
    eventTimeMs: 1_633_998_288_468,
    fromRest: false,
  });
  // A REST repair: the header `source: rest`, as a Buffer (KafkaJS) or a string.
  for (const source of [Buffer.from('rest'), 'rest']) {
    const repaired = parseTradeMessage(buf(trade), { ...envelope(), headers: { source } });
    assert.ok(repaired.ok && repaired.event.fromRest, String(source));
  }
  const other = parseTradeMessage(buf(trade), { ...envelope(), headers: { source: Buffer.from('ws') } });
  assert.ok(other.ok && !other.event.fromRest);
});

test('bad trade messages give a reason naming the problem', () => {
  const reason = (value: Buffer | null): string => failure(parseTradeMessage(value, envelope()));
  assert.equal(reason(null), 'empty: empty message');
  assert.equal(reason(Buffer.alloc(0)), 'empty: empty message');
  assert.match(reason(buf('{"e":"trade",')), /^not_json: not JSON: /);
  assert.match(reason(buf({ ...trade, p: undefined })), /^schema: not a trade event: p: /);
  assert.match(reason(buf({ ...trade, q: '1e-3' })), /^schema: not a trade event: q: expected a decimal string/);
  assert.match(reason(buf({ ...trade, q: '-1' })), /^schema: not a trade event: q: expected a decimal string/);
  assert.match(reason(buf({ ...trade, t: '425085' })), /^schema: not a trade event: t: /);
  assert.match(reason(buf({ ...trade, t: 2 ** 64 })), /^schema: not a trade event: t: /);
  assert.match(reason(buf({ ...trade, m: 'false' })), /^schema: not a trade event: m: /);
  assert.match(reason(buf({ ...trade, e: 'aggTrade' })), /^schema: not a trade event: e: /);
  assert.match(reason(buf([1, 2])), /^schema: not a trade event: /);
  assert.match(reason(buf('null')), /^schema: not a trade event: /);
});

test('the key must be the symbol', () => {
  assert.ok(parseTradeMessage(buf(trade), envelope('OMGBUSD')).ok);
  assert.equal(
    failure(parseTradeMessage(buf(trade), envelope('BTCUSDT'))),
    'key_mismatch: key "BTCUSDT" is not the symbol OMGBUSD',
  );
  assert.match(failure(parseTradeMessage(buf(trade), envelope('OMGBUSDT'))), /^key_mismatch: /);
  assert.match(failure(parseTradeMessage(buf(trade), envelope('omgbusd'))), /^key_mismatch: /);
  assert.equal(
    failure(parseTradeMessage(buf(trade), { ...envelope(), key: null })),
    'key_mismatch: no key is not the symbol OMGBUSD',
  );
  const depth = { e: 'depthUpdate', E, s: 'BTCUSDT', U: 5, u: 6, b: [], a: [] };
  assert.match(failure(parseDepthMessage(buf(depth), envelope('ETHUSDT', E))), /^key_mismatch: /);
});

test("trade times from Binance's first day up to a minute after the record are accepted", () => {
  const at = (T: number, recordMs: number) => parseTradeMessage(buf({ ...trade, T }), envelope('OMGBUSD', recordMs));
  const now = 1_800_000_000_000;
  assert.ok(at(BINANCE_FIRST_DAY_MS, now).ok, 'the first day itself');
  assert.match(
    failure(at(BINANCE_FIRST_DAY_MS - 1, now)),
    /^time_range: T=1499990399999 is before Binance's first day/,
  );
  assert.match(failure(at(0, now)), /^time_range: T=0 /);
  assert.ok(at(now + MAX_AHEAD_MS, now).ok, 'exactly a minute ahead');
  assert.equal(
    failure(at(now + MAX_AHEAD_MS + 1, now)),
    `time_range: T=${now + MAX_AHEAD_MS + 1} is more than 60 s after the record's timestamp ${now}`,
  );
  assert.match(failure(at(4_102_444_800_000, now)), /^time_range: /, 'year 2100');
  assert.ok(at(BINANCE_FIRST_DAY_MS + 1000, now).ok, 'a replayed recording: old, behind its record');
  const depth = (e: number) => ({ e: 'depthUpdate', E: e, s: 'BTCUSDT', U: 5, u: 6, b: [], a: [] });
  assert.match(failure(parseDepthMessage(buf(depth(0)), depthEnvelope)), /^time_range: E=0 /);
  assert.match(failure(parseDepthMessage(buf(depth(E + 10 * MAX_AHEAD_MS)), depthEnvelope)), /^time_range: E=/);
});

test("a trade's price and quantity must be positive", () => {
  assert.equal(
    failure(parseTradeMessage(buf({ ...trade, p: '0' }), envelope())),
    'not_positive: p: price 0 is not positive',
  );
  assert.equal(
    failure(parseTradeMessage(buf({ ...trade, q: '0.00000000' }), envelope())),
    'not_positive: q: quantity 0.00000000 is not positive',
  );
  assert.ok(parseTradeMessage(buf({ ...trade, q: '0.00000001' }), envelope()).ok);
});

test('prices and quantities must fit Decimal(18, 8), the columns they are written through', () => {
  assert.equal(
    failure(parseTradeMessage(buf({ ...trade, p: '13.804800001' }), envelope())),
    'precision: p: 13.804800001 has more than 10 integer or 8 fraction digits',
  );
  assert.match(
    failure(parseTradeMessage(buf({ ...trade, q: '12345678901' }), envelope())),
    /^precision: q: 12345678901 /,
  );
  assert.ok(
    parseTradeMessage(buf({ ...trade, p: '9999999999.99999999000' }), envelope()).ok,
    'trailing zeros are no digits',
  );
  const level = parseDepthMessage(
    buf({ e: 'depthUpdate', E, s: 'BTCUSDT', U: 5, u: 6, b: [['1.0', '2.0']], a: [['1.0', '0.000000001']] }),
    depthEnvelope,
  );
  assert.match(failure(level), /^precision: a\.0\.1: 0\.000000001 /);
});

test('depth levels: quantity 0 removes a level, a price of 0 or a malformed level is refused', () => {
  const update = (b: unknown[]) =>
    parseDepthMessage(buf({ e: 'depthUpdate', E, s: 'BTCUSDT', U: 5, u: 6, b, a: [] }), depthEnvelope);
  assert.ok(update([['1.5', '0']]).ok);
  assert.equal(
    failure(
      update([
        ['1.5', '1'],
        ['0.000', '1'],
      ]),
    ),
    'not_positive: b.1.0: price 0.000 is not positive',
  );
  assert.match(failure(update([['1.5']])), /^schema: /);
  assert.match(failure(update([['1.5', '1', '2']])), /^schema: /);
  assert.match(failure(update([[1.5, '1']])), /^schema: /);
  assert.match(failure(update(['1.5'])), /^schema: /);
});

test("a diff's update ids must be ordered; a reason over thousands of bad levels stays short", () => {
  const ids = parseDepthMessage(buf({ e: 'depthUpdate', E, s: 'BTCUSDT', U: 7, u: 6, b: [], a: [] }), depthEnvelope);
  assert.equal(failure(ids), 'update_ids: U=7 is above u=6');
  assert.match(
    failure(parseDepthMessage(buf({ e: 'depthUpdate', E, s: 'BTCUSDT', U: -1, u: 6, b: [], a: [] }), depthEnvelope)),
    /^schema: .*U: /,
  );
  const levels = Array.from({ length: 50_000 }, (_, i) => [`x${i}`, 'y']);
  const many = failure(
    parseDepthMessage(buf({ e: 'depthUpdate', E, s: 'BTCUSDT', U: 1, u: 2, b: levels, a: [] }), depthEnvelope),
  );
  assert.ok(many.length < 700, `reason of ${many.length} characters`);
  assert.match(many, /^schema: not a depthUpdate or depthSnapshot event: b\.0\.0: .*; and 99997 more issues$/);
});

test('the depth topic takes depthUpdate and depthSnapshot, nothing else', () => {
  const update = parseDepthMessage(
    buf({ e: 'depthUpdate', E, s: 'BTCUSDT', U: 5, u: 6, b: [], a: [['1.0', '2.0']] }),
    depthEnvelope,
  );
  assert.ok(update.ok && update.event.e === 'depthUpdate');
  const snapshot = parseDepthMessage(
    buf({ e: 'depthSnapshot', E, s: 'BTCUSDT', lastUpdateId: 4, bids: [['1.0', '2.0']], asks: [] }),
    depthEnvelope,
  );
  assert.ok(snapshot.ok && snapshot.event.e === 'depthSnapshot');
  assert.match(
    failure(parseDepthMessage(buf(trade), envelope())),
    /^schema: not a depthUpdate or depthSnapshot event: /,
  );
  const missing = parseDepthMessage(buf({ e: 'depthUpdate', E, s: 'BTCUSDT', U: 5, b: [], a: [] }), depthEnvelope);
  assert.match(failure(missing), /u: /);
});

test("trades in Binance's own layout are read from their bytes exactly as JSON.parse and the schema read them", () => {
  const layouts = [
    '{"e":"trade","E":1633998288468,"s":"OMGBUSD","t":425085,"p":"13.80480000","q":"2.10000000","T":1633998288467,"m":false,"M":true}',
    '{"e":"trade","E":1633998288468,"s":"OMGBUSD","t":425085,"p":"13.8048","q":"2.1","T":1633998288467,"m":true}',
    '{"e":"trade","E":1633998288468,"s":"OMGBUSD","t":425085,"p":"9999999999.99999999","q":"0.00000001","T":1633998288467,"m":true}',
  ];
  for (const layout of layouts) {
    const json = JSON.parse(layout) as TradeEvent;
    for (const fromRest of [false, true]) {
      assert.deepEqual(
        scanTrade(Buffer.from(layout), fromRest),
        {
          symbol: json.s,
          tradeId: json.t,
          price: parseUnits(json.p),
          qty: parseUnits(json.q),
          tradeTimeMs: json.T,
          isBuyerMaker: json.m,
          eventTimeMs: json.E,
          fromRest,
        },
        layout,
      );
    }
  }
  // Anything else takes the full path: JSON.parse, the schema, and their reasons.
  const unusual = [
    ' {"e":"trade","E":1,"s":"OMGBUSD","t":1,"p":"1","q":"1","T":1,"m":false}',
    '{"e":"trade","E":01,"s":"OMGBUSD","t":1,"p":"1","q":"1","T":1,"m":false}',
    '{"e":"trade","E":1.0,"s":"OMGBUSD","t":1,"p":"1","q":"1","T":1,"m":false}',
    '{"e":"trade","E":1234567890123456,"s":"OMGBUSD","t":1,"p":"1","q":"1","T":1,"m":false}',
    '{"e":"trade","E":1,"s":"omgbusd","t":1,"p":"1","q":"1","T":1,"m":false}',
    '{"e":"trade","E":1,"s":"OMGBUSD","t":1,"p":"1\\u0030","q":"1","T":1,"m":false}',
    '{"e":"trade","E":1,"s":"OMGBUSD","t":1,"p":"1","q":"1","T":1,"m":false}x',
    '{"e":"trade","E":1,"s":"OMGBUSD","t":1,"p":"1","q":"1","T":1,"m":false,"t":2}',
    '{"e":"trade","E":1,"s":"OMGBUSD","t":1,"p":"1","q":"1","T":1,"m":fals}',
    '{"e":"trade","E":1,"s":"OMGBUSD","t":1,"p":"1","q":"1","T":1}',
    // Zero or too precise: the full path says which field, with its text.
    '{"e":"trade","E":1,"s":"OMGBUSD","t":1,"p":"0.000","q":"1","T":1,"m":false}',
    '{"e":"trade","E":1,"s":"OMGBUSD","t":1,"p":"1","q":"0","T":1,"m":false}',
    '{"e":"trade","E":1,"s":"OMGBUSD","t":1,"p":"1.000000001","q":"1","T":1,"m":false}',
    '{"e":"trade","E":1,"s":"OMGBUSD","t":1,"p":"1","q":"12345678901","T":1,"m":false}',
    '{"e":"trade","E":1,"s":"OMGBUSD","t":1,"p":"1.","q":"1","T":1,"m":false}',
  ];
  for (const text of unusual) assert.equal(scanTrade(Buffer.from(text), false), undefined, text);
  const escapedPrice = JSON.stringify({ ...trade, p: '10' }).replace('"p":"10"', '"p":"1\\u0030"');
  assert.match(escapedPrice, /"p":"1\\u0030"/);
  const escaped = parseTradeMessage(Buffer.from(escapedPrice), envelope());
  assert.ok(escaped.ok && escaped.event.price === 1_000_000_000n, 'an escaped digit is still a digit');
});

test('the byte scanner and the full path agree on every message, mutated ones included', () => {
  // A small seeded generator: the same messages on every run.
  let seed = 12345;
  const next = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const pieces = ['0', '1', '9', '.', '"', ',', ':', ' ', '}', '{', 'e', '-', 'A', 'a', '\\', 'true', '00', '1.', '.5'];
  let fast = 0;
  for (let i = 0; i < 20_000; i++) {
    const base = JSON.stringify({
      ...trade,
      t: next(10 ** (1 + next(16))),
      p: ['0.000', '1', '1.', '0012.5', '13.80480000', '9999999999.99999999', '1.000000001'][next(7)],
      q: ['2.1', '0', '0.00000001', '12345678901', '5'][next(5)],
      m: next(2) === 0,
    });
    let text = base;
    if (i % 2 === 1) {
      const at = next(text.length);
      const piece = pieces[next(pieces.length)] as string;
      const kind = next(3);
      text = text.slice(0, at) + (kind === 0 ? '' : piece) + text.slice(kind === 2 ? at : at + 1);
    }
    const value = Buffer.from(text);
    const viaScanner = parseTradeMessage(value, envelope());
    // A trailing space is still JSON, but never the layout the scanner reads: the full path.
    const viaParse = parseTradeMessage(Buffer.from(`${text} `), envelope());
    // Rejections come from the full path either way (positions in their details differ by the space).
    const outcome = (parsed: Parsed<unknown>): unknown => (parsed.ok ? parsed.event : parsed.reason);
    assert.deepEqual(outcome(viaScanner), outcome(viaParse), text);
    if (viaScanner.ok) fast++;
  }
  assert.ok(fast > 1000, `only ${fast} messages were accepted`);
});
