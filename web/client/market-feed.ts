import {
  orderbookSchema,
  qualityResponseSchema,
  serverMessageSchema,
  tradesResponseSchema,
  windowsResponseSchema,
  type Candle,
  type Orderbook,
  type QualityResponse,
  type ServerMessage,
  type SubscribeMessage,
  type Trade,
} from '../shared/api-types.js';
import { CandleSeries } from '../shared/candle-series.js';
import { ApiError, getJson } from './api.js';

export type Connection = 'connecting' | 'live' | 'polling';

export interface MarketState {
  symbol: string;
  candles: readonly Candle[];
  trades: readonly Trade[];
  book: Orderbook | undefined;
  /** When data last changed (ms, browser clock); 0 before any. */
  lastDataAt: number;
  connection: Connection;
  clickhouse: 'up' | 'down' | 'unknown';
  /** Why there is nothing to show, for the banner. */
  problem: string | undefined;
  /** How complete the trades of the shown range are; undefined until known, or when it cannot be asked. */
  quality: QualityResponse | undefined;
}

const bookDepth = 50;
const tradeCount = 30;
const pollMs = 1000;
const retryMs = 2000;
const maxReconnectMs = 8000;
/** How often the shown range's completeness is asked for again (the range moves, repairs fill holes). */
const qualityPollMs = 5000;

/**
 * One symbol's live data for the page: the range's history over HTTP, then updates
 * pushed on `/ws`. When the socket drops it polls the API every second and keeps trying
 * to reconnect; when ClickHouse comes back it reloads the history to fill the gap.
 */
export class MarketFeed {
  private readonly series: CandleSeries;
  private state: MarketState;
  private socket: WebSocket | undefined;
  private pollTimer: ReturnType<typeof setInterval> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private qualityTimer: ReturnType<typeof setTimeout> | undefined;
  private watchingQuality = false;
  private reconnectDelay = 1000;
  private polling = false;
  private stopped = false;

  constructor(
    readonly symbol: string,
    private readonly rangeMs: number,
    /** Length of one window (ms), as the API reports it. */
    private readonly windowMs: number,
    /** Start of the symbol's latest window as last seen, to request the range that ends there. */
    private readonly latestStart: number | undefined,
    private readonly onState: (state: MarketState) => void,
  ) {
    this.series = new CandleSeries(rangeMs, windowMs);
    this.state = {
      symbol,
      candles: [],
      trades: [],
      book: undefined,
      lastDataAt: 0,
      connection: 'connecting',
      clickhouse: 'unknown',
      problem: undefined,
      quality: undefined,
    };
  }

