import { useEffect, useRef, useState } from 'react';
import { MarketFeed, type MarketState } from './market-feed.js';

/** The live state of `symbol` over `rangeMs`, from a MarketFeed that lives as long as these. */
export function useMarket(
  symbol: string | undefined,
  rangeMs: number,
  latestStart: number | undefined,
  windowSeconds: number | undefined,
): MarketState | undefined {
  const [state, setState] = useState<MarketState>();
  // The anchor only matters when the feed starts; later ticker refreshes must not restart it.
  const anchor = useRef(latestStart);
  anchor.current = latestStart;
  const ready = latestStart !== undefined;
  useEffect(() => {
    if (symbol === undefined || !ready || windowSeconds === undefined) return;
    setState(undefined);
    const feed = new MarketFeed(symbol, rangeMs, windowSeconds * 1000, anchor.current, setState);
    feed.start();
    return () => feed.stop();
  }, [symbol, rangeMs, ready, windowSeconds]);
  return state?.symbol === symbol ? state : undefined;
}

/** `Date.now()`, re-read every `intervalMs`, for "n seconds ago" displays. */
export function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}
