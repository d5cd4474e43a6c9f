import {
  depthTopicEventSchema,
  describeZodError,
  tradeEventSchema,
  type DepthTopicEvent,
  type TradeEvent,
} from '@candleflow/common/binance-events';
import type { z } from 'zod';
import type { Trade } from './tumbling-window.js';

export type Parsed<T> = { ok: true; event: T } | { ok: false; reason: string };

function parseWith<T>(schema: z.ZodType<T>, what: string, value: Buffer | null): Parsed<T> {
  if (value === null || value.length === 0) return { ok: false, reason: 'empty message' };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  const result = schema.safeParse(json);
  if (result.success) return { ok: true, event: result.data };
  return { ok: false, reason: `not ${what}: ${describeZodError(result.error)}` };
}

/** A value of the trades topic: a Binance trade event. */
export function parseTradeMessage(value: Buffer | null): Parsed<TradeEvent> {
  return parseWith(tradeEventSchema, 'a trade event', value);
}

/** A value of the depth topic: a Binance depthUpdate or the producer's depthSnapshot. */
export function parseDepthMessage(value: Buffer | null): Parsed<DepthTopicEvent> {
  return parseWith(depthTopicEventSchema, 'a depthUpdate or depthSnapshot event', value);
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
