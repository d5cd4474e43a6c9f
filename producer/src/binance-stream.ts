import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@candleflow/common/logger';
import { AsyncQueue } from './async-queue.js';
import { backoffDelay, type BackoffOptions } from '@candleflow/common/retry';
import { BinanceConnection } from './binance-connection.js';
import { parseFrame, type MalformedKind, type MarketMessage } from './binance-frames.js';
import { OverlapDedupe, type RangedItem } from './overlap-dedupe.js';
import { combinedStreamUrl, type ConnectionPlan } from './stream-plan.js';

export type StreamEvent =
  | { type: 'message'; message: MarketMessage; receivedAt: number }
  | { type: 'malformed'; kind: MalformedKind; reason: string; stream?: string }
  /** A dropped connection was replaced: updates of these symbols may have been missed. */
  | { type: 'reconnected'; symbols: string[] }
  /** The connection was renewed without a gap. */
  | { type: 'renewed'; symbols: string[] }
  /** The exchange announced it will cut the connection; it is being renewed. */
  | { type: 'server-shutdown'; symbols: string[] };

export interface BinanceStreamOptions {
  /** `BINANCE_WS_URL`, e.g. `wss://stream.binance.com:9443`. */
  wsUrl: string;
  plan: ConnectionPlan;
  /** Names this connection in logs, e.g. `1/3`. */
  name: string;
  idleTimeoutMs: number;
  /** See ConnectionOptions.framesPerTurn. */
  framesPerTurn: number;
  /** Open a replacement connection this long after the current one opened. */
  renewAfterMs: number;
  /** Both connections are read for this long after the replacement delivered its first frame. */
  renewOverlapMs?: number;
  backoff: BackoffOptions;
  logger: Logger;
}

interface Ranged extends RangedItem {
  message: MarketMessage;
  receivedAt: number;
}

/** A connection shorter-lived than this counts as a failed attempt when it drops. */
const STABLE_CONNECTION_MS = 10_000;

/**
 * The frames of one planned connection, kept flowing: reconnects with jittered
 * exponential backoff when the connection drops or goes silent, and renews it before
 * Binance's 24 h cut, or at once when Binance announces a `serverShutdown`, by opening a
 * second connection, reading both until the new one delivers, then closing the old one.
 * Frames both connections delivered are forwarded once, in order (see OverlapDedupe).
 * `pause()` stops reading (the consumer cannot keep up) until `resume()`. Iterate it
 * for parsed messages and events.
 */
export class BinanceStream implements AsyncIterable<StreamEvent> {
  private readonly events = new AsyncQueue<StreamEvent>();
  private readonly dedupe = new OverlapDedupe<Ranged>();
  private readonly abort = new AbortController();
  private readonly url: string;
  private readonly log: Logger;
  private primary: BinanceConnection | undefined;
  private secondary: BinanceConnection | undefined;
  private secondaryDelivered = false;
  private renewTimer: NodeJS.Timeout | undefined;
  private overlapTimer: NodeJS.Timeout | undefined;
  private everConnected = false;
  private dropStreak = 0;
  private paused = false;
  private resumeWaiters: (() => void)[] = [];

  constructor(private readonly options: BinanceStreamOptions) {
    this.url = combinedStreamUrl(options.wsUrl, options.plan.streams);
    this.log = options.logger.child({ connection: options.name, symbols: options.plan.symbols.length });
    void this.connectPrimary(0);
  }

  /** True while a connection is open and delivering. */
  get connected(): boolean {
    return this.primary?.isOpen ?? false;
  }

  /** Frames dropped because the other connection of a renewal had already delivered them. */
  get duplicatesDropped(): number {
    return this.dedupe.duplicates;
  }

  [Symbol.asyncIterator](): AsyncIterator<StreamEvent> {
    return this.events[Symbol.asyncIterator]();
  }

