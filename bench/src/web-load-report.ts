import type { Machine } from './results.js';
import type { WebLoadOptions } from './web-load-options.js';
import type { Gaps } from './web-load-stats.js';

export interface WebLoadResults {
  startedAt: string;
  finishedAt: string;
  machine: Machine;
  options: WebLoadOptions;
  /** The server's WEB_WS_MAX_PER_IP during the run. */
  maxPerIp: number;
  clients: {
    target: number;
    /** Open at the end of the measured span, as the crowd counted them and as the server's gauge said. */
    held: number;
    serverGauge: number;
    /** Fewest the crowd held at any 1 s sample of the measured span. */
    minHeld: number;
    connectSeconds: number;
    /** Handshakes refused by HTTP status (0: failed), and connections closed during the run by close code. */
    refused: Record<string, number>;
    closed: Record<string, number>;
    /** Update messages the crowd received a second, over the measured span. */
    messagesPerSecond: number;
    megabytesPerSecond: number;
  };
  server: {
    rssIdleMiB: number;
    rssPeakMiB: number;
    rssEndMiB: number;
    cpuPercent: number;
    pushCycleMeanMs: number;
    clickhouseQueryMeanMs: number;
    /** p99 of the server's event-loop delay over the measured span. */
    eventLoopLagP99Ms: number;
  };
  /** Gaps between updates as ordinary clients (not in the crowd's process) saw them. */
  probes: Gaps;
  /** Gaps between updates the page received, and between changes of what it draws (polled every 100 ms). */
  browser: { frameGaps: Gaps; drawnGaps: Gaps } | { skipped: string };
  perIp: { attempted: number; accepted: number; refused429: number };
  flood: { flooders: number; messagesSent: number; closedByServer1008: number; serverRateLimitDisconnects: number };
  ranges: {
    requests: number;
    ok: number;
    busy503: number;
    p50Ms: number;
    p99Ms: number;
    meanWireKiB: number;
    meanJsonKiB: number;
  };
  loadAverageEnd: [number, number, number];
}

const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const f2 = (n: number) => (Number.isFinite(n) ? (n / 1000).toFixed(2) : '–');
const gaps = (g: Gaps) => `${f2(g.p50)} / ${f2(g.p99)} / ${f2(g.max)} s (${f0(g.count)} gaps)`;
const counts = (c: Record<string, number>) =>
  Object.keys(c).length === 0
    ? 'none'
    : Object.entries(c)
        .map(([k, v]) => `${v} × ${k === '0' ? 'failed' : k}`)
        .join(', ');

/** The run as the Markdown table bench/README.md publishes. */
export function renderWebLoadMarkdown(r: WebLoadResults): string {
  const o = r.options;
  const browser =
    'skipped' in r.browser
      ? `not run (${r.browser.skipped})`
      : `updates received ${gaps(r.browser.frameGaps)}; chart and trades redrawn ${gaps(r.browser.drawnGaps)}`;
  const gib = (r.machine.memoryBytes / 2 ** 30).toFixed(1);
  return [
    `Web load, ${r.startedAt}: ${r.machine.cpus} CPUs (${r.machine.cpuModel}), ${gib} GiB, Node ${r.machine.node.replace(/^v/, '')}, ClickHouse ${r.machine.clickhouse};`,
    `load average ${r.machine.loadAverage[0]} at the start, ${r.loadAverageEnd[0]} at the end.`,
    `${f0(o.clients)} clients over ${o.symbols} symbols (${o.perAddress} per 127.x source address, limit ${r.maxPerIp}), ${o.flooders} flooders, ${o.rangeReaders} range readers${o.browser ? ', Chromium on the page' : ''}, ${o.durationS} s measured.`,
    '',
    '| measure | value |',
    '| --- | --- |',
    `| clients held at the end (crowd / server gauge) | ${f0(r.clients.held)} of ${f0(r.clients.target)} / ${f0(r.clients.serverGauge)} (fewest during the run: ${f0(r.clients.minHeld)}) |`,
    `| time to connect them all | ${r.clients.connectSeconds.toFixed(1)} s |`,
    `| crowd handshakes refused; connections lost during the run | ${counts(r.clients.refused)}; ${counts(r.clients.closed)} |`,
    `| updates pushed to the crowd | ${f0(r.clients.messagesPerSecond)} messages/s, ${r.clients.megabytesPerSecond.toFixed(1)} MB/s |`,
    `| web server RSS idle / peak / end | ${f0(r.server.rssIdleMiB)} / ${f0(r.server.rssPeakMiB)} / ${f0(r.server.rssEndMiB)} MiB |`,
    `| web server CPU (of one core) | ${f0(r.server.cpuPercent)} % |`,
    `| push cycle (read + send to all), mean; ClickHouse query, mean | ${f0(r.server.pushCycleMeanMs)} ms; ${f0(r.server.clickhouseQueryMeanMs)} ms |`,
    `| web server event-loop delay p99 | ${f0(r.server.eventLoopLagP99Ms)} ms |`,
    `| push interval, ordinary clients p50 / p99 / max | ${gaps(r.probes)} |`,
    `| the page in Chromium, p50 / p99 / max | ${browser} |`,
    `| one address over the limit | ${r.perIp.attempted} tried, ${r.perIp.accepted} accepted, ${r.perIp.refused429} refused with 429 |`,
    `| subscribe flood | ${f0(r.flood.messagesSent)} messages sent, ${f0(r.flood.closedByServer1008)} connections closed with 1008 (server counted ${f0(r.flood.serverRateLimitDisconnects)}) |`,
    `| 6 h ranges from ClickHouse | ${f0(r.ranges.requests)} requests: ${f0(r.ranges.ok)} × 200, ${f0(r.ranges.busy503)} × 503; p50 / p99 ${f0(r.ranges.p50Ms)} / ${f0(r.ranges.p99Ms)} ms; ${f0(r.ranges.meanWireKiB)} KiB gzipped of ${f0(r.ranges.meanJsonKiB)} KiB |`,
    '',
  ].join('\n');
}
