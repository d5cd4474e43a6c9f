import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DepthUpdateEvent } from '@candleflow/common/binance-events';
import type { OrderBook } from '@candleflow/common/order-book';
import { UnknownSymbolError, type FrameCounters, type MarketSource, type SourceContext } from './market-source.js';
import { loadReplay } from './replay-file.js';
import { ReplaySource } from './replay-source.js';
import { RequestWeightLimiter } from './request-weight.js';
import { createRestHandler } from './rest-api.js';
import { DEFAULT_SHUTDOWN_GRACE_MS, StreamHub } from './stream-hub.js';
import { SyntheticSource } from './synthetic-source.js';
import { TradeLog, type Trade } from './trade-log.js';

export type SimulatorSource =
  | {
      kind: 'synthetic';
      symbols: string[];
      /** Frames per second over all symbols, depth diffs included. */
      rate: number;
      seed?: number;
      /** Stop after this many frames in total (frames handed to at least one client). */
      maxMessages?: number;
    }
  | { kind: 'replay'; file: string; speed: 1 | 10 | 'max'; loop?: boolean };

export interface SimulatorOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** 0 = ephemeral. */
  port?: number;
  source: SimulatorSource;
  /** Cut each connection after this long, like Binance's 24 h. */
  maxConnectionMs?: number;
  /** Server pings; a client that has not answered the previous ping is cut. Default 20000. */
  pingIntervalMs?: number;
  /** Trades kept per symbol for historicalTrades and aggTrades. Default 1,000,000. */
  tradeRetention?: number;
  /** REST request weight per minute before answers turn to 429, as Binance's 6000 per IP (the default). */
  weightPerMinute?: number;
}

export interface SimulatorStats {
  /** Trade frames (`@trade`) handed to at least one client. */
  trades: number;
  /** Depth diff frames handed to at least one client. */
  depth: number;
  /** Open WebSocket connections. */
  connections: number;
  /** REST depth snapshots served. */
  snapshots: number;
}

export interface Simulator {
  readonly port: number;
  /** 'ws://127.0.0.1:<port>' -> BINANCE_WS_URL */
  readonly wsUrl: string;
  /** 'http://127.0.0.1:<port>' -> BINANCE_REST_URL */
  readonly restUrl: string;
  /** Terminates every client WebSocket abruptly (like a network cut). */
  dropConnections(): void;
  /** The next depth diff of `symbol` is generated and applied to the true book but NOT sent, so clients see a gap. */
  skipNextDiff(symbol: string): void;
  /**
   * The next `count` trades of `symbol` are generated (or replayed) with their ids and
   * served over REST, but NOT sent: clients see the trade ids jump. Returns how many of
   * the symbol's trades are now waiting to be withheld.
   */
  withholdTrades(symbol: string, count: number): number;
  /**
   * Sends `{"e":"serverShutdown","E":<ms>}` on every open connection and closes each one
   * `graceMs` later (default 5000) unless the client leaves first. Returns how many were told.
   */
  serverShutdown(graceMs?: number): number;
  /** The simulator's true book for a synthetic symbol, right now (a replay has none: throws). */
  book(symbol: string): OrderBook;
  /** Every frame's `data` as sent, in send order. */
  on(event: 'sent', listener: (stream: string, data: unknown) => void): this;
  /** Every depth diff actually sent, with the true book right after it (synthetic sources only). */
  on(event: 'depth', listener: (event: DepthUpdateEvent, bookAfter: OrderBook) => void): this;
  /** Every diff held back by skipNextDiff. */
  on(event: 'skipped', listener: (event: DepthUpdateEvent) => void): this;
  /** Every trade held back by withholdTrades. */
  on(event: 'withheld', listener: (symbol: string, trade: Trade) => void): this;
  stats(): SimulatorStats;
  close(): Promise<void>;
}

/** Builds the source in the simulator's context; a replay's recording is loaded (and checked) first. */
type SourceFactory = (context: SourceContext) => MarketSource;

