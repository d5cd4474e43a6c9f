/**
 * `npm run bench -- --web-load`: the web server under thousands of WebSocket clients, a
 * subscribe flood and heavy range reads, on loopback only, for a bounded time. See
 * web-load-options.ts for what it runs and bench/README.md for the latest figures.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { createClient } from '@clickhouse/client';
import { chromium, type Browser } from 'playwright-core';
import WebSocket from 'ws';
import { migrate } from '@candleflow/common/clickhouse-migrations';
import { commonEnv, findProjectRoot, loadEnv } from '@candleflow/common/env';
import { localServices, servicesDown, servicesUp, type LocalService } from '../../scripts/local-services/index.js';
// The rows the pipeline would write, as the web's page tests write them: no Kafka, no aggregator.
import { startMarketFeeder } from '../../web/test/support/market-feeder.js';
import { fetchText } from './http-text.js';
import { describeMachine } from './machine.js';
import { percentile } from './percentiles.js';
import { TICKS_PER_SECOND, readProcess } from './proc-stats.js';
import { sumSamples } from './prometheus-text.js';
import { ServiceProcess } from './service-process.js';
import type { CrowdStats } from './web-load-clients.js';
import type { WebLoadOptions } from './web-load-options.js';
import { renderWebLoadMarkdown, type WebLoadResults } from './web-load-report.js';
import { arrivalGaps, openFilesLimit } from './web-load-stats.js';

const knownSymbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BNBUSDT', 'XRPUSDT', 'DOGEUSDT', 'ADAUSDT', 'TRXUSDT'];
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const MiB = 2 ** 20;

/** Source address ranges (second octet): the crowd, ordinary clients, the limit check, flooders. */
const crowdBase = 1;
const probeBase = 200;
const limitAddress = '127.250.0.1';
const flooderBase = 251;

const symbolNames = (count: number) => Array.from({ length: count }, (_, i) => knownSymbols[i] ?? `SYM${i}USDT`);

/** Opens a WebSocket from `localAddress`; resolves with it, or with the HTTP status that refused it. */
function openSocket(url: string, localAddress: string): Promise<WebSocket | number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { localAddress, perMessageDeflate: false });
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (_req, res) => {
      res.resume();
      socket.terminate();
      resolve(res.statusCode ?? 0);
    });
    socket.once('error', () => resolve(0));
  });
}

/** An ordinary client: subscribes once and notes when each update arrives. */
async function startProbe(
  url: string,
  localAddress: string,
  symbol: string,
): Promise<{ arrivals: number[]; close(): void }> {
  const socket = await openSocket(url, localAddress);
  if (typeof socket === 'number') throw new Error(`probe from ${localAddress} refused (${socket})`);
  const arrivals: number[] = [];
  socket.on('message', (data: Buffer) => {
    // Parsed like the page does: the arrival counts once the message is read.
    const message = JSON.parse(data.toString()) as { type?: string };
    if (message.type === 'update') arrivals.push(performance.now());
  });
  socket.send(JSON.stringify({ type: 'subscribe', symbol, depth: 50 }));
  return { arrivals, close: () => socket.terminate() };
}

/** A client that sends subscribe messages as fast as it can, and reconnects whenever it is closed. */
function startFlooder(url: string, localAddress: string, symbol: string, stop: AbortSignal) {
  const result = { sent: 0, closed1008: 0 };
  const done = (async () => {
    while (!stop.aborted) {
      const socket = await openSocket(url, localAddress);
      if (typeof socket === 'number') {
        await sleep(250);
        continue;
      }
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      const message = JSON.stringify({ type: 'subscribe', symbol, depth: 20 });
      // 100 messages every 10 ms, about 10,000 a second, until the server closes the connection.
      const flood = setInterval(() => {
        if (socket.readyState !== WebSocket.OPEN) return;
        for (let i = 0; i < 100; i++) socket.send(message);
        result.sent += 100;
      }, 10);
      const onAbort = () => socket.terminate();
      stop.addEventListener('abort', onAbort, { once: true });
      const code = await closed;
      clearInterval(flood);
      stop.removeEventListener('abort', onAbort);
      if (code === 1008) result.closed1008++;
      await sleep(250);
    }
  })();
  return { result, done };
}

