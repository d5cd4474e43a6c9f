import { WebSocket, type ClientOptions } from 'ws';
import { combinedFrameSchema, type CombinedFrame } from '@candleflow/common/binance-events';

/** A test client of the simulator's stream endpoints that keeps every frame it receives. */
export class StreamClient {
  readonly frames: CombinedFrame[] = [];
  /** When each kept frame arrived (performance.now()). */
  readonly arrivals: number[] = [];
  /** Messages that are not combined-stream frames: raw-stream events, serverShutdown. */
  readonly others: unknown[] = [];
  closeCode: number | undefined;
  private readonly closed: Promise<number>;

  private constructor(
    readonly socket: WebSocket,
    keepFrames = true,
  ) {
    if (keepFrames) {
      socket.on('message', (data) => {
        const message: unknown = JSON.parse(String(data));
        const frame = combinedFrameSchema.safeParse(message);
        if (!frame.success) {
          this.others.push(message);
          return;
        }
        this.arrivals.push(performance.now());
        this.frames.push(frame.data);
      });
    }
    this.closed = new Promise((resolve) =>
      socket.on('close', (code) => {
        this.closeCode = code;
        resolve(code);
      }),
    );
  }

  /** Connects to `/stream?streams=...` and resolves once the connection is open. */
  static async combined(wsUrl: string, streams: string[], options: ClientOptions = {}): Promise<StreamClient> {
    return StreamClient.wrap(new WebSocket(`${wsUrl}/stream?streams=${streams.join('/')}`, options));
  }

  /** Wraps a socket that is connecting (keeping its frames, or not); resolves once it is open. */
  static async wrap(socket: WebSocket, keepFrames = true): Promise<StreamClient> {
    const client = new StreamClient(socket, keepFrames);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  framesOf(stream: string): unknown[] {
    return this.frames.filter((f) => f.stream === stream).map((f) => f.data);
  }

  /** Resolves with the close code once the server (or the network) ends the connection. */
  async whenClosed(): Promise<number> {
    return this.closed;
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    this.socket.terminate();
    await this.closed;
  }
}
