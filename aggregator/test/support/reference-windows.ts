/**
 * A deliberately plain reference for what `trade_windows FINAL` must hold: group the
 * distinct trades by (symbol, window), sort each group by (time, id), read off the values.
 * Floats everywhere; comparisons allow 1e-9 relative on sums.
 */
import assert from 'node:assert/strict';

export interface RefTrade {
  symbol: string;
  id: number;
  price: string;
  qty: string;
  timeMs: number;
  buyerIsMaker: boolean;
}

export interface RefWindow {
  symbol: string;
  windowStart: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quoteVolume: number;
  vwap: number;
  trades: number;
  buyVolume: number;
  sellVolume: number;
  firstTradeId: number;
  lastTradeId: number;
  /** Ids between the first and the last that no trade of the window has. */
  missingTrades: number;
}

export function referenceWindows(trades: readonly RefTrade[], windowSeconds: number): RefWindow[] {
  const distinct = new Map<string, RefTrade>();
  for (const t of trades) distinct.set(`${t.symbol}/${t.id}`, t);
  const groups = new Map<string, RefTrade[]>();
  for (const t of distinct.values()) {
    const start = Math.floor(t.timeMs / 1000 / windowSeconds) * windowSeconds;
    const k = `${t.symbol}/${start}`;
    groups.set(k, [...(groups.get(k) ?? []), t]);
  }
  const out: RefWindow[] = [];
  for (const group of groups.values()) {
    group.sort((a, b) => a.timeMs - b.timeMs || a.id - b.id);
    const first = group[0];
    const last = group[group.length - 1];
    assert.ok(first && last);
    const prices = group.map((t) => Number(t.price));
    const volume = group.reduce((s, t) => s + Number(t.qty), 0);
    const quoteVolume = group.reduce((s, t) => s + Number(t.price) * Number(t.qty), 0);
    const buyVolume = group.filter((t) => !t.buyerIsMaker).reduce((s, t) => s + Number(t.qty), 0);
    const sellVolume = group.filter((t) => t.buyerIsMaker).reduce((s, t) => s + Number(t.qty), 0);
    out.push({
      symbol: first.symbol,
      windowStart: Math.floor(first.timeMs / 1000 / windowSeconds) * windowSeconds,
      open: Number(first.price),
      high: Math.max(...prices),
      low: Math.min(...prices),
      close: Number(last.price),
      volume,
      quoteVolume,
      vwap: quoteVolume / volume,
      trades: group.length,
      buyVolume,
      sellVolume,
      firstTradeId: Math.min(...group.map((t) => t.id)),
      lastTradeId: Math.max(...group.map((t) => t.id)),
      missingTrades: Math.max(...group.map((t) => t.id)) - Math.min(...group.map((t) => t.id)) + 1 - group.length,
    });
  }
  return out.sort((a, b) => a.symbol.localeCompare(b.symbol) || a.windowStart - b.windowStart);
}

function close(actual: number, expected: number, what: string): void {
  const scale = Math.max(Math.abs(expected), Math.abs(actual), 1e-300);
  assert.ok(
    Math.abs(actual - expected) / scale <= 1e-9 || Math.abs(actual - expected) <= 1e-12,
    `${what}: ${actual} is not within 1e-9 of ${expected}`,
  );
}

/** Asserts `actual` (sorted like the reference) matches: counts, ids and OHLC exactly, sums within 1e-9 relative. */
export function assertWindowsMatch(actual: readonly RefWindow[], expected: readonly RefWindow[]): void {
  assert.deepEqual(
    actual.map((w) => `${w.symbol}@${w.windowStart}`),
    expected.map((w) => `${w.symbol}@${w.windowStart}`),
    'the same windows, one row each',
  );
  expected.forEach((e, i) => {
    const a = actual[i];
    assert.ok(a);
    const at = `${e.symbol}@${e.windowStart}`;
    assert.deepEqual(
      [a.open, a.high, a.low, a.close, a.trades, a.firstTradeId, a.lastTradeId, a.missingTrades],
      [e.open, e.high, e.low, e.close, e.trades, e.firstTradeId, e.lastTradeId, e.missingTrades],
      `${at}: open, high, low, close, trades, first and last trade id, missing trades`,
    );
    close(a.volume, e.volume, `${at} volume`);
    close(a.quoteVolume, e.quoteVolume, `${at} quote volume`);
    close(a.vwap, e.vwap, `${at} vwap`);
    close(a.buyVolume, e.buyVolume, `${at} buy volume`);
    close(a.sellVolume, e.sellVolume, `${at} sell volume`);
  });
}

/** A small seeded generator, so a failing random case can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random Binance-like decimal strings with 8 decimals. */
export function randomDecimal(random: () => number, min: number, max: number): string {
  return (min + random() * (max - min)).toFixed(8);
}
