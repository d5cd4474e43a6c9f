import {
  depthTopicEventSchema,
  describeZodError,
  tradeEventSchema,
  type DepthTopicEvent,
  type TradeEvent,
} from '@candleflow/common/binance-events';
import type { z } from 'zod';
import { PRICE_DIGITS } from './clickhouse-records.js';
import { ExactDecimal } from './exact-decimal.js';
import type { Trade } from './tumbling-window.js';

export type Parsed<T> = { ok: true; event: T } | { ok: false; reason: string };

/** Names the first decimal that does not fit the Decimal(18, 8) columns prices are written through. */
function oversizedDecimal(decimals: Iterable<[string, string]>): string | undefined {
  for (const [path, text] of decimals) {
    if (!ExactDecimal.parse(text).fits(PRICE_DIGITS.integer, PRICE_DIGITS.fraction)) {
      return `${path}: ${text} has more than ${PRICE_DIGITS.integer} integer or ${PRICE_DIGITS.fraction} fraction digits`;
    }
  }
  return undefined;
}

function* tradeDecimals(event: TradeEvent): Iterable<[string, string]> {
  yield ['p', event.p];
  yield ['q', event.q];
}

function* depthDecimals(event: DepthTopicEvent): Iterable<[string, string]> {
  const sides: [string, readonly [string, string][]][] =
    event.e === 'depthUpdate'
      ? [
          ['b', event.b],
          ['a', event.a],
        ]
      : [
          ['bids', event.bids],
          ['asks', event.asks],
        ];
  for (const [name, levels] of sides) {
    for (const [i, [price, qty]] of levels.entries()) {
      yield [`${name}.${i}.0`, price];
      yield [`${name}.${i}.1`, qty];
    }
  }
}

function parseWith<T>(
  schema: z.ZodType<T>,
  what: string,
  value: Buffer | null,
  decimals: (event: T) => Iterable<[string, string]>,
): Parsed<T> {
  if (value === null || value.length === 0) return { ok: false, reason: 'empty message' };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  const result = schema.safeParse(json);
  if (!result.success) return { ok: false, reason: `not ${what}: ${describeZodError(result.error)}` };
  const oversized = oversizedDecimal(decimals(result.data));
  return oversized === undefined ? { ok: true, event: result.data } : { ok: false, reason: oversized };
}

/** A value of the trades topic: a Binance trade event. */
export function parseTradeMessage(value: Buffer | null): Parsed<TradeEvent> {
  return parseWith(tradeEventSchema, 'a trade event', value, tradeDecimals);
}

/** A value of the depth topic: a Binance depthUpdate or the producer's depthSnapshot. */
export function parseDepthMessage(value: Buffer | null): Parsed<DepthTopicEvent> {
  return parseWith(depthTopicEventSchema, 'a depthUpdate or depthSnapshot event', value, depthDecimals);
}

export function tradeOf(event: TradeEvent): Trade {
  return {
    symbol: event.s,
    tradeId: event.t,
    price: event.p,
    qty: event.q,
    tradeTimeMs: event.T,
    isBuyerMaker: event.m,
  };
}