  /** Stops reading every connection (and opening new ones) until `resume()`. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.primary?.pause();
    this.secondary?.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.primary?.resume();
    this.secondary?.resume();
    for (const wake of this.resumeWaiters.splice(0)) wake();
  }

  close(): void {
    if (this.abort.signal.aborted) return;
    this.abort.abort();
    for (const wake of this.resumeWaiters.splice(0)) wake();
    clearTimeout(this.renewTimer);
    clearTimeout(this.overlapTimer);
    this.primary?.close('producer stopping');
    this.secondary?.close('producer stopping');
    this.events.end();
  }

  private get closed(): boolean {
    return this.abort.signal.aborted;
  }

  private async connectPrimary(initialDelayMs: number): Promise<void> {
    if (initialDelayMs > 0 && !(await this.wait(initialDelayMs))) return;
    let attempt = 0;
    let lastReason: string | undefined;
    while (!this.closed) {
      // A paused stream would not read the new connection: the exchange would cut it again.
      await this.whileNotPaused();
      if (this.closed) return;
      try {
        const connection = await BinanceConnection.open(this.url, {
          idleTimeoutMs: this.options.idleTimeoutMs,
          framesPerTurn: this.options.framesPerTurn,
        });
        if (this.closed || this.primary !== undefined) {
          connection.close('not needed');
          return;
        }
        if (attempt > 0) this.log.info({ attempts: attempt + 1 }, 'reached BINANCE_WS_URL again');
        this.adoptPrimary(connection);
        return;
      } catch (error) {
        attempt++;
        const reason = error instanceof Error ? error.message : String(error);
        const delay = backoffDelay(attempt, this.options.backoff);
        // One line per series of failures with the same cause; the rest at debug level.
        const line = `cannot reach BINANCE_WS_URL=${this.options.wsUrl}: ${reason}; retrying in ${formatSeconds(delay)}`;
        if (reason !== lastReason) this.log.warn({ attempt }, line);
        else this.log.debug({ attempt }, line);
        lastReason = reason;
        if (!(await this.wait(delay))) return;
      }
    }
  }

  private adoptPrimary(connection: BinanceConnection): void {
    this.primary = connection;
    if (this.paused) connection.pause();
    const afterDrop = this.everConnected;
    this.everConnected = true;
    this.log.info({ streams: this.options.plan.streams.length }, afterDrop ? 'reconnected' : 'connected');
    if (afterDrop) this.events.push({ type: 'reconnected', symbols: this.options.plan.symbols });
    this.scheduleRenewal();
    void this.pump(connection);
  }

  private async pump(connection: BinanceConnection): Promise<void> {
    for await (const frame of connection) {
      const parsed = parseFrame(frame.bytes);
      if (!parsed.ok) {
        this.events.push({ type: 'malformed', kind: parsed.kind, reason: parsed.reason, stream: parsed.stream });
        continue;
      }
      if (parsed.message.kind === 'server-shutdown') {
        this.onServerShutdown(connection);
        continue;
      }
      // Frames a retired connection had already received count as the primary's: the
      // watermarks drop what was forwarded, and only newer updates pass.
      const source = connection === this.secondary ? 'secondary' : 'primary';
      if (source === 'secondary' && !this.secondaryDelivered) {
        this.secondaryDelivered = true;
        this.overlapTimer = setTimeout(() => this.finishRenewal(), this.options.renewOverlapMs ?? 1_000);
      }
      const { message } = parsed;
      const item: Ranged =
        message.kind === 'trade'
          ? {
              // Symbols hold no '@': the bare symbol names the trade stream without building a string.
              stream: message.symbol,
              first: message.tradeId,
              last: message.tradeId,
              message,
              receivedAt: frame.receivedAt,
            }
          : {
              stream: `${message.symbol}@depth`,
              first: message.firstUpdateId,
              last: message.finalUpdateId,
              message,
              receivedAt: frame.receivedAt,
            };
      this.forward(this.dedupe.offer(source, item));
    }
    this.onClosed(connection);
  }

  private forward(items: Ranged[]): void {
    for (const { message, receivedAt } of items) this.events.push({ type: 'message', message, receivedAt });
  }

  private onClosed(connection: BinanceConnection): void {
    if (this.closed) return;
    const reason = connection.closeReason ?? 'closed';
    if (connection === this.secondary) {
      this.secondary = undefined;
      clearTimeout(this.overlapTimer);
      this.dedupe.discardHeld();
      this.log.warn({ reason }, 'replacement connection closed before taking over; renewal will be retried');
      this.scheduleRenewal(backoffDelay(1, this.options.backoff));
      return;
    }
    if (connection !== this.primary) return;
    this.primary = undefined;
    if (this.secondary !== undefined) {
      // The replacement was subscribed before the old one closed, so together they saw
      // every update; should one still be missing, its id gap shows it downstream (depth
      // resync, trade repair), which is why this is no reconnect.
      const delivered = this.secondaryDelivered;
      this.takeOver();
      this.log.info(
        { reason, duplicatesDropped: this.dedupe.duplicates, replacementDelivered: delivered },
        'connection renewed (the old one closed first)',
      );
      this.events.push({ type: 'renewed', symbols: this.options.plan.symbols });
      return;
    }
    clearTimeout(this.renewTimer);
    const lived = Date.now() - connection.openedAt;
    this.dropStreak = lived < STABLE_CONNECTION_MS ? this.dropStreak + 1 : 0;
    const delay = this.dropStreak > 0 ? backoffDelay(this.dropStreak, this.options.backoff) : 0;
    this.log.warn(
      { reason, livedMs: lived },
      `connection lost: ${reason}; reconnecting${delay > 0 ? ` in ${formatSeconds(delay)}` : ''}`,
    );
    void this.connectPrimary(delay);
  }

  /** By default, when the primary connection reaches the renewal age. */
  private scheduleRenewal(delayMs?: number): void {
    clearTimeout(this.renewTimer);
    const age = this.primary === undefined ? 0 : Date.now() - this.primary.openedAt;
    const delay = delayMs ?? Math.max(0, this.options.renewAfterMs - age);
    this.renewTimer = setTimeout(() => void this.renew(), delay);
  }

