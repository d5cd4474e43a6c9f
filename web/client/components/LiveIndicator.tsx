import type { MarketState } from '../market-feed.js';

/** Data older than this is called stale. */
export const staleAfterMs = 5000;

/** LIVE while updates keep coming; STALE after 5 s without one; says when ClickHouse is down. */
export function LiveIndicator({ market, now }: { market: MarketState | undefined; now: number }) {
  let status: 'live' | 'stale' | 'down' | 'connecting';
  let label: string;
  const age = market && market.lastDataAt > 0 ? now - market.lastDataAt : undefined;
  if (market?.clickhouse === 'down') {
    status = 'down';
    label = 'ClickHouse down';
  } else if (age === undefined) {
    status = 'connecting';
    label = 'Connecting';
  } else if (age > staleAfterMs) {
    status = 'stale';
    label = `Stale · ${formatAge(age)}`;
  } else {
    status = 'live';
    label = 'Live';
  }
  const via = market?.connection === 'polling' ? ' (polling)' : '';
  return (
    <div
      className={`live-indicator ${status}`}
      data-status={status}
      title={`Updates via ${market?.connection ?? 'connecting'}`}
    >
      <span className="dot" />
      {label}
      {via}
    </div>
  );
}

function formatAge(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.round(s / 60);
  return m < 120 ? `${m}m` : `${Math.round(m / 60)}h`;
}
