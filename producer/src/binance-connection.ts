import WebSocket from 'ws';
import { AsyncQueue } from './async-queue.js';

/** One WebSocket message as received, with the local receive time in ms. */
export interface RawFrame {
  text: string;
  receivedAt: number;
}

export interface ConnectionOptions {
  /** Close the connection when no frame (data or ping) arrived for this long. */
  idleTimeoutMs: number;
  handshakeTimeoutMs?: number;
}

/**
 * One WebSocket to the combined-stream endpoint, read as an async iterable of frames
 * that ends when the socket closes; `closeReason` then says why. Pings are answered
 * by `ws` (autoPong) as soon as they are read, and count as life for the idle check.
 * `pause()` stops reading the socket (TCP back-pressure reaches the exchange); the
 * idle check rests meanwhile, since the silence is ours.
 */
export class BinanceConnection implements AsyncIterable<RawFrame> {
  private readonly frames = new AsyncQueue<RawFrame>();
  private readonly idleTimer: NodeJS.Timeout;
  private reason: string | undefined;
  private paused = false;
  readonly openedAt = Date.now();

  /** Resolves once the handshake succeeded; rejects with the reason it did not. */
  static open(url: string, options: ConnectionOptions): Promise<BinanceConnection> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, {
        handshakeTimeout: options.handshakeTimeoutMs ?? 10_000,
        perMessageDeflate: false,
        autoPong: true,
      });
      const fail = (reason: string): void => {
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        ws.terminate();
        reject(new Error(reason));
      };
      ws.once('error', (error) => fail(describeError(error)));
      ws.once('unexpected-response', (_req, res) => {
        fail(`HTTP ${res.statusCode ?? '?'}${res.statusMessage ? ` ${res.statusMessage}` : ''}`);
      });
      ws.once('open', () => {
        ws.removeAllListeners();
        resolve(new BinanceConnection(ws, options));
      });
    });
  }

  private constructor(
    private readonly ws: WebSocket,
    options: ConnectionOptions,
  ) {
    this.idleTimer = setTimeout(() => {
      if (!this.paused) this.close(`no frame for ${options.idleTimeoutMs} ms`);
    }, options.idleTimeoutMs);
    ws.on('message', (data) => {
      this.idleTimer.refresh();
      this.frames.push({ text: rawDataText(data), receivedAt: Date.now() });
    });
    ws.on('ping', () => this.idleTimer.refresh());
    ws.on('error', (error) => {
      this.reason ??= describeError(error);
    });
    ws.on('close', (code, reason) => {
      clearTimeout(this.idleTimer);
      this.reason ??= `closed by the server (code ${code}${reason.length > 0 ? `: ${reason.toString()}` : ''})`;
      this.frames.end();
    });
  }

  /** Why the connection ended, once it has. */
  get closeReason(): string | undefined {
    return this.reason;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Stops reading the socket; frames `ws` has already read may still arrive. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.ws.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.idleTimer.refresh();
    this.ws.resume();
  }

  /** Drops the connection at once (no closing handshake to wait for). */
  close(reason: string): void {
    this.reason ??= reason;
    clearTimeout(this.idleTimer);
    this.ws.terminate();
  }

  [Symbol.asyncIterator](): AsyncIterator<RawFrame> {
    return this.frames[Symbol.asyncIterator]();
  }
}

function rawDataText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function describeError(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code && !error.message.includes(code) ? `${code} ${error.message}` : error.message;
}
