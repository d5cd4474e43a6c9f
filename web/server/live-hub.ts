import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Logger } from '@candleflow/common/logger';
import type { ServerMessage, Trade, UpdateMessage } from '../shared/api-types.js';
import { SentCandles, signCandles } from './candle-changes.js';
import { ClickhouseUnavailableError, type ClickhouseSource } from './clickhouse-source.js';
import type { MarketReader } from './market-reader.js';
import type { OrderbookService } from './orderbook-service.js';
import { subscribeMessageSchema } from './request-params.js';
import { TokenBucket } from './token-bucket.js';
import type { WebMetrics } from './web-metrics.js';

/** How far before a symbol's latest window rewrites are still looked for (open windows, late closes). */
const recentLookbackMs = 120_000;
/** Trades sent with each update that has a new trade. */
const tradesPerUpdate = 30;
const heartbeatMs = 30_000;
const subscribeExample = '{"type":"subscribe","symbol":"BTCUSDT","depth":20}';

export interface LiveHubLimits {
  /** Connections one client address may hold. */
  maxPerIp: number;
  /** Messages a second a connection may send, sustained, and in a burst. */
  messageRate: number;
  messageBurst: number;
  /** Bytes waiting to be sent to one client past which it is disconnected. */
  maxBufferedBytes: number;
}

interface Subscriber {
  socket: WebSocket;
  /** The client's address, as counted against `maxPerIp`. */
  address: string;
  messages: TokenBucket;
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
  limits: LiveHubLimits;
}

/** Followed subscribers by symbol, in one pass: linear in the number of subscribers. */
export function groupBySymbol<T extends { symbol?: string }>(
  subscribers: Iterable<T>,
  include: (subscriber: T) => boolean,
): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const sub of subscribers) {
    if (sub.symbol === undefined || !include(sub)) continue;
    const group = groups.get(sub.symbol);
    if (group) group.push(sub);
    else groups.set(sub.symbol, [sub]);
  }
  return groups;
}

/** The key a client's connections are counted under: IPv4-mapped IPv6 (`::ffff:1.2.3.4`) as plain IPv4. */
export function clientAddress(remote: string | undefined): string {
  if (remote === undefined) return 'unknown';
  return remote.startsWith('::ffff:') ? remote.slice('::ffff:'.length) : remote;
}

/** Answers an upgrade request with a plain HTTP error instead of a WebSocket, and closes. */
function refuseUpgrade(socket: Duplex, status: string, message: string, headers: string[] = []): void {
  socket.on('error', () => socket.destroy());
  socket.once('finish', () => socket.destroy());
  socket.end(
    [
      `HTTP/1.1 ${status}`,
      'Connection: close',
      'Content-Type: text/plain; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(message)}`,
      ...headers,
      '',
      message,
    ].join('\r\n'),
  );
}

/**
 * The `/ws` endpoint. A page sends `{"type":"subscribe","symbol":"BTCUSDT"}`; once per
 * interval the hub reads each subscribed symbol's recent windows, latest trades and book
 * (one read per symbol, however many pages follow it) and sends every page what changed
 * since its previous update. A `status` message tells pages when ClickHouse goes away
 * and comes back.
 *
 * Under load: each client address holds at most `maxPerIp` connections (more are
 * refused with 429 at the handshake); a connection that sends messages faster than
 * `messageRate` (after a burst) is closed with 1008; a client that does not read what it
 * is sent is disconnected once `maxBufferedBytes` wait for it, whatever the message.
 */