async function sourceFactory(source: SimulatorSource): Promise<SourceFactory> {
  switch (source.kind) {
    case 'synthetic':
      return (context) => new SyntheticSource(source, context);
    case 'replay': {
      const recording = await loadReplay(source.file);
      return (context) => new ReplaySource(recording, source, context);
    }
  }
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

class RunningSimulator extends EventEmitter implements Simulator {
  private readonly counters: FrameCounters = { trades: 0, depth: 0 };
  private snapshots = 0;
  private readonly withhold = new Map<string, number>();
  private readonly hub: StreamHub;
  private readonly source: MarketSource;
  private readonly server: http.Server;
  private listeningPort = 0;
  private started = false;

  constructor(
    private readonly options: SimulatorOptions,
    createSource: SourceFactory,
  ) {
    super();
    this.hub = new StreamHub({
      isServedStream: (stream) => this.source.isServedStream(stream),
      onFirstSubscription: () => {
        this.started = true;
        this.source.start();
      },
      pingIntervalMs: options.pingIntervalMs ?? 20_000,
      maxConnectionMs: options.maxConnectionMs,
    });
    const trades = new TradeLog(options.tradeRetention);
    this.source = createSource({
      outlet: this.hub,
      counters: this.counters,
      events: this,
      trades,
      withhold: this.withhold,
    });
    const handleRest = createRestHandler({
      source: this.source,
      trades,
      limiter: new RequestWeightLimiter(options.weightPerMinute),
      controls: {
        dropConnections: () => this.hub.dropConnections(),
        skipNextDiff: (symbol) => this.source.skipNextDiff(symbol),
        withholdTrades: (symbol, count) => this.withholdTrades(symbol, count),
        serverShutdown: (graceMs) => this.serverShutdown(graceMs),
        stats: () => ({ ...this.stats(), started: this.started, symbols: this.source.symbols }),
        snapshotServed: () => {
          this.snapshots++;
        },
      },
    });
    // Combined-stream URLs for hundreds of symbols exceed Node's default 16 KiB header limit.
    this.server = http.createServer({ maxHeaderSize: 256 * 1024 }, handleRest);
    this.server.on('upgrade', (request, socket, head) => {
      if (!this.hub.handleUpgrade(request, socket, head)) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      }
    });
  }

  get port(): number {
    return this.listeningPort;
  }

  get wsUrl(): string {
    return `ws://${urlHost(this.options.host ?? '127.0.0.1')}:${this.port}`;
  }

  get restUrl(): string {
    return `http://${urlHost(this.options.host ?? '127.0.0.1')}:${this.port}`;
  }

  async listen(): Promise<void> {
    const server = this.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.listeningPort = (server.address() as AddressInfo).port;
  }

  dropConnections(): void {
    this.hub.dropConnections();
  }

  skipNextDiff(symbol: string): void {
    this.source.skipNextDiff(symbol);
  }

  withholdTrades(symbol: string, count: number): number {
    if (!this.source.symbols.includes(symbol)) throw new UnknownSymbolError(symbol);
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(`withholdTrades: count ${count} is not a positive integer`);
    }
    const pending = (this.withhold.get(symbol) ?? 0) + count;
    this.withhold.set(symbol, pending);
    return pending;
  }

  serverShutdown(graceMs = DEFAULT_SHUTDOWN_GRACE_MS): number {
    return this.hub.announceShutdown(graceMs);
  }

  book(symbol: string): OrderBook {
    return this.source.book(symbol);
  }

  stats(): SimulatorStats {
    return { ...this.counters, connections: this.hub.connections, snapshots: this.snapshots };
  }

  async close(): Promise<void> {
    this.source.close();
    this.hub.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Starts a Binance-compatible WebSocket + REST server backed by a synthetic or recorded market. */
export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const simulator = new RunningSimulator(options, await sourceFactory(options.source));
  try {
    await simulator.listen();
  } catch (error) {
    await simulator.close();
    throw error;
  }
  return simulator;
}