  start(): void {
    void this.loadHistory();
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.retryTimer);
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.qualityTimer);
    this.socket?.close();
  }

  private update(patch: Partial<MarketState>): void {
    if (this.stopped) return;
    this.state = { ...this.state, ...patch };
    this.onState(this.state);
  }

  private dataChanged(patch: Partial<MarketState>): void {
    this.update({ ...patch, lastDataAt: Date.now() });
  }

  /**
   * The `/api/windows` request for the range; after an outage, the range ending with the
   * newest candle held (the gap follows it).
   */
  private historyPath(): string {
    const anchor = this.series.newest?.start ?? this.latestStart;
    const query = new URLSearchParams({ symbol: this.symbol });
    if (anchor !== undefined) query.set('from', String(anchor + this.windowMs - this.rangeMs));
    return `api/windows?${query.toString()}`;
  }

  /** The range's candles plus the latest trades and book, over HTTP. */
  private async loadHistory(): Promise<void> {
    clearTimeout(this.retryTimer);
    try {
      const [windows, trades, book] = await Promise.all([
        getJson(this.historyPath(), windowsResponseSchema),
        getJson(`api/trades?symbol=${this.symbol}&limit=${tradeCount}`, tradesResponseSchema),
        getJson(`api/orderbook?symbol=${this.symbol}&depth=${bookDepth}`, orderbookSchema).catch((error: unknown) => {
          if (error instanceof ApiError && error.status === 404) return undefined;
          throw error;
        }),
      ]);
      this.series.merge(windows.windows);
      // A push may have overtaken this answer; keep whichever is newer.
      this.dataChanged({
        candles: this.series.candles,
        trades: (this.state.trades[0]?.id ?? -1) > (trades.trades[0]?.id ?? -1) ? this.state.trades : trades.trades,
        book: (this.state.book?.lastUpdateId ?? -1) > (book?.lastUpdateId ?? -1) ? this.state.book : book,
        clickhouse: 'up',
        problem: undefined,
      });
      if (!this.watchingQuality) {
        this.watchingQuality = true;
        void this.checkQuality();
      }
    } catch (error) {
      this.failed(error);
      this.retryTimer = setTimeout(() => void this.loadHistory(), retryMs);
    }
  }

  /**
   * The range the chart shows, `[from, to)` on window boundaries, so that the server
   * counts exactly the windows the series holds.
   */
  private shownRange(): { from: number; to: number } | undefined {
    const newest = this.series.newest;
    if (newest === undefined) return undefined;
    const to = newest.start + this.windowMs;
    return { from: Math.ceil((to - this.rangeMs) / this.windowMs) * this.windowMs, to };
  }

  /**
   * Asks how complete the shown range is, now and then every `qualityPollMs`. Pushes
   * carry only the recent windows: when the server counts other windows with missing
   * trades than the series marks, one was rewritten (repaired) further back, and the
   * range's candles are read again.
   */
  private async checkQuality(): Promise<void> {
    const range = this.shownRange();
    if (range !== undefined) {
      const query = new URLSearchParams({ symbol: this.symbol, from: String(range.from), to: String(range.to) });
      const quality = await getJson(`api/quality?${query.toString()}`, qualityResponseSchema).catch(() => undefined);
      // On failure the candle requests say what is wrong; an unknown state is not shown as complete.
      this.update({ quality });
      const marked = this.series.candles.filter(
        (c) => c.missingTrades > 0 && c.start >= range.from && c.start < range.to,
      ).length;
      // A failed reload is tried again at the next check.
      if (quality && marked !== quality.windowsWithMissingTrades) await this.reloadCandles().catch(() => undefined);
    }
    if (!this.stopped) this.qualityTimer = setTimeout(() => void this.checkQuality(), qualityPollMs);
  }

  private async reloadCandles(): Promise<void> {
    const windows = await getJson(this.historyPath(), windowsResponseSchema);
    if (this.series.merge(windows.windows)) this.dataChanged({ candles: this.series.candles });
  }

  private failed(error: unknown): void {
    // 503 is also the server shedding range reads under load (Retry-After): ClickHouse is fine then.
    if (error instanceof ApiError && error.status === 503 && error.message.startsWith('busy')) {
      this.update({ problem: 'The server is busy. Retrying…' });
    } else if (error instanceof ApiError && error.status === 503) {
      this.update({ clickhouse: 'down', problem: 'ClickHouse is unreachable. Retrying…' });
    } else if (error instanceof ApiError && error.status === 404) {
      this.update({ problem: `No data for ${this.symbol} yet. Waiting for the aggregator…` });
    } else {
      this.update({ problem: error instanceof Error ? error.message : String(error) });
    }
  }

  private connect(): void {
    if (this.stopped) return;
    const url = new URL('ws', window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      const subscribe: SubscribeMessage = { type: 'subscribe', symbol: this.symbol, depth: bookDepth };
      socket.send(JSON.stringify(subscribe));
      this.reconnectDelay = 1000;
      this.stopPolling();
      this.update({ connection: 'live' });
    };
    socket.onmessage = (event: MessageEvent<unknown>) => {
      if (typeof event.data !== 'string') return;
      let json: unknown;
      try {
        json = JSON.parse(event.data);
      } catch {
        return;
      }
      const message = serverMessageSchema.safeParse(json);
      if (message.success) this.onMessage(message.data);
    };
    socket.onclose = () => {
      if (this.stopped || this.socket !== socket) return;
      this.socket = undefined;
      this.startPolling();
      this.update({ connection: 'polling' });
      this.reconnectTimer = setTimeout(() => this.connect(), this.reconnectDelay);
      this.reconnectDelay = Math.min(this.reconnectDelay * 2, maxReconnectMs);
    };
  }

  private onMessage(message: ServerMessage): void {
    if (message.type === 'status') {
      const wasDown = this.state.clickhouse === 'down';
      if (message.clickhouse === 'down') {
        this.update({ clickhouse: 'down', problem: 'ClickHouse is unreachable. Retrying…' });
      } else {
        this.update({ clickhouse: 'up', problem: wasDown ? undefined : this.state.problem });
        if (wasDown) void this.loadHistory();
      }
    } else if (message.type === 'update' && message.symbol === this.symbol) {
      this.series.merge(message.windows);
      this.dataChanged({
        candles: this.series.candles,
        trades: message.trades ?? this.state.trades,
        book: message.book ?? this.state.book,
        clickhouse: 'up',
        problem: undefined,
      });
    }
  }

  private startPolling(): void {
    if (this.pollTimer !== undefined) return;
    this.pollTimer = setInterval(() => void this.poll(), pollMs);
  }

  private stopPolling(): void {
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  /** While the socket is down: what a push would have carried, over HTTP. */
  private async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      const newest = this.series.newest;
      const query = new URLSearchParams({ symbol: this.symbol });
      if (newest !== undefined) query.set('from', String(newest.start - 60_000));
      const [windows, trades, book] = await Promise.all([
        getJson(`api/windows?${query.toString()}`, windowsResponseSchema),
        getJson(`api/trades?symbol=${this.symbol}&limit=${tradeCount}`, tradesResponseSchema),
        getJson(`api/orderbook?symbol=${this.symbol}&depth=${bookDepth}`, orderbookSchema).catch(() => undefined),
      ]);
      const candlesChanged = this.series.merge(windows.windows);
      const tradeChanged = trades.trades[0]?.id !== this.state.trades[0]?.id;
      const bookChanged = book !== undefined && book.lastUpdateId !== this.state.book?.lastUpdateId;
      const patch: Partial<MarketState> = { clickhouse: 'up', problem: undefined };
      if (candlesChanged || tradeChanged || bookChanged) {
        this.dataChanged({
          ...patch,
          candles: this.series.candles,
          trades: trades.trades,
          book: book ?? this.state.book,
        });
      } else if (this.state.clickhouse !== 'up' || this.state.problem !== undefined) {
        this.update(patch);
      }
    } catch (error) {
      this.failed(error);
    } finally {
      this.polling = false;
    }
  }
}
