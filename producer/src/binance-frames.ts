import {
  combinedFrameSchema,
  depthUpdateEventSchema,
  describeZodError,
  tradeEventSchema,
} from '@candleflow/common/binance-events';
import { scanMarketFrame } from './frame-scanner.js';

/** A trade from `<symbol>@trade`; `raw` is the frame's `data` bytes exactly as Binance sent them. */
export interface TradeMessage {
  kind: 'trade';
  symbol: string;
  tradeId: number;
  raw: Buffer;
}

/** A diff from `<symbol>@depth@100ms`, with the update ids the book sync needs. */
export interface DepthDiffMessage {
  kind: 'depth';
  symbol: string;
  firstUpdateId: number;
  finalUpdateId: number;
  raw: Buffer;
}

/** Binance announces that it will soon cut this connection (`{"e":"serverShutdown","E":...}`). */
export interface ServerShutdownMessage {
  kind: 'server-shutdown';
}

export type MarketMessage = TradeMessage | DepthDiffMessage;
export type StreamMessage = MarketMessage | ServerShutdownMessage;

export const MALFORMED_KINDS = [
  'not-json',
  'not-a-combined-frame',
  'unknown-stream',
  'invalid-trade',
  'invalid-depth',
  'symbol-mismatch',
] as const;
export type MalformedKind = (typeof MALFORMED_KINDS)[number];

export type FrameParseResult =
  { ok: true; message: StreamMessage } | { ok: false; kind: MalformedKind; reason: string; stream?: string };

const streamPattern = /^([a-z0-9]+)@(trade|depth(?:@100ms)?)$/;

const SERVER_SHUTDOWN: FrameParseResult = Object.freeze({
  ok: true,
  message: Object.freeze({ kind: 'server-shutdown' }),
});

/**
 * Validates one combined-stream frame (`{"stream": ..., "data": {...}}`, as received)
 * against the common Binance schemas. Never throws: anything unexpected comes back as a
 * malformed result naming what was wrong. Frames in Binance's own layout take the
 * checked scanner; any other goes through `fullParseFrame`, with the same result.
 */
export function parseFrame(bytes: Buffer): FrameParseResult {
  const message = scanMarketFrame(bytes);
  return message !== undefined ? { ok: true, message } : fullParseFrame(bytes);
}

/**
 * The reference path: JSON.parse and the schemas. A `serverShutdown` event is recognised
 * bare or wrapped (checked only on the paths where a market frame did not parse).
 */
export function fullParseFrame(bytes: Buffer): FrameParseResult {
  const text = bytes.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, kind: 'not-json', reason: error instanceof Error ? error.message : String(error) };
  }
  const frame = combinedFrameSchema.safeParse(json);
  if (!frame.success) {
    if (isServerShutdown(json)) return SERVER_SHUTDOWN;
    return { ok: false, kind: 'not-a-combined-frame', reason: describeZodError(frame.error) };
  }
  const { stream, data } = frame.data;
  const match = streamPattern.exec(stream);
  if (!match) {
    if (isServerShutdown(data)) return SERVER_SHUTDOWN;
    return { ok: false, kind: 'unknown-stream', reason: `unexpected stream ${JSON.stringify(stream)}`, stream };
  }
  const streamSymbol = (match[1] ?? '').toUpperCase();
  const raw = rawData(text, json, stream);

  if (match[2] === 'trade') {
    const trade = tradeEventSchema.safeParse(data);
    if (!trade.success) {
      if (isServerShutdown(data)) return SERVER_SHUTDOWN;
      return { ok: false, kind: 'invalid-trade', reason: describeZodError(trade.error), stream };
    }
    if (trade.data.s !== streamSymbol) return mismatch(stream, trade.data.s);
    return { ok: true, message: { kind: 'trade', symbol: trade.data.s, tradeId: trade.data.t, raw } };
  }
  const depth = depthUpdateEventSchema.safeParse(data);
  if (!depth.success) {
    if (isServerShutdown(data)) return SERVER_SHUTDOWN;
    return { ok: false, kind: 'invalid-depth', reason: describeZodError(depth.error), stream };
  }
  if (depth.data.s !== streamSymbol) return mismatch(stream, depth.data.s);
  if (depth.data.U > depth.data.u) {
    return { ok: false, kind: 'invalid-depth', reason: `U ${depth.data.U} is after u ${depth.data.u}`, stream };
  }
  return {
    ok: true,
    message: {
      kind: 'depth',
      symbol: depth.data.s,
      firstUpdateId: depth.data.U,
      finalUpdateId: depth.data.u,
      raw,
    },
  };
}

function isServerShutdown(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { e?: unknown }).e === 'serverShutdown';
}

function mismatch(stream: string, symbol: string): FrameParseResult {
  return {
    ok: false,
    kind: 'symbol-mismatch',
    reason: `stream ${JSON.stringify(stream)} carries symbol ${JSON.stringify(symbol)}`,
    stream,
  };
}

/**
 * The `data` member as received. Binance writes frames as exactly
 * `{"stream":"...","data":{...}}`; for that layout (checked: two keys, known prefix) the
 * text between the prefix and the closing brace is the data object verbatim. Any other
 * layout falls back to re-serializing the parsed value.
 */
function rawData(text: string, json: unknown, stream: string): Buffer {
  const trimmed = text.trim();
  const prefix = `{"stream":${JSON.stringify(stream)},"data":`;
  const keys = typeof json === 'object' && json !== null ? Object.keys(json) : [];
  if (keys.length === 2 && trimmed.startsWith(prefix) && trimmed.endsWith('}')) {
    return Buffer.from(trimmed.slice(prefix.length, -1).trim());
  }
  return Buffer.from(JSON.stringify((json as { data: unknown }).data));
}
