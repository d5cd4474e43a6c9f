import { useEffect, useMemo, useState } from 'react';
import { symbolsResponseSchema, type SymbolSummary } from '../shared/api-types.js';
import { depthFigure, priceFigure } from '../shared/chart-figures.js';
import { dayHighLow } from '../shared/day-range.js';
import { formatPercent, formatPrice, formatQuantity, priceDecimals } from '../shared/price-format.js';
import { ApiError, getJson } from './api.js';
import { Completeness } from './components/Completeness.js';
import { LiveIndicator } from './components/LiveIndicator.js';
import { OrderbookLadder } from './components/OrderbookLadder.js';
import { PlotlyFigure } from './components/PlotlyFigure.js';
import { RangeButtons } from './components/RangeButtons.js';
import { SymbolStrip } from './components/SymbolStrip.js';
import { TradeTape } from './components/TradeTape.js';
import { useMarket, useNow } from './use-market.js';

const symbolsPollMs = 5000;

/**
 * The symbols with data and the window length, refreshed every few seconds; `problem`
 * says why there are none.
 */
function useSymbols(): {
  symbols: SymbolSummary[] | undefined;
  windowSeconds: number | undefined;
  problem: string | undefined;
} {
  const [symbols, setSymbols] = useState<SymbolSummary[]>();
  const [windowSeconds, setWindowSeconds] = useState<number>();
  const [problem, setProblem] = useState<string>();
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const load = async () => {
      try {
        const body = await getJson('api/symbols', symbolsResponseSchema);
        if (stopped) return;
        setSymbols(body.symbols);
        setWindowSeconds(body.windowSeconds);
        setProblem(
          body.symbols.length === 0 ? 'No market data yet. Waiting for the aggregator to write windows…' : undefined,
        );
      } catch (error) {
        if (stopped) return;
        setProblem(
          error instanceof ApiError && error.status === 503
            ? 'ClickHouse is unreachable. Retrying…'
            : `Cannot load symbols: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      if (!stopped) timer = setTimeout(() => void load(), symbolsPollMs);
    };
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);
  return { symbols, windowSeconds, problem };
}

function symbolFromHash(): string | undefined {
  const hash = window.location.hash.replace(/^#/, '').toUpperCase();
  return /^[A-Z0-9]{2,20}$/.test(hash) ? hash : undefined;
}

export function App() {
  const { symbols, windowSeconds, problem: symbolsProblem } = useSymbols();
  const [chosen, setChosen] = useState(symbolFromHash);
  const [rangeMs, setRangeMs] = useState(15 * 60_000);
  const summary = symbols?.find((s) => s.symbol === chosen) ?? symbols?.[0];
  const symbol = summary?.symbol;
  const market = useMarket(symbol, rangeMs, summary?.lastWindowStart, windowSeconds);
  const now = useNow(500);

  const select = (next: string) => {
    setChosen(next);
    window.history.replaceState(null, '', `#${next}`);
  };

  const candles = market?.candles;
  const book = market?.book;
  const priceFig = useMemo(() => priceFigure(candles ?? [], `${symbol ?? ''}:${rangeMs}`), [candles, symbol, rangeMs]);
  const depthFig = useMemo(() => depthFigure(book, symbol ?? ''), [book, symbol]);

  const lastPrice = market?.trades[0]?.price ?? candles?.[candles.length - 1]?.close ?? summary?.lastPrice;
  const change = summary && lastPrice !== undefined ? lastPrice - summary.open24h : undefined;
  const changePct =
    change !== undefined && summary && summary.open24h !== 0 ? (change / summary.open24h) * 100 : undefined;
  const direction = change === undefined ? '' : change >= 0 ? 'up' : 'down';
  const day = summary ? dayHighLow(summary, candles ?? [], lastPrice) : undefined;

  useEffect(() => {
    document.title =
      symbol && lastPrice !== undefined ? `${formatPrice(lastPrice)} ${symbol} · candleflow` : 'candleflow';
  }, [symbol, lastPrice]);

  const banner = market?.problem ?? symbolsProblem;

  return (
    <div className="app">
      <header className="top-bar">
        <div className="brand">
          <span className="brand-mark" aria-hidden="true" />
          candleflow
        </div>
        {summary && (
          <div className="quote" id="quote">
            <span className="quote-symbol">{summary.symbol}</span>
            <span className={`quote-price ${direction}`} id="last-price">
              {lastPrice === undefined ? '—' : formatPrice(lastPrice)}
            </span>
            <span className={`quote-change ${direction}`} id="change-24h">
              {change === undefined || changePct === undefined
                ? '—'
                : `${change >= 0 ? '+' : ''}${formatPrice(change, priceDecimals(lastPrice ?? change))} ${formatPercent(changePct)}`}
            </span>
            <span className="quote-stat">
              <label>24h high</label>
              {formatPrice(day?.high ?? summary.high24h)}
            </span>
            <span className="quote-stat">
              <label>24h low</label>
              {formatPrice(day?.low ?? summary.low24h)}
            </span>
            <span className="quote-stat">
              <label>24h volume</label>
              {formatQuantity(summary.volume24h)}
            </span>
          </div>
        )}
        <Completeness quality={market?.quality} />
        <LiveIndicator market={market} now={now} />
      </header>

      <SymbolStrip symbols={symbols ?? []} selected={symbol} onSelect={select} />

      {banner && (
        <div
          className={`banner ${market?.clickhouse === 'down' || banner.startsWith('ClickHouse') ? 'error' : 'info'}`}
          role="status"
          id="banner"
        >
          {banner}
        </div>
      )}

      <main className="workspace">
        <section className="card chart-card">
          <div className="card-toolbar">
            <RangeButtons selected={rangeMs} onSelect={setRangeMs} />
            <span className="hint">
              {windowSeconds === undefined ? '' : `${windowSeconds} s candles · `}VWAP · taker buy/sell volume · UTC
            </span>
          </div>
          <PlotlyFigure figure={priceFig} id="price-chart" className="plot price-plot" />
        </section>
        <aside className="side">
          <section className="card">
            <h2>Depth</h2>
            <PlotlyFigure figure={depthFig} id="depth-chart" className="plot depth-plot" />
          </section>
          <section className="card">
            <h2>Order book</h2>
            <OrderbookLadder book={book} />
          </section>
          <section className="card">
            <h2>Trades</h2>
            <TradeTape trades={market?.trades ?? []} />
          </section>
        </aside>
      </main>
    </div>
  );
}
