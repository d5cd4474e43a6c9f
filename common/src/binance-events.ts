import { z } from 'zod';
import { DECIMAL_TEXT } from './decimal.js';

/**
 * Schemas of the Binance messages that travel through the stack. Kafka values are the
 * Binance JSON as received, so the same schemas check WebSocket frames in the producer
 * and Kafka messages in the aggregator. Unknown fields pass through untouched.
 */

/** A price or quantity (common/decimal). */
export const decimalSchema = z.string().regex(DECIMAL_TEXT, 'expected a decimal string');
const symbol = z.string().regex(/^[A-Z0-9]{2,20}$/, 'expected an upper-case symbol');
const ms = z.number().int().nonnegative();
const updateId = z.number().int().nonnegative();

/** `[price, qty]`, both decimal strings; qty "0" removes the level. */
export const priceLevelSchema = z.tuple([decimalSchema, decimalSchema]);
export type PriceLevel = z.infer<typeof priceLevelSchema>;

export const tradeEventSchema = z.looseObject({
  e: z.literal('trade'),
  E: ms,
  s: symbol,
  t: z.number().int().nonnegative(),
  p: decimalSchema,
  q: decimalSchema,
  T: ms,
  m: z.boolean(),
});
export type TradeEvent = z.infer<typeof tradeEventSchema>;

export const depthUpdateEventSchema = z.looseObject({
  e: z.literal('depthUpdate'),
  E: ms,
  s: symbol,
  U: updateId,
  u: updateId,
  b: z.array(priceLevelSchema),
  a: z.array(priceLevelSchema),
});
export type DepthUpdateEvent = z.infer<typeof depthUpdateEventSchema>;

/** REST `GET /api/v3/depth` answer. */
export const depthSnapshotBodySchema = z.looseObject({
  lastUpdateId: updateId,
  bids: z.array(priceLevelSchema),
  asks: z.array(priceLevelSchema),
});
export type DepthSnapshotBody = z.infer<typeof depthSnapshotBodySchema>;

/**
 * What the producer writes to the depth topic at each (re)sync, before the diffs that
 * follow it. `E` is when the snapshot was received (ms).
 */
export const depthSnapshotEventSchema = z.looseObject({
  e: z.literal('depthSnapshot'),
  E: ms,
  s: symbol,
  lastUpdateId: updateId,
  bids: z.array(priceLevelSchema),
  asks: z.array(priceLevelSchema),
});
export type DepthSnapshotEvent = z.infer<typeof depthSnapshotEventSchema>;

/** Everything the depth topic carries. */
export const depthTopicEventSchema = z.discriminatedUnion('e', [depthUpdateEventSchema, depthSnapshotEventSchema]);
export type DepthTopicEvent = z.infer<typeof depthTopicEventSchema>;

/** A frame of the combined-stream endpoint: `{"stream": "btcusdt@trade", "data": {...}}`. */
export const combinedFrameSchema = z.object({
  stream: z.string().min(1),
  data: z.unknown(),
});
export type CombinedFrame = z.infer<typeof combinedFrameSchema>;

/** Kafka header carrying the producer's receive time in ms, as a decimal string. */
export const RECEIVE_TIME_HEADER = 'receive_time_ms';

/** Kafka header on trades the producer fetched over REST to fill a hole: value `REST_SOURCE`. */
export const SOURCE_HEADER = 'source';
export const REST_SOURCE = 'rest';

/** Kafka header the aggregator puts on DLQ messages. */
export const DLQ_REASON_HEADER = 'dlq_reason';

/** Stream names, as Binance spells them: lower-case symbol, `@`, stream type. */
export function tradeStream(sym: string): string {
  return `${sym.toLowerCase()}@trade`;
}

export function depthStream(sym: string): string {
  return `${sym.toLowerCase()}@depth@100ms`;
}

/**
 * Formats a zod failure as one short line naming the offending fields: the first
 * `maxIssues` issues and how many more there were, so that a message with thousands of
 * bad levels still gets a reason of a few hundred bytes.
 */
export function describeZodError(error: z.ZodError, maxIssues = 3): string {
  const shown = error.issues
    .slice(0, maxIssues)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message.slice(0, 160)}`)
    .join('; ');
  const more = error.issues.length - maxIssues;
  return more > 0 ? `${shown}; and ${more} more issue${more === 1 ? '' : 's'}` : shown;
}
