import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { z } from 'zod';

/** Back-pressure threshold: beyond this many bytes queued for one client, sources stop generating. */
export const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/** How long connections stay open after a serverShutdown announcement unless told otherwise. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 5000;

/** Binance's live subscription requests on an open stream connection. */
const requestSchema = z.object({
  method: z.enum(['SUBSCRIBE', 'UNSUBSCRIBE', 'LIST_SUBSCRIPTIONS']),
  params: z.array(z.string()).optional(),
  id: z.union([z.number().int(), z.string(), z.null()]),
});

interface Client {
  readonly socket: WebSocket;
  /** The TCP connection under `socket`, corked around batches so a batch leaves in few writes. */
  readonly connection: Duplex;
  /** `/ws/...` clients get bare event JSON; `/stream` clients get `{"stream","data"}` frames. */
  readonly combined: boolean;
  readonly streams: Set<string>;
  alive: boolean;
  cutTimer?: NodeJS.Timeout;
  shutdownTimer?: NodeJS.Timeout;
}

export interface StreamHubOptions {
  /** Stream names a client may subscribe to; anything else is ignored, as Binance does. */
  isServedStream: (stream: string) => boolean;
  /** Called once, when a client first subscribes to any stream. */
  onFirstSubscription: () => void;
  pingIntervalMs: number;
  maxConnectionMs?: number;
}

/**
 * The WebSocket side of the simulator: Binance's `/stream?streams=a/b` (combined) and
 * `/ws/a/b` (raw) endpoints, subscriptions per client, live SUBSCRIBE/UNSUBSCRIBE, server
 * pings with a cut for clients that never pong, serverShutdown announcements, and fan-out
 * of each frame to its subscribers.
 */
export class StreamHub {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  private readonly clients = new Set<Client>();
  private readonly subscribers = new Map<string, Client[]>();
  private readonly combinedPrefix = new Map<string, string>();
  private readonly pingTimer: NodeJS.Timeout;
  private subscribed = false;

  constructor(private readonly options: StreamHubOptions) {
    this.pingTimer = setInterval(() => this.pingAll(), options.pingIntervalMs);
    this.pingTimer.unref();
  }

  get connections(): number {
    return this.clients.size;
  }

  /** Handles an HTTP upgrade; returns false when the path is not a stream endpoint. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(request.url ?? '/', 'http://localhost');
    let streams: string[];
    let combined: boolean;
    if (url.pathname === '/stream') {
      streams = (url.searchParams.get('streams') ?? '').split('/');
      combined = true;
    } else if (url.pathname.startsWith('/ws/')) {
      streams = url.pathname.slice('/ws'.length).split('/');
      combined = false;
    } else {
      return false;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, socket, combined, streams));
    return true;
  }

  /** True when at least one client wants `stream`. */
  hasSubscribers(stream: string): boolean {
    return (this.subscribers.get(stream)?.length ?? 0) > 0;
  }

  /** Sends an event (its JSON) to every subscriber of `stream`; returns how many got it. */
  publish(stream: string, dataJson: string): number {
    const clients = this.subscribers.get(stream);
    if (clients === undefined || clients.length === 0) return 0;
    let frame: string | undefined;
    for (const client of clients) {
      if (client.combined) {
        frame ??= `${this.prefix(stream)}${dataJson}}`;
        client.socket.send(frame);
      } else {
        client.socket.send(dataJson);
      }
    }
    return clients.length;
  }

  /**
   * Runs `send` with every connection corked, so that the frames it publishes go out in
   * one write per client instead of one per frame.
   */
  batch(send: () => void): void {
    const corked = [...this.clients].map((c) => c.connection);
    for (const connection of corked) connection.cork();
    try {
      send();
    } finally {
      for (const connection of corked) connection.uncork();
    }
  }

  /** Bytes queued for the slowest client. */
  maxBufferedAmount(): number {
    let max = 0;
    for (const client of this.clients) max = Math.max(max, client.socket.bufferedAmount);
    return max;
  }

  backlogged(): boolean {
    return this.maxBufferedAmount() > MAX_BUFFERED_BYTES;
  }

  /** Resolves once no client has more than `bytes` queued (or all are gone). */
  async drained(bytes: number): Promise<void> {
    while (this.maxBufferedAmount() > bytes) await sleep(1);
  }

