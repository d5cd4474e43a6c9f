import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fullParseFrame, parseFrame } from '../src/binance-frames.js';
import { scanMarketFrame } from '../src/frame-scanner.js';
import { SeededRandom } from '@candleflow/binance-sim/seeded-random';

const trade =
  '{"e":"trade","E":1633998275000,"s":"OMGBUSD","t":1234567,"p":"12.34000000","q":"0.50000000","T":1633998274999,"m":true,"M":true}';
const depth =
  '{"e":"depthUpdate","E":1633998274793,"s":"COMPUSDT","U":113129219,"u":113129221,"b":[["296.58000000","0.00000000"],["296.57","1"]],"a":[["297.32000000","19.08719000"]]}';
const tradeFrame = (data: string, stream = 'omgbusd@trade'): string => `{"stream":"${stream}","data":${data}}`;
const depthFrame = (data: string, stream = 'compusdt@depth@100ms'): string => `{"stream":"${stream}","data":${data}}`;

/** The scanner's answer and parseFrame's agree with the full parse (the reference). */
function agree(text: string | Buffer): ReturnType<typeof scanMarketFrame> {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const reference = fullParseFrame(bytes);
  const scanned = scanMarketFrame(bytes);
  if (scanned !== undefined) assert.deepEqual({ ok: true, message: scanned }, reference, bytes.toString('latin1'));
  assert.deepEqual(parseFrame(bytes), reference, bytes.toString('latin1'));
  return scanned;
}

describe('scanMarketFrame: frames in Binance layout', () => {
  test('a trade yields symbol, trade id and the data bytes, as a view of the frame', () => {
    const bytes = Buffer.from(tradeFrame(trade));
    const message = scanMarketFrame(bytes);
    assert.deepEqual(message, { kind: 'trade', symbol: 'OMGBUSD', tradeId: 1234567, raw: Buffer.from(trade) });
    assert.equal(message?.raw.buffer, bytes.buffer);
    agree(bytes);
  });

  for (const stream of ['compusdt@depth@100ms', 'compusdt@depth']) {
    test(`a depth diff on ${stream} yields U, u and the data bytes`, () => {
      assert.deepEqual(scanMarketFrame(Buffer.from(depthFrame(depth, stream))), {
        kind: 'depth',
        symbol: 'COMPUSDT',
        firstUpdateId: 113129219,
        finalUpdateId: 113129221,
        raw: Buffer.from(depth),
      });
      agree(depthFrame(depth, stream));
    });
  }

  const accepted: [string, string][] = [
    ['a trade without M', tradeFrame(trade.replace(',"M":true', ''))],
    [
      'a trade with fields in another order',
      tradeFrame(trade.replace('"e":"trade","E":1633998275000', '"E":1633998275000,"e":"trade"')),
    ],
    ['a trade with m false', tradeFrame(trade.replace('"m":true', '"m":false'))],
    [
      'a trade with id 0 and 15-digit times',
      tradeFrame(trade.replace('"t":1234567', '"t":0').replace('1633998275000', '999999999999999')),
    ],
    [
      'a trade with unknown plain fields',
      tradeFrame(trade.replace('}', ',"x":"a b","yy":-1.5e-3,"z":null,"w":false,"b":12}')),
    ],
    [
      'a trade with unknown fields named like Object members',
      tradeFrame(trade.replace('}', ',"__proto__":"x","constructor":1,"toString":null}')),
    ],
    ['a trade with integer decimals', tradeFrame(trade.replace('"12.34000000"', '"12"'))],
    [
      'a depth diff with empty sides',
      depthFrame(depth.replace(/"b":\[.*?\]\],/, '"b":[],').replace(/"a":\[.*\]\]/, '"a":[]')),
    ],
    ['a depth diff with U equal to u', depthFrame(depth.replace('"U":113129219', '"U":113129221'))],
    [
      'a symbol of digits and 20 characters',
      tradeFrame(trade.replace('OMGBUSD', 'A1234567890123456789'), 'a1234567890123456789@trade'),
    ],
  ];
  for (const [what, text] of accepted) {
    test(`${what} takes the fast path with the full parse's result`, () => {
      assert.notEqual(agree(text), undefined);
    });
  }
});

