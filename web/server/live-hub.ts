import type { Server } from 'node:http';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Logger } from '@candleflow/common/logger';
import type { ServerMessage, Trade } from '../shared/api-types.js';
import { SentCandles } from './candle-changes.js';
import { ClickhouseUnavailableError, type ClickhouseSource } from './clickhouse-source.js';
import type { MarketReader } from './market-reader.js';
import type { OrderbookService } from './orderbook-service.js';
import { subscribeMessageSchema } from './request-params.js';
import type { WebMetrics } from './web-metrics.js';

/** How far before a symbol's latest window rewrites are still looked for (open windows, late closes). */
const recentLookbackMs = 120_000;
/** Trades sent with each update that has a new trade. */
const tradesPerUpdate = 30;
const heartbeatMs = 30_000;
const maxBufferedBytes = 1 << 20;
const subscribeExample = '{"type":"subscribe","symbol":"BTCUSDT","depth":20}';

interface Subscriber {
  socket: WebSocket;
  alive: boolean;
  /** Subscriptions received; only the latest takes effect. */
  requests: number;
  symbol?: string;
  depth: number;
  candles: SentCandles;
  sentTradeId: number;
  sentBookId: number;
}

export interface LiveHubDeps {
  source: ClickhouseSource;
  reader: MarketReader;
  orderbooks: OrderbookService;
  metrics: WebMetrics;
  logger: Logger;
  intervalMs: number;
}

/**
 * The `/ws` endpoint. A page sends `{"type":"subscribe","symbol":"BTCUSDT"}`; once per
 * interval the hub reads each subscribed symbol's recent windows, latest trades and book
 * (one read per symbol, however many pages follow it) and sends every page what changed
 * since its previous update. A `status` message tells pages when ClickHouse goes away
 * and comes back.
 */
export class LiveHub {
  private readonly subscribers = new Set<Subscriber>();
  private wss?: WebSocketServer;
  private cycleTimer?: NodeJS.Timeout;
  private heartbeatTimer?: NodeJS.Timeout;
  private cycling?: Promise<void>;
  private clickhouse?: { up: boolean; message: string };

  constructor(private readonly deps: LiveHubDeps) {}

  attach(server: Server): void {
    this.wss = new WebSocketServer({ server, path: '/ws', maxPayload: 4096 });
    this.wss.on('connection', (socket) => this.onConnection(socket));
    this.cycleTimer = setInterval(() => {
      // A slow cycle is not stacked on: the next one waits for the next tick.
      this.cycling ??= this.cycle().finally(() => {
        this.cycling = undefined;
      });
    }, this.deps.intervalMs);
    this.heartbeatTimer = setInterval(() => this.heartbeat(), heartbeatMs);
  }

  async close(): Promise<void> {
    clearInterval(this.cycleTimer);
    clearInterval(this.heartbeatTimer);
    for (const sub of this.subscribers) sub.socket.terminate();
    this.subscribers.clear();
    await this.cycling;
    await new Promise<void>((resolve) => (this.wss ? this.wss.close(() => resolve()) : resolve()));
  }

  private onConnection(socket: WebSocket): void {
    const sub: Subscriber = {
      socket,
      alive: true,
      requests: 0,
      depth: 20,
      candles: new SentCandles(),
      sentTradeId: -1,
      sentBookId: -1,
    };
    this.subscribers.add(sub);
    this.deps.metrics.wsClients.set(this.subscribers.size);
    socket.on('pong', () => {
      sub.alive = true;
    });
    socket.on('message', (data, isBinary) => this.onMessage(sub, data, isBinary));
    socket.on('close', () => {
      this.subscribers.delete(sub);
      this.deps.metrics.wsClients.set(this.subscribers.size);
    });
    socket.on('error', (error) => this.deps.logger.debug({ err: error }, 'websocket error'));
    if (this.clickhouse)
      this.send(sub, {
        type: 'status',
        clickhouse: this.clickhouse.up ? 'up' : 'down',
        message: this.clickhouse.message,
      });
  }