  /** Cuts every connection abruptly, like a network failure. */
  dropConnections(): number {
    const count = this.clients.size;
    for (const client of [...this.clients]) {
      client.socket.terminate();
      this.remove(client);
    }
    return count;
  }

  /**
   * Sends `{"e":"serverShutdown","E":<ms>}` on every open connection, as Binance does before
   * a server goes down, and closes each one (1001, going away) `graceMs` later unless the
   * client leaves first; a later announcement replaces the deadline. New connections are
   * accepted as usual. Returns how many connections were told.
   *
   * Binance documents the event but not its frame on a combined stream. It concerns the
   * connection, not a stream, so every client gets the bare event, never wrapped in
   * `{"stream","data"}`. Some client libraries expect it wrapped with
   * `"stream":"!serverShutdown"`; a client should accept both.
   */
  announceShutdown(graceMs: number): number {
    const event = JSON.stringify({ e: 'serverShutdown', E: Date.now() });
    for (const client of this.clients) {
      client.socket.send(event);
      clearTimeout(client.shutdownTimer);
      client.shutdownTimer = setTimeout(() => client.socket.close(1001, 'server shutdown'), graceMs);
    }
    return this.clients.size;
  }

  close(): void {
    clearInterval(this.pingTimer);
    this.dropConnections();
    this.wss.close();
  }

  private accept(socket: WebSocket, connection: Duplex, combined: boolean, streams: string[]): void {
    const client: Client = { socket, connection, combined, streams: new Set(), alive: true };
    this.clients.add(client);
    socket.on('pong', () => {
      client.alive = true;
    });
    socket.on('message', (data, isBinary) => this.onRequest(client, data, isBinary));
    socket.on('close', () => this.remove(client));
    socket.on('error', () => this.remove(client));
    if (this.options.maxConnectionMs !== undefined) {
      client.cutTimer = setTimeout(
        () => socket.close(1000, 'connection lifetime reached'),
        this.options.maxConnectionMs,
      );
    }
    this.subscribe(client, streams);
  }

  private subscribe(client: Client, streams: readonly string[]): void {
    for (const stream of streams) {
      if (!this.options.isServedStream(stream) || client.streams.has(stream)) continue;
      client.streams.add(stream);
      const list = this.subscribers.get(stream);
      if (list) list.push(client);
      else this.subscribers.set(stream, [client]);
    }
    if (!this.subscribed && client.streams.size > 0) {
      this.subscribed = true;
      this.options.onFirstSubscription();
    }
  }

  private unsubscribe(client: Client, streams: Iterable<string>): void {
    for (const stream of [...streams]) {
      if (!client.streams.delete(stream)) continue;
      const list = this.subscribers.get(stream) ?? [];
      const index = list.indexOf(client);
      if (index >= 0) list.splice(index, 1);
    }
  }

  private remove(client: Client): void {
    if (!this.clients.delete(client)) return;
    clearTimeout(client.cutTimer);
    clearTimeout(client.shutdownTimer);
    this.unsubscribe(client, client.streams);
  }

  private onRequest(client: Client, data: RawData, isBinary: boolean): void {
    let body: unknown;
    try {
      body = JSON.parse(isBinary ? '' : rawText(data));
    } catch {
      client.socket.send(JSON.stringify({ error: { code: 3, msg: 'Invalid JSON' }, id: null }));
      return;
    }
    const request = requestSchema.safeParse(body);
    if (!request.success) {
      client.socket.send(JSON.stringify({ error: { code: 2, msg: 'Invalid request' }, id: null }));
      return;
    }
    const { method, params = [], id } = request.data;
    if (method === 'SUBSCRIBE') this.subscribe(client, params);
    if (method === 'UNSUBSCRIBE') this.unsubscribe(client, params);
    const result = method === 'LIST_SUBSCRIPTIONS' ? [...client.streams] : null;
    client.socket.send(JSON.stringify({ result, id }));
  }

  private pingAll(): void {
    for (const client of [...this.clients]) {
      if (!client.alive) {
        client.socket.terminate();
        this.remove(client);
        continue;
      }
      client.alive = false;
      client.socket.ping();
    }
  }

  private prefix(stream: string): string {
    let prefix = this.combinedPrefix.get(stream);
    if (prefix === undefined) {
      prefix = `{"stream":${JSON.stringify(stream)},"data":`;
      this.combinedPrefix.set(stream, prefix);
    }
    return prefix;
  }
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}