/** GET with gzip accepted; the wire bytes and the JSON's length. */
function getGzipped(url: string): Promise<{ status: number; wireBytes: number; jsonBytes: number }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const wire = Buffer.concat(chunks);
          const json = res.headers['content-encoding'] === 'gzip' ? gunzipSync(wire) : wire;
          resolve({ status: res.statusCode ?? 0, wireBytes: wire.length, jsonBytes: json.length });
        });
      })
      .on('error', reject);
  });
}

/** Loops reading 6 h ranges older than the server's recent-candle cache, i.e. from ClickHouse. */
function startRangeReader(baseUrl: string, symbols: string[], seed: number, stop: AbortSignal) {
  const samples: { status: number; ms: number; wireBytes: number; jsonBytes: number }[] = [];
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const done = (async () => {
    while (!stop.aborted) {
      const to = Date.now() - 7 * 3600_000 - Math.floor(next() * 11 * 3600_000);
      const symbol = symbols[Math.floor(next() * symbols.length)] ?? symbols[0];
      const started = performance.now();
      const got = await getGzipped(`${baseUrl}/api/windows?symbol=${symbol}&from=${to - 6 * 3600_000}&to=${to}`);
      samples.push({ ...got, ms: performance.now() - started });
      if (got.status !== 200) await sleep(1000);
    }
  })();
  return { samples, done };
}

/**
 * In the page (bench has no DOM types): the newest candle the price chart draws and the
 * top of the trade tape, as text. Every update brings new trades, so it changes with each
 * one the page draws, even in a second when the price stays put.
 */
const pageDrawn = `(() => {
  const trace = document.getElementById('price-chart')?.data?.[0];
  const n = (trace?.x.length ?? 0) - 1;
  const tape = [...document.querySelectorAll('#trade-tape .tape-row')].slice(0, 3).map((r) => r.textContent);
  return n < 0 ? '' : [trace.x[n], trace.close[n], trace.high[n], ...tape].join('|');
})()`;

/** Headless Chromium on the page: when its WebSocket brings updates, and when what it draws changes. */
async function startBrowser(
  url: string,
): Promise<{ frames: number[]; drawn: number[]; close(): Promise<void> } | string> {
  if (!existsSync(chromiumPath)) return `no Chromium at ${chromiumPath}`;
  const browser: Browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run'],
  });
  const page = await browser.newPage({ viewport: { width: 1440, height: 860 } });
  const frames: number[] = [];
  const drawn: number[] = [];
  page.on('websocket', (ws) =>
    ws.on('framereceived', ({ payload }) => {
      if (typeof payload === 'string' && payload.startsWith('{"type":"update"')) frames.push(performance.now());
    }),
  );
  await page.goto(url);
  await page.waitForSelector('.live-indicator[data-status="live"]', { timeout: 60_000 });
  let stopped = false;
  const watching = (async () => {
    let previous = '';
    while (!stopped) {
      const state = await page.evaluate<string>(pageDrawn).catch(() => '');
      if (state !== previous && previous !== '') drawn.push(performance.now());
      previous = state;
      await sleep(100);
    }
  })();
  return {
    frames,
    drawn,
    async close() {
      stopped = true;
      await watching;
      await browser.close();
    },
  };
}