describe('scanMarketFrame: anything unusual goes to the full parse', () => {
  const fallbacks: [string, string][] = [
    // layout
    ['whitespace after the frame', `${tradeFrame(trade)}\n`],
    ['whitespace before the frame', ` ${tradeFrame(trade)}`],
    ['whitespace inside data', tradeFrame(trade.replace('"t":', '"t": '))],
    ['whitespace after a comma', tradeFrame(trade.replace(',"p"', ', "p"'))],
    ['data before stream', `{"data":${trade},"stream":"omgbusd@trade"}`],
    ['an extra frame member', `{"stream":"omgbusd@trade","data":${trade},"extra":1}`],
    ['trailing bytes', `${tradeFrame(trade)}x`],
    ['a truncated frame', tradeFrame(trade).slice(0, -2)],
    ['a missing closing brace', tradeFrame(trade).slice(0, -1)],
    ['data that is not an object', '{"stream":"omgbusd@trade","data":[1]}'],
    ['an empty data object', '{"stream":"omgbusd@trade","data":{}}'],
    // strings
    ['an escape in the symbol', tradeFrame(trade.replace('"OMGBUSD"', '"\\u004fMGBUSD"'))],
    ['an escape in a key', tradeFrame(trade.replace('"t":', '"\\u0074":'))],
    ['an escaped quote in an unknown field', tradeFrame(trade.replace('}', ',"x":"a\\"b"}'))],
    ['non-ASCII in an unknown field', tradeFrame(trade.replace('}', ',"x":"é"}'))],
    ['a control character in an unknown field', tradeFrame(trade.replace('}', ',"x":"a\tb"}'))],
    ['a nested unknown object', tradeFrame(trade.replace('}', ',"x":{"y":1}}'))],
    ['a nested unknown array', tradeFrame(trade.replace('}', ',"x":[1]}'))],
    ['a bad unknown number', tradeFrame(trade.replace('}', ',"x":01}'))],
    ['a bad unknown literal', tradeFrame(trade.replace('}', ',"x":nul}'))],
    ['a duplicate key', tradeFrame(trade.replace('"t":1234567', '"t":1234567,"t":7'))],
    // streams
    ['an unknown stream', `{"stream":"omgbusd@bookTicker","data":{"u":1}}`],
    ['an upper-case stream', tradeFrame(trade, 'OMGBUSD@trade')],
    ['a stream without a symbol', tradeFrame(trade, '@trade')],
    ['a wrapped serverShutdown', '{"stream":"serverShutdown","data":{"e":"serverShutdown","E":1746671400000}}'],
    [
      'a serverShutdown on a trade stream',
      '{"stream":"omgbusd@trade","data":{"e":"serverShutdown","E":1746671400000}}',
    ],
    ['a bare serverShutdown', '{"e":"serverShutdown","E":1746671400000}'],
    ['a subscription answer', '{"result":null,"id":1}'],
    ['not JSON', 'nope'],
    ['an empty frame', ''],
    ['a trade on a depth stream', depthFrame(trade, 'omgbusd@depth')],
    ["a trade on another symbol's stream", tradeFrame(trade, 'btcusdt@trade')],
    ['a symbol one character longer than the stream', tradeFrame(trade.replace('OMGBUSD', 'OMGBUSDT'))],
    // depth specifics
    ['U after u', depthFrame(depth.replace('"U":113129219', '"U":113129299'))],
    ['a level of one value', depthFrame(depth.replace('["296.57","1"]', '["296.57"]'))],
    ['a level of three values', depthFrame(depth.replace('["296.57","1"]', '["296.57","1","2"]'))],
    ['a numeric level', depthFrame(depth.replace('["296.57","1"]', '[296.57,"1"]'))],
    ['a trailing comma in the levels', depthFrame(depth.replace('["296.57","1"]]', '["296.57","1"],]'))],
    ['levels that are not an array', depthFrame(depth.replace(/"a":\[.*\]\]/, '"a":{}'))],
  ];
  const tradeFields = ['e', 'E', 's', 't', 'p', 'q', 'T', 'm'];
  for (const key of tradeFields) {
    fallbacks.push([`a trade without ${key}`, tradeFrame(trade.replace(new RegExp(`"${key}":[^,]*,`), ''))]);
  }
  for (const key of ['e', 'E', 's', 'U', 'u']) {
    fallbacks.push([`a depth diff without ${key}`, depthFrame(depth.replace(new RegExp(`"${key}":[^,]*,`), ''))]);
  }
  fallbacks.push(['a depth diff without b', depthFrame(depth.replace(/"b":\[.*?\]\],/, ''))]);
  fallbacks.push(['a depth diff without a', depthFrame(depth.replace(/,"a":\[.*\]\]/, ''))]);
  // Every integer field, with every integer form the scanner leaves to the full parse.
  const badInts = ['-1', '1.0', '1e3', '01', '1234567890123456', '9007199254740993', '"1"', 'null', 'true', ''];
  const tradeInts: [string, string][] = [
    ['E', '"E":1633998275000'],
    ['t', '"t":1234567'],
    ['T', '"T":1633998274999'],
  ];
  for (const [key, from] of tradeInts) {
    for (const bad of badInts)
      fallbacks.push([`trade ${key} ${bad}`, tradeFrame(trade.replace(from, `"${key}":${bad}`))]);
  }
  for (const key of ['U', 'u']) {
    const from = key === 'U' ? '"U":113129219' : '"u":113129221';
    for (const bad of badInts)
      fallbacks.push([`depth ${key} ${bad}`, depthFrame(depth.replace(from, `"${key}":${bad}`))]);
  }
  const badDecimals = ['12.34', '"12."', '".5"', '"1e5"', '"-1"', '""', '"1,5"', '" 1"', '"1.2.3"', 'null'];
  for (const key of ['p', 'q']) {
    const from = key === 'p' ? '"p":"12.34000000"' : '"q":"0.50000000"';
    for (const bad of badDecimals)
      fallbacks.push([`trade ${key} ${bad}`, tradeFrame(trade.replace(from, `"${key}":${bad}`))]);
  }
  for (const bad of badDecimals) {
    fallbacks.push([`depth level ${bad}`, depthFrame(depth.replace('["296.57","1"]', `["296.57",${bad}]`))]);
  }
  const badSymbols = ['"omgbusd"', '"O"', '"A12345678901234567890"', '"OMG-USD"', '1', 'null'];
  for (const bad of badSymbols) fallbacks.push([`trade s ${bad}`, tradeFrame(trade.replace('"OMGBUSD"', bad))]);
  for (const bad of ['"true"', '1', 'null', 'tru', 'True']) {
    fallbacks.push([`trade m ${bad}`, tradeFrame(trade.replace('"m":true', `"m":${bad}`))]);
  }
  for (const bad of ['"depthUpdate"', '"Trade"', '"trade "', 'null']) {
    fallbacks.push([`trade e ${bad}`, tradeFrame(trade.replace('"e":"trade"', `"e":${bad}`))]);
  }
  fallbacks.push(['depth e "trade"', depthFrame(depth.replace('"e":"depthUpdate"', '"e":"trade"'))]);

  for (const [what, text] of fallbacks) {
    test(`${what}: full parse, same result as before`, () => {
      assert.equal(agree(text), undefined);
    });
  }

  test('a frame split by ws into fragments is scanned once joined', () => {
    assert.notEqual(
      agree(Buffer.concat([Buffer.from(tradeFrame(trade).slice(0, 9)), Buffer.from(tradeFrame(trade).slice(9))])),
      undefined,
    );
  });
});

