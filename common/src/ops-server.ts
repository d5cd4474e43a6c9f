import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry, collectDefaultMetrics } from 'prom-client';

export interface HealthReport {
  ok: boolean;
  /** Named checks, e.g. `{ kafka: true, connections: "3/3" }`. */
  checks: Record<string, unknown>;
}

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

/** A metrics registry with Node's default process metrics, prefixed per service. */
export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * The producer's and aggregator's operations endpoint: `/health` (200 when healthy,
 * 503 otherwise, JSON body either way) and `/metrics` in Prometheus text format.
 */
export async function startOpsServer(options: {
  port: number;
  host?: string;
  registry: Registry;
  health: () => HealthReport | Promise<HealthReport>;
}): Promise<OpsServer> {
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    void (async () => {
      try {
        if (url === '/health' || url.startsWith('/health?')) {
          const report = await options.health();
          res.writeHead(report.ok ? 200 : 503, { 'content-type': 'application/json' });
          res.end(JSON.stringify(report));
        } else if (url === '/metrics') {
          res.writeHead(200, { 'content-type': options.registry.contentType });
          res.end(await options.registry.metrics());
        } else {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: `no such endpoint: ${url}; try /health or /metrics` }));
        }
      } catch (error) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`port ${options.port} is already in use; free it or choose another port`)
          : error,
      );
    });
    server.listen(options.port, options.host ?? '0.0.0.0', resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
