import WebSocket from 'ws';
import { AsyncQueue } from './async-queue.js';

/** One WebSocket message's bytes as received, with the local receive time in ms. */
export interface RawFrame {
  bytes: Buffer;
  receivedAt: number;
}

export interface ConnectionOptions {
  /** Close the connection when no frame (data or ping) arrived for this long. */
  idleTimeoutMs: number;
  handshakeTimeoutMs?: number;
  /**
   * After this many frames, reading stops for one event-loop turn per this many frames
   * handled, so that other work (Kafka's delivery reports) keeps pace with the socket.
   */
  framesPerTurn: number;
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
  /** Frames handled since reading last resumed, and whether reading rests for other work. */
  private framesThisTurn = 0;
  private yielding = false;
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
    private readonly options: ConnectionOptions,
  ) {
    this.idleTimer = setTimeout(() => {
      if (!this.paused) this.close(`no frame for ${options.idleTimeoutMs} ms`);
    }, options.idleTimeoutMs);
    ws.on('message', (data) => {
      this.idleTimer.refresh();
      this.frames.push({ bytes: rawDataBytes(data), receivedAt: Date.now() });
      if (++this.framesThisTurn >= options.framesPerTurn && !this.yielding) this.yieldTurns();
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
    if (!this.yielding) this.ws.resume();
  }

  /**
   * One socket read can carry thousands of frames, all handled in one event-loop turn;
   * rest one turn per `framesPerTurn` of them (frames already read still arrive).
   */
  private yieldTurns(): void {
    this.yielding = true;
    this.ws.pause();
    const rest = (): void => {
      this.framesThisTurn -= this.options.framesPerTurn;
      if (this.framesThisTurn >= this.options.framesPerTurn) {
        setImmediate(rest);
        return;
      }
      this.framesThisTurn = 0;
      this.yielding = false;
      if (!this.paused) this.ws.resume();
    };
    setImmediate(rest);
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

/** Kept as bytes: the frame's data goes to Kafka as a slice of them, never decoded. */
function rawDataBytes(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function describeError(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code && !error.message.includes(code) ? `${code} ${error.message}` : error.message;
}
