import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createRegistry } from '@candleflow/common/ops-server';

/** The web server's Prometheus metrics, beside Node's default process metrics. */
export class WebMetrics {
  readonly registry: Registry;
  readonly httpRequests: Histogram<'route' | 'method' | 'status'>;
  readonly clickhouseQueries: Histogram<'outcome'>;
  readonly wsClients: Gauge;
  readonly wsMessages: Counter<'type'>;
  readonly wsRefused: Counter<'reason'>;
  readonly wsDisconnected: Counter<'reason'>;
  readonly pushDuration: Histogram;
  readonly skippedRows: Counter;
  readonly busyRefusals: Counter;

  constructor() {
    this.registry = createRegistry('web');
    const registers = [this.registry];
    this.httpRequests = new Histogram({
      name: 'web_http_request_duration_seconds',
      help: 'HTTP requests by route, method and status, with their duration',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.clickhouseQueries = new Histogram({
      name: 'web_clickhouse_query_duration_seconds',
      help: 'ClickHouse queries by outcome (ok, unavailable, error), with their duration',
      labelNames: ['outcome'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers,
    });
    this.wsClients = new Gauge({ name: 'web_ws_clients', help: 'Open WebSocket connections', registers });
    this.wsMessages = new Counter({
      name: 'web_ws_messages_sent_total',
      help: 'WebSocket messages sent, by type (update, status, error)',
      labelNames: ['type'],
      registers,
    });
    this.wsRefused = new Counter({
      name: 'web_ws_refused_total',
      help: 'WebSocket connections refused at the handshake, by reason (per_ip_limit)',
      labelNames: ['reason'],
      registers,
    });
    this.wsDisconnected = new Counter({
      name: 'web_ws_disconnected_total',
      help: 'WebSocket clients the server disconnected, by reason (rate_limit, send_buffer, no_pong)',
      labelNames: ['reason'],
      registers,
    });
    this.skippedRows = new Counter({
      name: 'web_clickhouse_rows_skipped_total',
      help: 'Rows read from ClickHouse and left out of answers because a value was unusable (NaN, out of range)',
      registers,
    });
    this.busyRefusals = new Counter({
      name: 'web_windows_busy_total',
      help: '/api/windows requests answered 503 because too many range reads were running and waiting',
      registers,
    });
    this.pushDuration = new Histogram({
      name: 'web_push_cycle_duration_seconds',
      help: 'Time to read what changed for every subscribed symbol and push it',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
  }
}
