/**
 * The Plotly figures of the page, as plain data: candles + VWAP + volume, and the
 * book's depth. Kept free of Plotly and the DOM so they can be checked in tests.
 */
import type { Candle, Orderbook } from './api-types.js';
import { depthCurve, spreadOf } from './depth-curve.js';
import { priceDecimals } from './price-format.js';

export const theme = {
  background: '#0b0e14',
  panel: '#11151e',
  grid: '#1c2230',
  text: '#c7cfdd',
  muted: '#6b7588',
  up: '#26a69a',
  down: '#ef5350',
  vwap: '#f5b841',
  /** Candles with missing trades: an orange apart from the VWAP's amber and the down candles' red. */
  warning: '#ff7a00',
  font: 'Inter, "Segoe UI", Roboto, system-ui, sans-serif',
} as const;

export type Trace = Record<string, unknown>;
export interface Figure {
  data: Trace[];
  layout: Record<string, unknown>;
}

const axisBase = {
  gridcolor: theme.grid,
  zerolinecolor: theme.grid,
  linecolor: theme.grid,
  tickfont: { color: theme.muted, size: 11 },
};

function tickFormat(candles: readonly Candle[]): string {
  const last = candles[candles.length - 1];
  return `,.${priceDecimals(last?.close ?? 0)}f`;
}

/** "1 trade missing", "12 trades missing". */
export function missingTradesText(count: number): string {
  return `${count} ${count === 1 ? 'trade' : 'trades'} missing`;
}

/**
 * A marker above each candle that lacks trades, labelled with how many. Always present
 * (empty when nothing is missing, and then out of the legend) so the traces keep their
 * order as candles are repaired.
 */
function missingTradesTrace(candles: readonly Candle[]): Trace {
  const marked = candles.filter((c) => c.missingTrades > 0);
  let top = -Infinity;
  let bottom = Infinity;
  for (const c of candles) {
    top = Math.max(top, c.high);
    bottom = Math.min(bottom, c.low);
  }
  // Clear of the wick, by a share of the price range the chart shows.
  const gap = top > bottom ? (top - bottom) * 0.04 : Math.abs(top) * 1e-4;
  return {
    type: 'scatter',
    mode: 'markers+text',
    name: 'missing trades',
    x: marked.map((c) => c.start),
    y: marked.map((c) => c.high + gap),
    text: marked.map((c) => String(c.missingTrades)),
    textposition: 'top center',
    textfont: { color: theme.warning, size: 11 },
    customdata: marked.map((c) => missingTradesText(c.missingTrades)),
    hovertemplate: '%{customdata}<extra></extra>',
    marker: { symbol: 'triangle-down', size: 11, color: theme.warning, line: { color: theme.background, width: 1 } },
    cliponaxis: false,
    yaxis: 'y',
    showlegend: marked.length > 0,
  };
}

/** The narrowest time span the price chart shows. */
export const MIN_SPAN_MS = 5 * 60_000;

/**
 * Candlesticks with the windows' VWAP above, taker buy/sell volume stacked beneath, and
 * a warning marker over each candle with missing trades.
 * `uirevision` keeps the user's zoom and pan through updates until the symbol or the
 * range changes.
 */
