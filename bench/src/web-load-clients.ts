/**
 * The web load step's crowd, as a process of its own (so its event loop does not delay
 * the probes that measure push intervals): opens `clients` WebSocket connections to
 * `url` in batches, each from its assigned loopback address, subscribes each to one of
 * `symbols`, and counts what arrives without parsing it. Reports counts to the parent
 * over IPC every second; stops on SIGTERM, on disconnect, or at `deadlineMs` by itself.
 *
 * Run by web-load.ts with its settings as JSON in argv[2].
 */
import WebSocket from 'ws';
import { z } from 'zod';
import { sourceAddresses } from './web-load-stats.js';

const settings = z
  .object({
    url: z.string().regex(/^ws:\/\/127\.0\.0\.1:\d+\/ws$/),
    clients: z.number().int().min(1).max(20_000),
    perAddress: z.number().int().min(1),
    addressBase: z.number().int().min(1).max(254),
    symbols: z.array(z.string()).min(1),
    batch: z.number().int().min(1).max(2000),
    deadlineMs: z.number().int().positive(),
  })
  .parse(JSON.parse(process.argv[2] ?? ''));

export interface CrowdStats {
  type: 'stats';
  opened: number;
  open: number;
  /** Handshakes refused, by HTTP status, or failed (status 0). */
  refused: Record<string, number>;
  /** Connections that closed while the run went on, by close code. */
  closed: Record<string, number>;
  messages: number;
  bytes: number;
  connected: boolean;
}

const stats: CrowdStats = {
  type: 'stats',
  opened: 0,
  open: 0,
  refused: {},
  closed: {},
  messages: 0,
  bytes: 0,
  connected: false,
};
const sockets = new Set<WebSocket>();
let stopping = false;

const report = () => process.send?.({ ...stats });
const count = (into: Record<string, number>, key: number) => (into[String(key)] = (into[String(key)] ?? 0) + 1);

function connect(localAddress: string, symbol: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = new WebSocket(settings.url, { localAddress, perMessageDeflate: false, skipUTF8Validation: true });
    let settled = false;
    const settle = () => {
      if (!settled) resolve();
      settled = true;
    };
    socket.on('open', () => {
      stats.opened++;
      stats.open++;
      sockets.add(socket);
      socket.send(JSON.stringify({ type: 'subscribe', symbol, depth: 50 }));
      settle();
    });
    socket.on('unexpected-response', (_req, res) => {
      count(stats.refused, res.statusCode ?? 0);
      res.resume();
      socket.terminate();
      settle();
    });
    socket.on('message', (data: Buffer) => {
      stats.messages++;
      stats.bytes += data.length;
    });
    socket.on('close', (code) => {
      if (sockets.delete(socket)) {
        stats.open--;
        if (!stopping) count(stats.closed, code);
      }
      settle();
    });
    socket.on('error', () => {
      if (!settled) count(stats.refused, 0);
      settle();
    });
  });
}

function stop(): void {
  if (stopping) return;
  stopping = true;
  for (const socket of sockets) socket.terminate();
  report();
  process.exit(0);
}

process.on('SIGTERM', stop);
process.on('disconnect', stop);
setTimeout(stop, settings.deadlineMs).unref();
const timer = setInterval(report, 1000);
timer.unref();

const addresses = sourceAddresses(settings.clients, settings.perAddress, settings.addressBase);
// Batches keep the server's accept backlog from overflowing (dropped SYNs cost a 1 s retry).
for (let first = 0; first < settings.clients && !stopping; first += settings.batch) {
  const batch = addresses.slice(first, first + settings.batch);
  await Promise.all(
    batch.map((address, i) => connect(address, settings.symbols[(first + i) % settings.symbols.length] ?? '')),
  );
}
stats.connected = true;
report();
// Stay up (the sockets keep the loop alive) until stopped.
setInterval(() => undefined, 60_000);
