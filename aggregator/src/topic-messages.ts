import {
  depthTopicEventSchema,
  describeZodError,
  tradeEventSchema,
  type DepthTopicEvent,
  type PriceLevel,
  type TradeEvent,
} from '@candleflow/common/binance-events';
import type { z } from 'zod';
import { PRICE_DIGITS } from './clickhouse-records.js';
import { ExactDecimal } from './exact-decimal.js';
import type { Trade } from './tumbling-window.js';

/**
 * The aggregator's input contract (README, "Input contract"): what a message of the trades
 * or depth topic must be to reach a window or a table. Anything else goes to the DLQ with
 * one of these reasons, counted by reason.
 */
export type DlqReason =
  /** Null or empty value. */
  | 'empty'
  | 'not_json'
  /** A field missing or of the wrong type, or a malformed level. */
  | 'schema'
  /** The record's key is not the value's symbol. */
  | 'key_mismatch'
  /** Before Binance's first day, or more than `MAX_AHEAD_MS` after the record's timestamp. */
  | 'time_range'
  /** A trade's price or quantity, or a level's price, is zero. */
  | 'not_positive'
  /** A price or quantity has more digits than the Decimal(18, 8) columns hold. */
  | 'precision'
  /** A diff whose first update id is above its last. */
  | 'update_ids'
  | 'unexpected_topic'
  /** ClickHouse refused the row built from the message (see ClickhouseSink). */
  | 'clickhouse_refused';

export type Parsed<T> = { ok: true; event: T } | { ok: false; reason: DlqReason; detail: string };

/** What Kafka says about a record besides its value. */
export interface RecordEnvelope {
  key: Buffer | null;
  /** The record's own timestamp (ms): when the producer wrote it. */
  timestampMs: number;
}

/** Binance's first trading day, 2017-07-14 UTC: no genuine event is older. */
export const BINANCE_FIRST_DAY_MS = Date.UTC(2017, 6, 14);
/**
 * How far an event may be ahead of its record's timestamp (clock skew between Binance and
 * the producer). Recorded sessions replayed later stay valid: their times are behind.
 */
export const MAX_AHEAD_MS = 60_000;

const reject = <T>(reason: DlqReason, detail: string): Parsed<T> => ({ ok: false, reason, detail });

/** Whether a string the schema accepted as a decimal (digits, optional fraction) is above zero. */
const isPositive = (decimal: string): boolean => /[1-9]/.test(decimal);

function checkDecimal(path: string, text: string): string | undefined {
  if (ExactDecimal.parse(text).fits(PRICE_DIGITS.integer, PRICE_DIGITS.fraction)) return undefined;
  return `${path}: ${text.slice(0, 40)} has more than ${PRICE_DIGITS.integer} integer or ${PRICE_DIGITS.fraction} fraction digits`;
}

function checkLevels<T>(name: string, levels: readonly PriceLevel[]): Parsed<T> | undefined {
  for (let i = 0; i < levels.length; i++) {
    const [price, qty] = levels[i] as PriceLevel;
    // A quantity of 0 removes the level; a price of 0 is no level at all.
    if (!isPositive(price)) return reject('not_positive', `${name}.${i}.0: price ${price} is not positive`);
    const oversized = checkDecimal(`${name}.${i}.0`, price) ?? checkDecimal(`${name}.${i}.1`, qty);
    if (oversized !== undefined) return reject('precision', oversized);
  }
  return undefined;
}

/** Whether `key` holds the bytes of `symbol` (ASCII by the schema), compared in place: no string per message. */
function isKeyOf(key: Buffer | null, symbol: string): boolean {
  if (key === null || key.length !== symbol.length) return false;
  for (let i = 0; i < key.length; i++) if (key[i] !== symbol.charCodeAt(i)) return false;
  return true;
}

function checkEnvelope<T>(
  symbol: string,
  field: string,
  timeMs: number,
  envelope: RecordEnvelope,
): Parsed<T> | undefined {
  const { key } = envelope;
  if (!isKeyOf(key, symbol)) {
    const shown = key === null ? 'no key' : `key ${JSON.stringify(key.toString('utf8').slice(0, 40))}`;
    return reject('key_mismatch', `${shown} is not the symbol ${symbol}`);
  }
  if (timeMs < BINANCE_FIRST_DAY_MS) {
    return reject('time_range', `${field}=${timeMs} is before Binance's first day (2017-07-14)`);
  }
  if (timeMs > envelope.timestampMs + MAX_AHEAD_MS) {
    return reject(
      'time_range',
      `${field}=${timeMs} is more than ${MAX_AHEAD_MS / 1000} s after the record's timestamp ${envelope.timestampMs}`,
    );
  }
  return undefined;
}

function parseJson<T>(schema: z.ZodType<T>, what: string, value: Buffer | null): Parsed<T> {
  if (value === null || value.length === 0) return reject('empty', 'empty message');
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (error) {
    return reject('not_json', `not JSON: ${(error instanceof Error ? error.message : String(error)).slice(0, 200)}`);
  }
  const result = schema.safeParse(json);
  return result.success
    ? { ok: true, event: result.data }
    : reject('schema', `not ${what}: ${describeZodError(result.error)}`);
}

/** A value of the trades topic: a Binance trade event, checked against the input contract. */
export function parseTradeMessage(value: Buffer | null, envelope: RecordEnvelope): Parsed<TradeEvent> {
  const parsed = parseJson(tradeEventSchema, 'a trade event', value);
  if (!parsed.ok) return parsed;
  const event = parsed.event;
  const bad =
    checkEnvelope<TradeEvent>(event.s, 'T', event.T, envelope) ??
    (!isPositive(event.p) ? reject<TradeEvent>('not_positive', `p: price ${event.p} is not positive`) : undefined) ??
    (!isPositive(event.q) ? reject<TradeEvent>('not_positive', `q: quantity ${event.q} is not positive`) : undefined);
  if (bad !== undefined) return bad;
  const oversized = checkDecimal('p', event.p) ?? checkDecimal('q', event.q);
  return oversized === undefined ? parsed : reject('precision', oversized);
}

/** A value of the depth topic: a Binance depthUpdate or the producer's depthSnapshot, checked against the contract. */
export function parseDepthMessage(value: Buffer | null, envelope: RecordEnvelope): Parsed<DepthTopicEvent> {
  const parsed = parseJson(depthTopicEventSchema, 'a depthUpdate or depthSnapshot event', value);
  if (!parsed.ok) return parsed;
  const event = parsed.event;
  const bad = checkEnvelope<DepthTopicEvent>(event.s, 'E', event.E, envelope);
  if (bad !== undefined) return bad;
  if (event.e === 'depthUpdate') {
    if (event.U > event.u) return reject('update_ids', `U=${event.U} is above u=${event.u}`);
    return checkLevels('b', event.b) ?? checkLevels('a', event.a) ?? parsed;
  }
  return checkLevels('bids', event.bids) ?? checkLevels('asks', event.asks) ?? parsed;
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