export function priceFigure(candles: readonly Candle[], uirevision: string): Figure {
  const x = candles.map((c) => c.start);
  const format = tickFormat(candles);
  const first = x[0];
  const last = x.at(-1);
  // A few candles alone would stretch across the chart with millisecond ticks: show at
  // least MIN_SPAN_MS, newest at the right, until the data fills it.
  const range =
    first !== undefined && last !== undefined && last - first < MIN_SPAN_MS
      ? [last - MIN_SPAN_MS, last + 15_000]
      : undefined;
  return {
    data: [
      {
        type: 'candlestick',
        name: 'Price',
        x,
        open: candles.map((c) => c.open),
        high: candles.map((c) => c.high),
        low: candles.map((c) => c.low),
        close: candles.map((c) => c.close),
        increasing: { line: { color: theme.up, width: 1 }, fillcolor: theme.up },
        decreasing: { line: { color: theme.down, width: 1 }, fillcolor: theme.down },
        whiskerwidth: 0,
        yaxis: 'y',
        hoverlabel: { bgcolor: theme.panel, bordercolor: theme.grid, font: { color: theme.text } },
      },
      {
        type: 'scatter',
        mode: 'lines',
        name: 'VWAP',
        x,
        y: candles.map((c) => c.vwap),
        line: { color: theme.vwap, width: 1.4 },
        yaxis: 'y',
        hovertemplate: `VWAP %{y:${format}}<extra></extra>`,
      },
      {
        type: 'bar',
        name: 'Buy volume',
        x,
        y: candles.map((c) => c.buyVolume),
        marker: { color: theme.up, opacity: 0.55 },
        yaxis: 'y2',
        hovertemplate: 'Buy %{y:,.4~f}<extra></extra>',
      },
      {
        type: 'bar',
        name: 'Sell volume',
        x,
        y: candles.map((c) => c.sellVolume),
        marker: { color: theme.down, opacity: 0.55 },
        yaxis: 'y2',
        hovertemplate: 'Sell %{y:,.4~f}<extra></extra>',
      },
      missingTradesTrace(candles),
    ],
    layout: {
      uirevision,
      paper_bgcolor: theme.background,
      plot_bgcolor: theme.background,
      font: { family: theme.font, color: theme.text, size: 12 },
      margin: { l: 10, r: 64, t: 26, b: 40 },
      showlegend: true,
      legend: {
        orientation: 'h',
        traceorder: 'normal',
        x: 0,
        y: 1,
        yanchor: 'bottom',
        font: { size: 11, color: theme.muted },
        bgcolor: 'rgba(0,0,0,0)',
      },
      hovermode: 'x unified',
      hoverlabel: { bgcolor: theme.panel, bordercolor: theme.grid, font: { color: theme.text } },
      barmode: 'stack',
      bargap: 0.15,
      dragmode: 'zoom',
      xaxis: {
        ...axisBase,
        type: 'date',
        // Time labels under the volume bars, at the bottom of the chart.
        anchor: 'y2',
        rangeslider: { visible: false },
        showspikes: true,
        spikemode: 'across',
        spikecolor: theme.muted,
        spikethickness: 1,
        spikedash: 'dot',
        hoverformat: '%H:%M:%S UTC',
        ...(range ? { range, autorange: false } : { autorange: true }),
      },
      yaxis: { ...axisBase, domain: [0.26, 1], side: 'right', tickformat: format, fixedrange: false },
      yaxis2: { ...axisBase, domain: [0, 0.2], side: 'right', showgrid: false, tickformat: '~s' },
    },
  };
}

/**
 * Levels of both sides within the same distance of the mid price (as far as the
 * shallower side reaches), so the depth chart is centred and shows both sides.
 */
export function balancedLevels(book: Orderbook): { bids: Orderbook['bids']; asks: Orderbook['asks']; mid?: number } {
  const mid = spreadOf(book.bids, book.asks)?.mid;
  const deepestBid = book.bids[book.bids.length - 1]?.[0];
  const deepestAsk = book.asks[book.asks.length - 1]?.[0];
  if (mid === undefined || deepestBid === undefined || deepestAsk === undefined)
    return { bids: book.bids, asks: book.asks };
  const reach = Math.min(mid - deepestBid, deepestAsk - mid);
  return {
    bids: book.bids.filter(([price]) => mid - price <= reach),
    asks: book.asks.filter(([price]) => price - mid <= reach),
    mid,
  };
}

/** Cumulative bid and ask quantity against price, best levels in the middle. */
export function depthFigure(book: Orderbook | undefined, uirevision: string): Figure {
  const levels = book ? balancedLevels(book) : { bids: [], asks: [] };
  const bids = depthCurve(levels.bids);
  const asks = depthCurve(levels.asks);
  const mid = levels.mid;
  const decimals = priceDecimals(mid ?? bids.prices[0] ?? asks.prices[0] ?? 0);
  const trace = (name: string, curve: typeof bids, color: string, fill: string): Trace => ({
    type: 'scatter',
    mode: 'lines',
    name,
    x: curve.prices,
    y: curve.cumulative,
    line: { color, width: 1.5, shape: 'hv' },
    fill: 'tozeroy',
    fillcolor: fill,
    hovertemplate: `%{x:,.${decimals}f}<br>%{y:,.4~f}<extra>${name}</extra>`,
  });
  return {
    data: [
      trace('Bids', bids, theme.up, 'rgba(38,166,154,0.18)'),
      trace('Asks', asks, theme.down, 'rgba(239,83,80,0.18)'),
    ],
    layout: {
      uirevision,
      paper_bgcolor: theme.panel,
      plot_bgcolor: theme.panel,
      font: { family: theme.font, color: theme.text, size: 11 },
      margin: { l: 44, r: 10, t: 6, b: 26 },
      showlegend: false,
      hovermode: 'x',
      xaxis: { ...axisBase, tickformat: `,.${Math.max(0, decimals - 2)}f`, nticks: 4, tickangle: 0 },
      yaxis: { ...axisBase, tickformat: '~s', nticks: 5 },
      shapes:
        mid === undefined
          ? []
          : [
              {
                type: 'line',
                x0: mid,
                x1: mid,
                yref: 'paper',
                y0: 0,
                y1: 1,
                line: { color: theme.muted, width: 1, dash: 'dot' },
              },
            ],
    },
  };
}
