import type { IHeaders } from 'kafkajs';
import {
  REST_SOURCE,
  SOURCE_HEADER,
  depthTopicEventSchema,
  describeZodError,
  tradeEventSchema,
  type DepthTopicEvent,
  type PriceLevel,
  type TradeEvent,
} from '@candleflow/common/binance-events';
import { DECIMAL_INTEGER_DIGITS, DECIMAL_SCALE, scanUnits } from '@candleflow/common/decimal';
import type { z } from 'zod';
import { scanTrade } from './trade-scanner.js';
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
  /** As KafkaJS gives them; only `source` is read, in place. */
  headers?: IHeaders | undefined;
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

const oversized = (path: string, text: string): string =>
  `${path}: ${text.slice(0, 40)} has more than ${DECIMAL_INTEGER_DIGITS} integer or ${DECIMAL_SCALE} fraction digits`;

function checkDecimal(path: string, text: string): string | undefined {
  return scanUnits(text) === 'out_of_range' ? oversized(path, text) : undefined;
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

/** Whether `bytes` are the ASCII `text` (a symbol, a header value), compared in place: no string per message. */
export function isAsciiOf(bytes: Buffer | null, text: string): boolean {
  if (bytes === null || bytes.length !== text.length) return false;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== text.charCodeAt(i)) return false;
  return true;
}

function checkEnvelope<T>(
  symbol: string,
  field: string,
  timeMs: number,
  envelope: RecordEnvelope,
): Parsed<T> | undefined {
  const { key } = envelope;
  if (!isAsciiOf(key, symbol)) {
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

/** The JSON in a message's value, or why there is none. */
function readJson(value: Buffer | null): { json: unknown } | Parsed<never> {
  if (value === null || value.length === 0) return reject('empty', 'empty message');
  try {
    return { json: JSON.parse(value.toString('utf8')) as unknown };
  } catch (error) {
    return reject('not_json', `not JSON: ${(error instanceof Error ? error.message : String(error)).slice(0, 200)}`);
  }
}

function parseJson<T>(schema: z.ZodType<T>, what: string, value: Buffer | null): Parsed<T> {
  const read = readJson(value);
  if (!('json' in read)) return read;
  const result = schema.safeParse(read.json);
  return result.success
    ? { ok: true, event: result.data }
    : reject('schema', `not ${what}: ${describeZodError(result.error)}`);
}

/** A trade message as read: the trade, the event time `E` its `trades` row keeps, and whether it was a repair. */
export interface TradeMessage extends Trade {
  eventTimeMs: number;
  /** The producer fetched it over REST to fill a hole in the trade ids (header `source: rest`). */
  fromRest: boolean;
}

/** Whether a record carries the header `source: rest`, compared in place. */
function isRestRepair(headers: IHeaders | undefined): boolean {
  const source = headers?.[SOURCE_HEADER];
  if (source === undefined) return false;
  return Buffer.isBuffer(source) ? isAsciiOf(source, REST_SOURCE) : String(source) === REST_SOURCE;
}

const SYMBOL = /^[A-Z0-9]{2,20}$/;
const isId = (value: unknown): boolean => Number.isSafeInteger(value) && (value as number) >= 0;

/** What tradeEventSchema checks of the fields' types, without building the schema's copy of the object. */
function isTradeShaped(json: unknown): json is TradeEvent {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return false;
  const o = json as Record<string, unknown>;
  return (
    o.e === 'trade' &&
    isId(o.E) &&
    isId(o.t) &&
    isId(o.T) &&
    typeof o.m === 'boolean' &&
    typeof o.s === 'string' &&
    SYMBOL.test(o.s) &&
    typeof o.p === 'string' &&
    typeof o.q === 'string'
  );
}

/** The contract's checks after the schema's, with each decimal scanned once; undefined if one is not a decimal. */
function checkTrade(event: TradeEvent, envelope: RecordEnvelope): Parsed<TradeMessage> | undefined {
  const price = scanUnits(event.p);
  const qty = scanUnits(event.q);
  if (price === 'not_decimal' || qty === 'not_decimal') return undefined;
  const bad = checkEnvelope<TradeMessage>(event.s, 'T', event.T, envelope);
  if (bad !== undefined) return bad;
  if (price === 0n) return reject('not_positive', `p: price ${event.p} is not positive`);
  if (qty === 0n) return reject('not_positive', `q: quantity ${event.q} is not positive`);
  if (price === 'out_of_range') return reject('precision', oversized('p', event.p));
  if (qty === 'out_of_range') return reject('precision', oversized('q', event.q));
  const trade: TradeMessage = {
    symbol: event.s,
    tradeId: event.t,
    price,
    qty,
    tradeTimeMs: event.T,
    isBuyerMaker: event.m,
    eventTimeMs: event.E,
    fromRest: isRestRepair(envelope.headers),
  };
  return { ok: true, event: trade };
}

/** A value of the trades topic: a Binance trade event, checked against the input contract. */
export function parseTradeMessage(value: Buffer | null, envelope: RecordEnvelope): Parsed<TradeMessage> {
  const scanned = value === null ? undefined : scanTrade(value, isRestRepair(envelope.headers));
  if (scanned !== undefined) {
    return (
      checkEnvelope<TradeMessage>(scanned.symbol, 'T', scanned.tradeTimeMs, envelope) ?? { ok: true, event: scanned }
    );
  }
  const read = readJson(value);
  if (!('json' in read)) return read;
  if (isTradeShaped(read.json)) {
    const checked = checkTrade(read.json, envelope);
    if (checked !== undefined) return checked;
  }
  // Anything unusual: the schema names what is wrong, or accepts it after all.
  const result = tradeEventSchema.safeParse(read.json);
  if (!result.success) return reject('schema', `not a trade event: ${describeZodError(result.error)}`);
  return checkTrade(result.data, envelope) ?? reject('schema', 'not a trade event: p or q: expected a decimal string');
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