export class LiveHub {
  private readonly subscribers = new Set<Subscriber>();
  private readonly perAddress = new Map<string, number>();
  private readonly onUpgradeRequest = (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    this.onUpgrade(req, socket, head);
  private server?: Server;
  private wss?: WebSocketServer;
  private cycleTimer?: NodeJS.Timeout;
  private heartbeatTimer?: NodeJS.Timeout;
  private cycling?: Promise<void>;
  private clickhouse?: { up: boolean; message: string };

  constructor(private readonly deps: LiveHubDeps) {}

  attach(server: Server): void {
    // The hub tracks its clients itself (per address, per symbol).
    this.wss = new WebSocketServer({ noServer: true, clientTracking: false, maxPayload: 4096 });
    this.server = server;
    server.on('upgrade', this.onUpgradeRequest);
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
    this.server?.off('upgrade', this.onUpgradeRequest);
    for (const sub of this.subscribers) sub.socket.terminate();
    this.subscribers.clear();
    await this.cycling;
    await new Promise<void>((resolve) => (this.wss ? this.wss.close(() => resolve()) : resolve()));
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const wss = this.wss;
    if (wss === undefined) return;
    if ((req.url ?? '').split('?')[0] !== '/ws') {
      refuseUpgrade(socket, '404 Not Found', 'WebSockets are served on /ws\n');
      return;
    }
    const address = clientAddress(req.socket.remoteAddress);
    const limit = this.deps.limits.maxPerIp;
    if ((this.perAddress.get(address) ?? 0) >= limit) {
      this.deps.metrics.wsRefused.inc({ reason: 'per_ip_limit' });
      refuseUpgrade(
        socket,
        '429 Too Many Requests',
        `too many WebSocket connections from ${address}: at most ${limit}\n`,
        ['Retry-After: 10'],
      );
      return;
    }
    // Without verifyClient or compression to negotiate, ws completes the handshake (and
    // calls back) synchronously, so no other upgrade can pass the check before this one counts.
    wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, address));
  }

  private onConnection(socket: WebSocket, address: string): void {
    const { limits } = this.deps;
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    const sub: Subscriber = {
      socket,
      address,
      messages: new TokenBucket(limits.messageRate, limits.messageBurst),
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
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
    });
    socket.on('error', (error) => this.deps.logger.debug({ err: error }, 'websocket error'));
    if (this.clickhouse) this.send(sub, this.statusMessage(this.clickhouse.up, this.clickhouse.message));
  }

  private onMessage(sub: Subscriber, data: RawData, isBinary: boolean): void {
    // After the server closed a connection, what the client still sends is not read.
    if (sub.socket.readyState !== WebSocket.OPEN) return;
    if (!sub.messages.take()) {
      const { messageRate, messageBurst } = this.deps.limits;
      this.deps.metrics.wsDisconnected.inc({ reason: 'rate_limit' });
      this.deps.logger.debug({ address: sub.address }, 'websocket client over the message rate limit');
      sub.socket.close(1008, `too many messages: at most ${messageRate} a second (bursts of ${messageBurst})`);
      return;
    }
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
    if (this.subscribers.size === 0) return;
    const bySymbol = groupBySymbol(this.subscribers, (sub) => sub.socket.readyState === WebSocket.OPEN);
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
    let depth = 0;
    for (const sub of subs) depth = Math.max(depth, sub.depth);
    const [candles, trades, book] = await Promise.all([
      this.deps.reader.recentWindows(symbol, recentLookbackMs),
      this.deps.reader.latestTrades(symbol, tradesPerUpdate),
      this.deps.orderbooks.top(symbol, depth),
    ]);
    const signed = signCandles(candles);
    const newestTrade: Trade | undefined = trades[0];
    const serverTime = Date.now();
    // Pages in the same state get the same message: each distinct one is serialised once.
    const texts = new Map<string, string>();
    let sent = 0;
    for (const sub of subs) {
      if (sub.symbol !== symbol || sub.socket.readyState !== WebSocket.OPEN) continue;
      const windows = sub.candles.take(signed);
      const tradeMoved = newestTrade !== undefined && newestTrade.id !== sub.sentTradeId;
      const bookMoved = book !== undefined && book.lastUpdateId !== sub.sentBookId;
      if (windows.length === 0 && !tradeMoved && !bookMoved) continue;
      if (tradeMoved) sub.sentTradeId = newestTrade.id;
      if (bookMoved) sub.sentBookId = book.lastUpdateId;
      // Within one push a start names one state of its candle, so the starts name the windows sent.
      const key = `${windows.map((w) => w.start).join(',')}|${tradeMoved}|${bookMoved ? sub.depth : 0}`;
      let text = texts.get(key);
      if (text === undefined) {
        const update: UpdateMessage = {
          type: 'update',
          symbol,
          serverTime,
          windows,
          trades: tradeMoved ? trades : null,
          book: bookMoved
            ? { ...book, bids: book.bids.slice(0, sub.depth), asks: book.asks.slice(0, sub.depth) }
            : null,
        };
        text = JSON.stringify(update);
        texts.set(key, text);
      }
      if (this.sendText(sub, text)) sent++;
    }
    if (sent > 0) this.deps.metrics.wsMessages.inc({ type: 'update' }, sent);
  }

  private statusMessage(up: boolean, message: string): ServerMessage {
    return { type: 'status', clickhouse: up ? 'up' : 'down', message };
  }

  private setClickhouse(up: boolean, message: string): void {
    if (this.clickhouse?.up === up) return;
    this.clickhouse = { up, message };
    if (up) this.deps.logger.info('ClickHouse reachable');
    else this.deps.logger.warn({ reason: message }, 'ClickHouse unreachable');
    const text = JSON.stringify(this.statusMessage(up, message));
    let sent = 0;
    for (const sub of this.subscribers) if (this.sendText(sub, text)) sent++;
    if (sent > 0) this.deps.metrics.wsMessages.inc({ type: 'status' }, sent);
  }

  private send(sub: Subscriber, message: ServerMessage): void {
    if (this.sendText(sub, JSON.stringify(message))) this.deps.metrics.wsMessages.inc({ type: message.type });
  }

  /**
   * Sends unless the connection is closing; returns whether it sent. A client that does
   * not read leaves everything sent to it in this process's memory: once more than
   * `maxBufferedBytes` wait, it is disconnected, whatever this message is.
   */
  private sendText(sub: Subscriber, text: string): boolean {
    const { socket } = sub;
    if (socket.readyState !== WebSocket.OPEN) return false;
    if (socket.bufferedAmount > this.deps.limits.maxBufferedBytes) {
      this.deps.metrics.wsDisconnected.inc({ reason: 'send_buffer' });
      this.deps.logger.debug({ address: sub.address, buffered: socket.bufferedAmount }, 'websocket client not reading');
      socket.terminate();
      return false;
    }
    socket.send(text);
    return true;
  }

  private heartbeat(): void {
    for (const sub of this.subscribers) {
      if (!sub.alive) {
        this.deps.metrics.wsDisconnected.inc({ reason: 'no_pong' });
        sub.socket.terminate();
        continue;
      }
      sub.alive = false;
      sub.socket.ping();
    }
  }
}
