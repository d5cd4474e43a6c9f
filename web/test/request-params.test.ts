import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BadRequestError,
  orderbookQuerySchema,
  parseQuery,
  subscribeMessageSchema,
  tradesQuerySchema,
  windowsQuerySchema,
} from '../server/request-params.js';

function problem(schema: Parameters<typeof parseQuery>[0], query: unknown): string {
  try {
    parseQuery(schema, query);
  } catch (error) {
    assert.ok(error instanceof BadRequestError);
    return error.message;
  }
  assert.fail(`accepted ${JSON.stringify(query)}`);
}

test('symbols: 2-20 upper-case letters or digits, one value', () => {
  for (const symbol of ['BTCUSDT', '1INCHUSDT', 'AB', 'A'.repeat(20)]) {
    assert.equal(parseQuery(tradesQuerySchema, { symbol }).symbol, symbol);
  }
  assert.equal(problem(tradesQuerySchema, {}), 'symbol: required');
  assert.equal(problem(tradesQuerySchema, { symbol: ['A', 'B'] }), 'symbol: expected a single value');
  for (const symbol of ['btcusdt', 'B', 'A'.repeat(21), 'BTC-USDT', "BTC'", 'BTC USDT', '']) {
    assert.match(problem(tradesQuerySchema, { symbol }), /^symbol: expected 2-20 upper-case letters or digits/);
  }
});

test('times: integer milliseconds or ISO 8601, UTC unless an offset is given', () => {
  const parse = (from: string) => parseQuery(windowsQuerySchema, { symbol: 'BTCUSDT', from }).from;
  assert.equal(parse('1714564800000'), Date.UTC(2024, 4, 1, 12));
  assert.equal(parse('2024-05-01'), Date.UTC(2024, 4, 1));
  assert.equal(parse('2024-05-01T12:00'), Date.UTC(2024, 4, 1, 12));
  assert.equal(parse('2024-05-01T12:00:30.250'), Date.UTC(2024, 4, 1, 12, 0, 30, 250));
  assert.equal(parse('2024-05-01T12:00:00Z'), Date.UTC(2024, 4, 1, 12));
  assert.equal(parse('2024-05-01T14:00:00+02:00'), Date.UTC(2024, 4, 1, 12));
  assert.equal(parseQuery(windowsQuerySchema, { symbol: 'BTCUSDT' }).from, undefined);
});

test('times that are not times, or not in 2017..tomorrow, are refused naming the parameter', () => {
  const tomorrowPlus = String(Date.now() + 2 * 24 * 3600_000);
  const cases: [string, RegExp][] = [
    ['now', /expected milliseconds since 1970 or an ISO 8601 time/],
    ['1.5', /expected milliseconds/],
    ['-5', /expected milliseconds/],
    ['1e12', /expected milliseconds/],
    ['2024-05-01 12:00', /expected milliseconds/],
    ['2024-02-30T00:00:00Z', /not a valid date/],
    ['2024-05-01T25:00:00Z', /not a valid date/],
    ['2024-13-01', /not a valid date/],
    ['1000', /outside 2017-01-01 .. tomorrow/],
    ['2016-12-31T23:59:59Z', /outside/],
    [tomorrowPlus, /outside/],
  ];
  for (const [to, message] of cases) {
    const text = problem(windowsQuerySchema, { symbol: 'BTCUSDT', to });
    assert.match(text, /^to: /, to);
    assert.match(text, message, to);
  }
});

test('limit and depth: bounded integers with defaults', () => {
  assert.equal(parseQuery(tradesQuerySchema, { symbol: 'BTCUSDT' }).limit, 50);
  assert.equal(parseQuery(tradesQuerySchema, { symbol: 'BTCUSDT', limit: '1000' }).limit, 1000);
  assert.equal(parseQuery(orderbookQuerySchema, { symbol: 'BTCUSDT' }).depth, 20);
  assert.equal(parseQuery(orderbookQuerySchema, { symbol: 'BTCUSDT', depth: '1' }).depth, 1);
  for (const limit of ['0', '1001', '-1', '2.5', 'ten', '', '99999999', ' 5']) {
    assert.equal(problem(tradesQuerySchema, { symbol: 'BTCUSDT', limit }), 'limit: expected an integer from 1 to 1000');
  }
  assert.equal(
    problem(orderbookQuerySchema, { symbol: 'BTCUSDT', depth: '501' }),
    'depth: expected an integer from 1 to 500',
  );
});

test('the WebSocket subscription message', () => {
  assert.deepEqual(subscribeMessageSchema.parse({ type: 'subscribe', symbol: 'ETHUSDT' }), {
    type: 'subscribe',
    symbol: 'ETHUSDT',
    depth: 20,
  });
  assert.equal(subscribeMessageSchema.safeParse({ type: 'subscribe', symbol: 'ETHUSDT', depth: 0 }).success, false);
  assert.equal(subscribeMessageSchema.safeParse({ type: 'unsubscribe', symbol: 'ETHUSDT' }).success, false);
  assert.equal(subscribeMessageSchema.safeParse({ type: 'subscribe', symbol: 'eth' }).success, false);
});
