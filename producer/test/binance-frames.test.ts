import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseFrame as parseBytes } from '../src/binance-frames.js';

const parseFrame = (text: string): ReturnType<typeof parseBytes> => parseBytes(Buffer.from(text));

const trade =
  '{"e":"trade","E":1633998275000,"s":"OMGBUSD","t":1234567,"p":"12.34000000","q":"0.50000000","T":1633998274999,"m":true,"M":true}';
const depth =
  '{"e":"depthUpdate","E":1633998274793,"s":"COMPUSDT","U":113129219,"u":113129221,"b":[["296.58000000","0.00000000"]],"a":[["297.32000000","19.08719000"]]}';

describe('parseFrame', () => {
  test('a trade frame yields the symbol, trade id and the data text verbatim', () => {
    const result = parseFrame(`{"stream":"omgbusd@trade","data":${trade}}`);
    assert.deepEqual(result, {
      ok: true,
      message: { kind: 'trade', symbol: 'OMGBUSD', tradeId: 1234567, raw: Buffer.from(trade) },
    });
  });

  test('a depth frame yields U and u and the data text verbatim', () => {
    const result = parseFrame(`{"stream":"compusdt@depth@100ms","data":${depth}}`);
    assert.deepEqual(result, {
      ok: true,
      message: {
        kind: 'depth',
        symbol: 'COMPUSDT',
        firstUpdateId: 113129219,
        finalUpdateId: 113129221,
        raw: Buffer.from(depth),
      },
    });
  });

  test('the plain depth stream name is accepted too', () => {
    const result = parseFrame(`{"stream":"compusdt@depth","data":${depth}}`);
    assert.equal(result.ok, true);
  });

  test('a frame laid out differently still yields data that parses to the same value', () => {
    const text = `{ "data": ${depth}, "stream": "compusdt@depth@100ms" }`;
    const result = parseFrame(text);
    assert.ok(result.ok && result.message.kind === 'depth');
    assert.deepEqual(JSON.parse(result.message.raw.toString()), JSON.parse(depth));
  });

  test('extra members in the frame do not leak into the data text', () => {
    const result = parseFrame(`{"stream":"omgbusd@trade","data":${trade},"extra":1}`);
    assert.ok(result.ok && result.message.kind === 'trade');
    assert.equal(result.message.raw.toString(), JSON.stringify(JSON.parse(trade)));
  });

  test('a trade without the b/a order ids Binance removed in 2024-06 is valid', () => {
    assert.equal(parseFrame(`{"stream":"omgbusd@trade","data":${trade}}`).ok, true);
    assert.doesNotMatch(trade, /"[ab]":/);
  });

  const shutdowns: [string, string][] = [
    ['bare', '{"e":"serverShutdown","E":1746671400000}'],
    ['wrapped in a combined frame', '{"stream":"serverShutdown","data":{"e":"serverShutdown","E":1746671400000}}'],
    ["on a market stream's name", '{"stream":"btcusdt@trade","data":{"e":"serverShutdown","E":1746671400000}}'],
  ];
  for (const [how, text] of shutdowns) {
    test(`a serverShutdown event, ${how}, is recognised`, () => {
      assert.deepEqual(parseFrame(text), { ok: true, message: { kind: 'server-shutdown' } });
    });
  }

  const malformed: [string, string, string][] = [
    ['not JSON', '{"stream":"omgbusd@trade","data":{', 'not-json'],
    ['not an object frame', '[1,2,3]', 'not-a-combined-frame'],
    ['a subscription answer', '{"result":null,"id":1}', 'not-a-combined-frame'],
    ['an unknown stream', `{"stream":"omgbusd@bookTicker","data":{"u":1}}`, 'unknown-stream'],
    [
      'a trade without a price',
      `{"stream":"omgbusd@trade","data":${trade.replace('"p":"12.34000000",', '')}}`,
      'invalid-trade',
    ],
    [
      'a trade with a numeric quantity',
      `{"stream":"omgbusd@trade","data":${trade.replace('"0.50000000"', '0.5')}}`,
      'invalid-trade',
    ],
    [
      'a depth diff with a bad level',
      `{"stream":"compusdt@depth@100ms","data":${depth.replace('["297.32000000","19.08719000"]', '["297.32"]')}}`,
      'invalid-depth',
    ],
    [
      'a depth diff with U after u',
      `{"stream":"compusdt@depth@100ms","data":${depth.replace('"U":113129219', '"U":113129299')}}`,
      'invalid-depth',
    ],
    ["a trade on another symbol's stream", `{"stream":"btcusdt@trade","data":${trade}}`, 'symbol-mismatch'],
  ];
  for (const [what, text, kind] of malformed) {
    test(`${what} is malformed (${kind}) and does not throw`, () => {
      const result = parseFrame(text);
      assert.equal(result.ok, false);
      assert.equal(result.ok ? undefined : result.kind, kind);
      assert.ok(!result.ok && result.reason.length > 0);
    });
  }

  test('the reason names the offending field', () => {
    const result = parseFrame(`{"stream":"omgbusd@trade","data":${trade.replace('"t":1234567', '"t":"x"')}}`);
    assert.ok(!result.ok);
    assert.match(result.reason, /^t: /);
  });
});