  /** Binance will cut this connection soon: renew it now, as at the 24 h mark. */
  private onServerShutdown(connection: BinanceConnection): void {
    this.events.push({ type: 'server-shutdown', symbols: this.options.plan.symbols });
    if (connection === this.secondary) {
      // The replacement reached a server going down too: try another one.
      connection.close('the exchange announced a server shutdown');
      return;
    }
    if (connection !== this.primary || this.secondary !== undefined) return;
    this.log.info('the exchange announced a server shutdown; renewing the connection now');
    this.scheduleRenewal(0);
  }

  private async renew(): Promise<void> {
    if (this.closed || this.primary === undefined || this.secondary !== undefined) return;
    this.log.info('renewing the connection before the exchange cuts it');
    let attempt = 0;
    while (!this.closed && this.primary !== undefined) {
      try {
        const connection = await BinanceConnection.open(this.url, {
          idleTimeoutMs: this.options.idleTimeoutMs,
          framesPerTurn: this.options.framesPerTurn,
        });
        if (this.closed || this.primary === undefined || this.secondary !== undefined) {
          connection.close('not needed');
          return;
        }
        this.secondary = connection;
        this.secondaryDelivered = false;
        if (this.paused) connection.pause();
        void this.pump(connection);
        return;
      } catch (error) {
        attempt++;
        const delay = backoffDelay(attempt, this.options.backoff);
        const reason = error instanceof Error ? error.message : String(error);
        this.log.warn(
          { attempt },
          `renewal: cannot reach BINANCE_WS_URL=${this.options.wsUrl}: ${reason}; retrying in ${formatSeconds(delay)}`,
        );
        if (!(await this.wait(delay))) return;
      }
    }
  }

  /** The replacement delivered and the overlap passed: retire the old connection. */
  private finishRenewal(): void {
    const old = this.primary;
    if (this.secondary === undefined) return;
    this.takeOver();
    old?.close('renewed');
    this.log.info({ duplicatesDropped: this.dedupe.duplicates }, 'connection renewed');
    this.events.push({ type: 'renewed', symbols: this.options.plan.symbols });
  }

  private takeOver(): void {
    clearTimeout(this.overlapTimer);
    this.primary = this.secondary;
    this.secondary = undefined;
    this.forward(this.dedupe.promote());
    this.scheduleRenewal();
  }

  private async whileNotPaused(): Promise<void> {
    while (this.paused && !this.closed) await new Promise<void>((resolve) => this.resumeWaiters.push(resolve));
  }

  /** Waits unless the stream is closed first; false when it was. */
  private async wait(ms: number): Promise<boolean> {
    try {
      await sleep(ms, undefined, { signal: this.abort.signal });
      return true;
    } catch {
      return false;
    }
  }
}

function formatSeconds(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
}