describe('scanMarketFrame against the full parse, over random frames', () => {
  // The same frames on every run.
  const rng = new SeededRandom(13);
  const rnd = (): number => rng.next();
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T;
  const int = (): string =>
    pick(['0', '7', String(Math.floor(rnd() * 1e13)), '999999999999999', '9007199254740991', '12345678901234567890']);
  const decimal = (): string =>
    `${Math.floor(rnd() * 1e5)}${rnd() < 0.7 ? `.${String(Math.floor(rnd() * 1e8)).padStart(8, '0')}` : ''}`;
  const symbol = (): string => pick(['BTCUSDT', 'ETHUSDT', 'X1', 'COIN123USDT', 'A1234567890123456789']);
  const extra = (): string =>
    rnd() < 0.3 ? `,${pick(['"M":true', '"x":"y"', '"n":-1.5e3', '"z":null', '"b":5'])}` : '';

  function validFrame(): string {
    const sym = symbol();
    if (rnd() < 0.5) {
      const data = `{"e":"trade","E":${int()},"s":"${sym}","t":${int()},"p":"${decimal()}","q":"${decimal()}","T":${int()},"m":${rnd() < 0.5}${extra()}}`;
      return `{"stream":"${sym.toLowerCase()}@trade","data":${data}}`;
    }
    const levels = (): string =>
      `[${Array.from({ length: Math.floor(rnd() * 4) }, () => `["${decimal()}","${decimal()}"]`).join(',')}]`;
    const U = Math.floor(rnd() * 1e9);
    const u = rnd() < 0.9 ? U + Math.floor(rnd() * 20) : Math.max(0, U - 1);
    const data = `{"e":"depthUpdate","E":${int()},"s":"${sym}","U":${U},"u":${u},"b":${levels()},"a":${levels()}${extra()}}`;
    return `{"stream":"${sym.toLowerCase()}@depth${rnd() < 0.8 ? '@100ms' : ''}","data":${data}}`;
  }

  const palette = Buffer.from('{}[]":,.-+eE0123456789 \\\tatrufnlsSTUupqmMbEdXyz@\u00e9');
  function mutate(text: string): Buffer {
    let bytes = Buffer.from(text);
    const edits = 1 + Math.floor(rnd() * 2);
    for (let n = 0; n < edits; n++) {
      const at = Math.floor(rnd() * bytes.length);
      const byte = palette[Math.floor(rnd() * palette.length)] as number;
      switch (Math.floor(rnd() * 4)) {
        case 0:
          bytes[at] = byte;
          break;
        case 1:
          bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
          break;
        case 2:
          bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([byte]), bytes.subarray(at)]);
          break;
        default: {
          const end = Math.min(bytes.length, at + 1 + Math.floor(rnd() * 12));
          bytes = Buffer.concat([bytes.subarray(0, end), bytes.subarray(at, end), bytes.subarray(end)]);
        }
      }
    }
    return bytes;
  }

  test('valid frames: same results, and every one in Binance layout takes the fast path', () => {
    let fast = 0;
    let expectedFast = 0;
    for (let n = 0; n < 3000; n++) {
      const text = validFrame();
      const reference = fullParseFrame(Buffer.from(text));
      // 16+ digit integers and U > u are the full parse's to judge.
      const scannable = reference.ok && !/:\d{16}/.test(text);
      if (scannable) expectedFast++;
      const scanned = agree(text);
      if (scanned !== undefined) fast++;
      if (scannable) assert.notEqual(scanned, undefined, text);
    }
    assert.equal(fast, expectedFast);
    assert.ok(expectedFast > 1000, `${expectedFast} scannable frames`);
  });

  test('corrupted frames: the scanner never answers differently from the full parse', () => {
    let accepted = 0;
    let rejected = 0;
    for (let n = 0; n < 20_000; n++) {
      const bytes = mutate(validFrame());
      agree(bytes);
      if (fullParseFrame(bytes).ok) accepted++;
      else rejected++;
    }
    // The corpus exercises both sides.
    assert.ok(accepted > 500 && rejected > 500, `${accepted} accepted, ${rejected} rejected`);
  });
});
