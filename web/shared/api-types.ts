/**
 * The JSON the web API and its WebSocket send, as schemas the page checks every
 * message against. `zod/mini` keeps this light in the browser bundle.
 */
import * as z from 'zod/mini';

/** One candle (a window of `trade_windows`); `start` in ms since the epoch (UTC). */
export const candleSchema = z.object({
  start: z.number(),
  open: z.number(),
  high: z.number(),
  low: z.number(),
  close: z.number(),
  volume: z.number(),
  quoteVolume: z.number(),
  vwap: z.number(),
  trades: z.number(),
  buyVolume: z.number(),
  sellVolume: z.number(),
  firstTradeId: z.number(),
  lastTradeId: z.number(),
  /** Trade ids absent inside `[firstTradeId, lastTradeId]`: trades the window lacks. */
  missingTrades: z.number(),
  isFinal: z.boolean(),
});
export type Candle = z.infer<typeof candleSchema>;

export const windowsResponseSchema = z.object({
  symbol: z.string(),
  from: z.number(),
  to: z.number(),
  windowSeconds: z.number(),
  windows: z.array(candleSchema),
});
export type WindowsResponse = z.infer<typeof windowsResponseSchema>;

/**
 * How complete the stored trades of `[from, to)` are. Binance spot trade ids are
 * consecutive per symbol, so an id absent between the range's first and last stored
 * trade is a missed trade. A hole before the first stored trade of the range (or after
 * its last) cannot be seen from the range alone.
 */
export const qualityResponseSchema = z.object({
  symbol: z.string(),
  from: z.number(),
  to: z.number(),
  /** Distinct trade ids stored with a trade time in the range. */
  tradesStored: z.number(),
  firstTradeId: z.nullable(z.number()),
  lastTradeId: z.nullable(z.number()),
  /** Ids absent between `firstTradeId` and `lastTradeId`, window edges included. */
  missingTrades: z.number(),
  /** Windows of the range whose row says they lack trades. */
  windowsWithMissingTrades: z.number(),
  /** Distinct stored ids the producer fetched over REST to fill a hole. */
  repairedTrades: z.number(),
  /** Order-book snapshots taken in the range: one per (re)sync of the book. */
  depthSyncs: z.number(),
  /** Trades are stored and none is missing between the first and the last. */
  complete: z.boolean(),
});
export type QualityResponse = z.infer<typeof qualityResponseSchema>;

/** A trade; `side` is the taker's side (`buy` when the buyer was not the maker). */
export const tradeSchema = z.object({
  id: z.number(),
  price: z.number(),
  qty: z.number(),
  time: z.number(),
  side: z.enum(['buy', 'sell']),
});
export type Trade = z.infer<typeof tradeSchema>;

export const tradesResponseSchema = z.object({ symbol: z.string(), trades: z.array(tradeSchema) });
export type TradesResponse = z.infer<typeof tradesResponseSchema>;

/** `[price, qty]` */
export const bookLevelSchema = z.tuple([z.number(), z.number()]);
export type BookLevel = z.infer<typeof bookLevelSchema>;

/** The top of a symbol's order book, best levels first, at update id `lastUpdateId`. */
export const orderbookSchema = z.object({
  symbol: z.string(),
  lastUpdateId: z.number(),
  /** Event time (ms) of the latest update applied, or the snapshot's time. */
  updateTime: z.number(),
  /** When the server last brought the book up to date with ClickHouse (ms). */
  checkedAt: z.number(),
  bids: z.array(bookLevelSchema),
  asks: z.array(bookLevelSchema),
});
export type Orderbook = z.infer<typeof orderbookSchema>;

/** A symbol with data: last price and change over the 24 h up to its latest window. */
export const symbolSummarySchema = z.object({
  symbol: z.string(),
  lastPrice: z.number(),
  /** Start (ms) of the symbol's latest window. */
  lastWindowStart: z.number(),
  /** Open of the first window of the 24 h that end with the latest window. */
  open24h: z.number(),
  change24h: z.number(),
  changePct24h: z.number(),
  high24h: z.number(),
  low24h: z.number(),
  volume24h: z.number(),
  quoteVolume24h: z.number(),
});
export type SymbolSummary = z.infer<typeof symbolSummarySchema>;

export const symbolsResponseSchema = z.object({
  /** Seconds a window covers (the aggregator's WINDOW_SECONDS). */
  windowSeconds: z.number(),
  symbols: z.array(symbolSummarySchema),
});
export type SymbolsResponse = z.infer<typeof symbolsResponseSchema>;

export const errorResponseSchema = z.object({ error: z.string() });

/** What the page sends on the WebSocket. */
export interface SubscribeMessage {
  type: 'subscribe';
  symbol: string;
  depth?: number;
}

/**
 * Pushed once a push interval for the subscribed symbol, only when something changed:
 * windows new or rewritten since the last push (after subscribing: the recent ones),
 * the latest trades when there is a new one, the book when it moved.
 */
export const updateMessageSchema = z.object({
  type: z.literal('update'),
  symbol: z.string(),
  serverTime: z.number(),
  windows: z.array(candleSchema),
  trades: z.nullable(z.array(tradeSchema)),
  book: z.nullable(orderbookSchema),
});
export type UpdateMessage = z.infer<typeof updateMessageSchema>;

/** Sent on connecting and whenever ClickHouse becomes reachable or unreachable. */
export const statusMessageSchema = z.object({
  type: z.literal('status'),
  clickhouse: z.enum(['up', 'down']),
  message: z.string(),
});
export type StatusMessage = z.infer<typeof statusMessageSchema>;

/** A refused client message or an unknown symbol. */
export const errorMessageSchema = z.object({ type: z.literal('error'), message: z.string() });

export const serverMessageSchema = z.discriminatedUnion('type', [
  updateMessageSchema,
  statusMessageSchema,
  errorMessageSchema,
]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;