/** Runs the step, writes its results to `options.outDir` and returns them. */
export async function runWebLoad(options: WebLoadOptions, say: (line: string) => void): Promise<WebLoadResults> {
  // The crowd's process and the server each hold a socket per client (children inherit this limit).
  const files = openFilesLimit(readFileSync('/proc/self/limits', 'utf8'));
  if (files !== undefined && options.clients + 1000 > files) {
    throw new Error(`${options.clients} clients need more than the ${files} open files allowed: raise ulimit -n`);
  }
  const root = findProjectRoot();
  const env = loadEnv({ KAFKA_BROKERS: commonEnv.KAFKA_BROKERS, CLICKHOUSE_URL: commonEnv.CLICKHOUSE_URL });
  // Only ClickHouse: Kafka would take CPU from what is measured.
  let started: LocalService[] = await servicesUp(
    localServices(root, env).filter((s) => s.name === 'clickhouse'),
    say,
  );
  const stopStarted = async () => {
    if (started.length > 0) await servicesDown(started, say);
    started = [];
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      say(`${signal}: stopping`);
      void stopStarted().finally(() => process.exit(130));
    });
  }
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:]/g, '-').replace(/\..+$/, '');
  const outDir = path.resolve(root, options.outDir);
  const logDir = path.join(outDir, `${stamp}-web-load-logs`);
  mkdirSync(logDir, { recursive: true });
  const database = `bench_web_${Date.now().toString(36)}`;
  const admin = createClient({ url: env.CLICKHOUSE_URL });
  const machine = await describeMachine(root, admin);
  const symbols = symbolNames(options.symbols);
  const maxPerIp = Number(options.serverEnv.WEB_WS_MAX_PER_IP ?? 50);
  if (options.perAddress > maxPerIp) {
    throw new Error(`--per-address ${options.perAddress} is above the server's WEB_WS_MAX_PER_IP ${maxPerIp}`);
  }
  say(
    `${options.clients} clients on ${symbols.join(', ')} for ${options.durationS} s; ${machine.cpus} CPUs, ` +
      `load average ${machine.loadAverage[0]}; logs in ${path.relative(root, logDir)}`,
  );

  const cleanups: (() => unknown)[] = [];
  const stop = new AbortController();
  try {
    await migrate({ url: env.CLICKHOUSE_URL, database });
    cleanups.push(() => admin.command({ query: `DROP DATABASE IF EXISTS ${database}` }));
    const market = await startMarketFeeder({
      url: env.CLICKHOUSE_URL,
      database,
      symbols: Object.fromEntries(symbols.map((symbol, i) => [symbol, 100 * (i + 1) ** 3])),
      historyMs: 24 * 3600_000,
      intervalMs: 250,
      seed: 1,
    });
    cleanups.push(() => market.stop());

    const server = new ServiceProcess({
      name: 'web',
      entry: path.join(root, 'web', 'server', 'main.ts'),
      cwd: root,
      logFile: path.join(logDir, 'web.log'),
      env: {
        WEB_HOST: '127.0.0.1',
        WEB_PORT: '0',
        CLICKHOUSE_URL: env.CLICKHOUSE_URL,
        CLICKHOUSE_DB: database,
        LOG_LEVEL: 'info',
        ...options.serverEnv,
        // Explicit, so that a WEB_WS_MAX_PER_IP in .env cannot differ from what is measured against.
        WEB_WS_MAX_PER_IP: String(maxPerIp),
      },
    });
    cleanups.push(() => server.stop());
    // The first start may build the page.
    const baseUrl = (await server.waitForLine(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/, 300_000))[1] ?? '';
    const wsUrl = `${baseUrl.replace(/^http/, 'ws')}/ws`;
    const metricsText = async () => (await fetchText(`${baseUrl}/metrics`, 10_000)) ?? '';
    for (let i = 0; ; i++) {
      const text = await fetchText(`${baseUrl}/api/symbols`);
      if (text && symbols.every((s) => text.includes(`"${s}"`))) break;
      if (i > 60) throw new Error(`the web server does not list ${symbols.join(', ')}: ${text}`);
      await sleep(500);
    }
    const rssIdle = readProcess(server.pid)?.rssBytes ?? 0;
    say(`web server up at ${baseUrl} (pid ${server.pid}), ${(rssIdle / MiB).toFixed(0)} MiB idle`);

    const probes = await Promise.all(
      Array.from({ length: options.probes }, (_, i) =>
        startProbe(wsUrl, `127.${probeBase}.0.${i + 1}`, symbols[i % symbols.length] ?? ''),
      ),
    );
    cleanups.push(() => probes.forEach((p) => p.close()));

    const connectStarted = performance.now();
    let crowd: CrowdStats | undefined;
    const crowdProcess = new ServiceProcess({
      name: 'crowd',
      entry: path.join(root, 'bench', 'src', 'web-load-clients.ts'),
      cwd: root,
      logFile: path.join(logDir, 'crowd.log'),
      ipc: true,
      args: [
        JSON.stringify({
          url: wsUrl,
          clients: options.clients,
          perAddress: options.perAddress,
          addressBase: crowdBase,
          symbols,
          batch: 250,
          deadlineMs: (180 + options.durationS + 60) * 1000,
        }),
      ],
    });
    crowdProcess.onMessage((message) => (crowd = message as CrowdStats));
    cleanups.push(() => crowdProcess.stop(5000));
    while (!crowd?.connected) {
      if (performance.now() - connectStarted > 180_000)
        throw new Error(`clients still connecting after 180 s: ${JSON.stringify(crowd)}`);
      await sleep(250);
    }
    const connectSeconds = (performance.now() - connectStarted) / 1000;
    say(`${crowd.open} of ${options.clients} clients connected in ${connectSeconds.toFixed(1)} s`);

    // One address asks for more connections than it may hold.
    const perIpTries = await Promise.all(Array.from({ length: maxPerIp + 10 }, () => openSocket(wsUrl, limitAddress)));
    const perIp = {
      attempted: perIpTries.length,
      accepted: perIpTries.filter((s) => typeof s !== 'number').length,
      refused429: perIpTries.filter((s) => s === 429).length,
    };
    cleanups.push(() => perIpTries.forEach((s) => typeof s !== 'number' && s.terminate()));

    const browser = options.browser ? await startBrowser(baseUrl) : 'not asked for (--no-browser)';
    if (typeof browser !== 'string') cleanups.push(() => browser.close());
    const flooders = Array.from({ length: options.flooders }, (_, i) =>
      startFlooder(wsUrl, `127.${flooderBase}.0.${i + 1}`, symbols[0] ?? '', stop.signal),
    );
    const readers = Array.from({ length: options.rangeReaders }, (_, i) =>
      startRangeReader(baseUrl, symbols, i + 1, stop.signal),
    );

    // The measured span.
    const metricsBefore = await metricsText();
    const crowdBefore = { ...crowd };
    const from = performance.now();
    const ticksBefore = readProcess(server.pid)?.cpuTicks ?? 0;
    let rssPeak = rssIdle;
    let minHeld = crowd.open;
    for (let s = 1; s <= options.durationS; s++) {
      await sleep(1000);
      const sample = readProcess(server.pid);
      if (sample === undefined) throw new Error(`the web server exited:\n${server.tail()}`);
      rssPeak = Math.max(rssPeak, sample.rssBytes);
      minHeld = Math.min(minHeld, crowd.open);
      if (s % 5 === 0 || s === options.durationS) {
        const latest = arrivalGaps(
          probes.map((p) => p.arrivals),
          from,
          performance.now(),
        );
        say(
          `${s}/${options.durationS} s: ${crowd.open} clients, RSS ${(sample.rssBytes / MiB).toFixed(0)} MiB, ` +
            `push gap p99 ${(latest.p99 / 1000).toFixed(2)} s`,
        );
      }
    }
    const to = performance.now();
    const seconds = (to - from) / 1000;
    const ticksAfter = readProcess(server.pid)?.cpuTicks ?? ticksBefore;
    const rssEnd = readProcess(server.pid)?.rssBytes ?? 0;
    const metricsAfter = await metricsText();
    const crowdAfter = { ...crowd };
    stop.abort();
    await Promise.all([...flooders.map((f) => f.done), ...readers.map((r) => r.done)]);
    // Read once the flood is over: every 1008 a flooder saw has been counted by then.
    const rateLimited = sumSamples(await metricsText(), 'web_ws_disconnected_total', { reason: 'rate_limit' });

    const delta = (name: string, labels: Record<string, string> = {}) =>
      sumSamples(metricsAfter, name, labels) - sumSamples(metricsBefore, name, labels);
    const cycles = delta('web_push_cycle_duration_seconds_count');
    const queries = delta('web_clickhouse_query_duration_seconds_count');
    const rangeSamples = readers.flatMap((r) => r.samples);
    const okRanges = rangeSamples.filter((r) => r.status === 200);
    const rangeMs = okRanges.map((r) => r.ms).sort((a, b) => a - b);
    const results: WebLoadResults = {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine,
      options,
      maxPerIp,
      clients: {
        target: options.clients,
        held: crowdAfter.open,
        serverGauge: sumSamples(metricsAfter, 'web_ws_clients'),
        minHeld,
        connectSeconds,
        refused: crowdAfter.refused,
        closed: crowdAfter.closed,
        messagesPerSecond: (crowdAfter.messages - crowdBefore.messages) / seconds,
        megabytesPerSecond: (crowdAfter.bytes - crowdBefore.bytes) / 1e6 / seconds,
      },
      server: {
        rssIdleMiB: rssIdle / MiB,
        rssPeakMiB: rssPeak / MiB,
        rssEndMiB: rssEnd / MiB,
        cpuPercent: ((ticksAfter - ticksBefore) / TICKS_PER_SECOND / seconds) * 100,
        pushCycleMeanMs: cycles > 0 ? (delta('web_push_cycle_duration_seconds_sum') / cycles) * 1000 : Number.NaN,
        clickhouseQueryMeanMs:
          queries > 0 ? (delta('web_clickhouse_query_duration_seconds_sum') / queries) * 1000 : Number.NaN,
        // prom-client restarts this histogram at every scrape: it covers the span since metricsBefore.
        eventLoopLagP99Ms: sumSamples(metricsAfter, 'nodejs_eventloop_lag_p99_seconds') * 1000,
      },
      probes: arrivalGaps(
        probes.map((p) => p.arrivals),
        from,
        to,
      ),
      browser:
        typeof browser === 'string'
          ? { skipped: browser }
          : { frameGaps: arrivalGaps([browser.frames], from, to), drawnGaps: arrivalGaps([browser.drawn], from, to) },
      perIp,
      flood: {
        flooders: options.flooders,
        messagesSent: flooders.reduce((sum, f) => sum + f.result.sent, 0),
        closedByServer1008: flooders.reduce((sum, f) => sum + f.result.closed1008, 0),
        serverRateLimitDisconnects: rateLimited,
      },
      ranges: {
        requests: rangeSamples.length,
        ok: okRanges.length,
        busy503: rangeSamples.filter((r) => r.status === 503).length,
        p50Ms: percentile(rangeMs, 50),
        p99Ms: percentile(rangeMs, 99),
        meanWireKiB: okRanges.reduce((sum, r) => sum + r.wireBytes, 0) / Math.max(1, okRanges.length) / 1024,
        meanJsonKiB: okRanges.reduce((sum, r) => sum + r.jsonBytes, 0) / Math.max(1, okRanges.length) / 1024,
      },
      loadAverageEnd: os.loadavg().map((l) => Math.round(l * 100) / 100) as [number, number, number],
    };
    const markdown = renderWebLoadMarkdown(results);
    writeFileSync(path.join(outDir, `${stamp}-web-load.json`), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(path.join(outDir, `${stamp}-web-load.md`), markdown);
    console.log(`\n${markdown}`);
    say(`results: ${path.relative(root, path.join(outDir, `${stamp}-web-load.json`))} and .md`);
    const webLog = readFileSync(path.join(logDir, 'web.log'), 'utf8');
    const errors = webLog.split('\n').filter((l) => /"level":(50|60)/.test(l)).length;
    if (errors > 0) say(`the web server logged ${errors} error(s); see ${path.relative(root, logDir)}/web.log`);
    return results;
  } finally {
    stop.abort();
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        say(`cleanup: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    await admin.close();
    await stopStarted();
  }
}