  private onMessage(sub: Subscriber, data: RawData, isBinary: boolean): void {
    let parsed: unknown;
    try {
      parsed = isBinary ? undefined : JSON.parse(data.toString());
    } catch {
      this.send(sub, { type: 'error', message: `not JSON; expected ${subscribeExample}` });
      return;
    }
    const result = subscribeMessageSchema.safeParse(parsed);
    if (!result.success) {
      const issue = result.error.issues[0];
      const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
      this.send(sub, {
        type: 'error',
        message: `${where}${issue?.message ?? 'invalid'}; expected ${subscribeExample}`,
      });
      return;
    }
    const { symbol, depth } = result.data;
    const request = ++sub.requests;
    const follow = () => {
      if (request !== sub.requests) return;
      sub.symbol = symbol;
      sub.depth = depth;
      sub.candles = new SentCandles();
      sub.sentTradeId = -1;
      sub.sentBookId = -1;
    };
    // Only symbols with data are followed, so a client cannot make the hub poll made-up names.
    this.deps.reader.latestWindowStart(symbol).then(
      (latest) => {
        if (latest !== undefined) follow();
        else if (request === sub.requests) this.send(sub, { type: 'error', message: `no data for symbol ${symbol}` });
      },
      // ClickHouse is down: follow anyway; the status messages tell the page why nothing comes.
      () => follow(),
    );
  }

  /** One push: read each followed symbol once, send each page its changes. */
  private async cycle(): Promise<void> {
    const bySymbol = new Map<string, Subscriber[]>();
    for (const sub of this.subscribers) {
      if (sub.symbol === undefined || sub.socket.readyState !== WebSocket.OPEN) continue;
      bySymbol.set(sub.symbol, [...(bySymbol.get(sub.symbol) ?? []), sub]);
    }
    if (this.subscribers.size === 0) return;
    const stopTimer = this.deps.metrics.pushDuration.startTimer();
    const outcomes = await Promise.allSettled([...bySymbol].map(([symbol, subs]) => this.pushSymbol(symbol, subs)));
    if (bySymbol.size === 0) outcomes.push(...(await Promise.allSettled([this.deps.source.check()])));
    stopTimer();
    const down = outcomes.find(
      (o): o is PromiseRejectedResult => o.status === 'rejected' && o.reason instanceof ClickhouseUnavailableError,
    );
    for (const o of outcomes) {
      if (o.status === 'rejected' && !(o.reason instanceof ClickhouseUnavailableError)) {
        this.deps.logger.error({ err: o.reason }, 'live update failed');
      }
    }
    if (down) this.setClickhouse(false, (down.reason as Error).message);
    else if (outcomes.every((o) => o.status === 'fulfilled')) this.setClickhouse(true, 'ClickHouse is reachable');
  }

  private async pushSymbol(symbol: string, subs: Subscriber[]): Promise<void> {
    const depth = Math.max(...subs.map((s) => s.depth));
    const [candles, trades, book] = await Promise.all([
      this.deps.reader.recentWindows(symbol, recentLookbackMs),
      this.deps.reader.latestTrades(symbol, tradesPerUpdate),
      this.deps.orderbooks.top(symbol, depth),
    ]);
    const newestTrade: Trade | undefined = trades[0];
    for (const sub of subs) {
      if (sub.symbol !== symbol || sub.socket.readyState !== WebSocket.OPEN) continue;
      // A page that cannot keep up is skipped (nothing marked sent) until its socket drains.
      if (sub.socket.bufferedAmount > maxBufferedBytes) continue;
      const windows = sub.candles.take(candles);
      const tradeMoved = newestTrade !== undefined && newestTrade.id !== sub.sentTradeId;
      const bookMoved = book !== undefined && book.lastUpdateId !== sub.sentBookId;
      if (windows.length === 0 && !tradeMoved && !bookMoved) continue;
      if (tradeMoved) sub.sentTradeId = newestTrade.id;
      if (bookMoved) sub.sentBookId = book.lastUpdateId;
      this.send(sub, {
        type: 'update',
        symbol,
        serverTime: Date.now(),
        windows,
        trades: tradeMoved ? trades : null,
        book: bookMoved ? { ...book, bids: book.bids.slice(0, sub.depth), asks: book.asks.slice(0, sub.depth) } : null,
      });
    }
  }

  private setClickhouse(up: boolean, message: string): void {
    if (this.clickhouse?.up === up) return;
    this.clickhouse = { up, message };
    if (up) this.deps.logger.info('ClickHouse reachable');
    else this.deps.logger.warn({ reason: message }, 'ClickHouse unreachable');
    for (const sub of this.subscribers) this.send(sub, { type: 'status', clickhouse: up ? 'up' : 'down', message });
  }

  private send(sub: Subscriber, message: ServerMessage): void {
    if (sub.socket.readyState !== WebSocket.OPEN) return;
    sub.socket.send(JSON.stringify(message));
    this.deps.metrics.wsMessages.inc({ type: message.type });
  }

  private heartbeat(): void {
    for (const sub of this.subscribers) {
      if (!sub.alive) {
        sub.socket.terminate();
        continue;
      }
      sub.alive = false;
      sub.socket.ping();
    }
  }
}
