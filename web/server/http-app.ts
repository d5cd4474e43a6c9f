import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { constants as zlibConstants, gzip } from 'node:zlib';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '@candleflow/common/logger';
import type { SymbolSummary, SymbolsResponse, TradesResponse, WindowsResponse } from '../shared/api-types.js';
import type { CandleCache } from './candle-cache.js';
import { ClickhouseUnavailableError, type ClickhouseSource } from './clickhouse-source.js';
import type { MarketReader } from './market-reader.js';
import type { OrderbookService } from './orderbook-service.js';
import {
  BadRequestError,
  maxWindowSpanMs,
  orderbookQuerySchema,
  parseQuery,
  tradesQuerySchema,
  windowsQuerySchema,
  type WindowsQuery,
} from './request-params.js';
import { BusyError, type Semaphore } from './semaphore.js';
import type { WebMetrics } from './web-metrics.js';

/** No data for the symbol asked about. */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

export interface HttpAppDeps {
  source: ClickhouseSource;
  reader: MarketReader;
  candles: CandleCache;
  orderbooks: OrderbookService;
  metrics: WebMetrics;
  logger: Logger;
  /**
   * Bounds the range reads that go to ClickHouse: `/api/windows` (up to 7 days with FINAL
   * each) and `/api/quality` (up to 7 days of trades, each id counted).
   */
  windowQueries: Semaphore;
  /** The built page (Vite's output); when missing, `/` explains how to build it. */
  staticDir: string;
}

const defaultSpanMs = 15 * 60_000;
/** `/api/symbols` is shared by every page's ticker; one ClickHouse read serves them all for this long. */
const symbolsCacheMs = 4000;
/** Answers smaller than this go as they are: gzip would save little and cost a round through zlib. */
const gzipMinBytes = 16 * 1024;
const gzipAsync = promisify(gzip);

/**
 * The range a windows request covers. Without `to`, the range ends with the symbol's
 * latest window (which is "now" while data flows, and still shows a recording replayed
 * from the past); without `from`, it starts 15 minutes before `to`.
 */
export function resolveWindowRange(
  query: WindowsQuery,
  latestWindowStart: number | undefined,
  now: number,
  windowMs: number,
): { from: number; to: number } {
  const dataEnd = latestWindowStart === undefined ? now : latestWindowStart + windowMs;
  let to = query.to ?? (query.from === undefined ? dataEnd : Math.min(dataEnd, query.from + maxWindowSpanMs));
  const from = query.from ?? to - defaultSpanMs;
  if (query.to === undefined && to <= from) to = from + defaultSpanMs;
  if (to <= from) throw new BadRequestError('to', '`to` must be later than `from`');
  if (to - from > maxWindowSpanMs) throw new BadRequestError('from', 'the range may span at most 7 days');
  return { from, to };
}

/** The 4xx status Express and its parsers attach to errors caused by a malformed request. */
function clientErrorStatus(error: unknown): number | undefined {
  if (!(error instanceof Error)) return undefined;
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

/**
 * Sends JSON text, gzipped when it is large and the client takes gzip. The 7-day range
 * is about 15 MB of JSON and shrinks several times; the fastest level keeps the
 * compression (done on libuv's thread pool, off the event loop) short.
 */
async function sendJsonText(req: Request, res: Response, text: string): Promise<void> {
  res.type('json');
  res.setHeader('vary', 'accept-encoding');
  if (text.length < gzipMinBytes || !/\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
    res.send(text);
    return;
  }
  const body = await gzipAsync(text, { level: zlibConstants.Z_BEST_SPEED });
  res.setHeader('content-encoding', 'gzip');
  res.send(body);
}

/** The API, `/health`, `/metrics` and the built page, as an Express app. */
export function createHttpApp(deps: HttpAppDeps): express.Express {
  const { reader, candles, orderbooks, metrics } = deps;
  const windowMs = reader.windowMs;
  const windowSeconds = windowMs / 1000;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((req, res, next) => {
    const stop = metrics.httpRequests.startTimer({ method: req.method });
    res.on('finish', () => {
      // The matched route, never the raw URL, keeps the label set small.
      const route =
        (req.route as { path?: string } | undefined)?.path ?? (res.statusCode === 404 ? 'unmatched' : 'static');
      stop({ route: String(route), status: String(res.statusCode) });
    });
    res.setHeader('x-content-type-options', 'nosniff');
    next();
  });
  app.use('/api', (_req, res, next) => {
    res.setHeader('cache-control', 'no-store');
    next();
  });

  let symbolsCache: { at: number; value: Promise<SymbolSummary[]> } | undefined;
  app.get('/api/symbols', async (_req, res) => {
    const now = Date.now();
    if (!symbolsCache || now - symbolsCache.at > symbolsCacheMs) {
      const value = reader.symbolSummaries();
      symbolsCache = { at: now, value };
      value.catch(() => {
        if (symbolsCache?.value === value) symbolsCache = undefined;
      });
    }
    const body: SymbolsResponse = { windowSeconds, symbols: await symbolsCache.value };
    res.json(body);
  });

  app.get('/api/windows', async (req, res) => {
    const query = parseQuery(windowsQuerySchema, req.query);
    const now = Date.now();
    const cached = await candles.windows(
      query.symbol,
      (latest) => resolveWindowRange(query, latest, now, windowMs).from,
      query.to,
    );
    if (cached) {
      const { from, to } = resolveWindowRange(query, cached.latest, now, windowMs);
      const body: WindowsResponse = { symbol: query.symbol, from, to, windowSeconds, windows: cached.candles };
      await sendJsonText(req, res, JSON.stringify(body));
      return;
    }
    const text = await deps.windowQueries.run(async () => {
      const latest = query.to === undefined ? await reader.latestWindowStart(query.symbol) : undefined;
      if (query.to === undefined && latest === undefined) throw new NotFoundError(`no data for symbol ${query.symbol}`);
      const { from, to } = resolveWindowRange(query, latest, now, windowMs);
      const windows = await reader.windowsJson(query.symbol, from, to);
      if (windows.count === 0 && !(await reader.hasSymbol(query.symbol))) {
        throw new NotFoundError(`no data for symbol ${query.symbol}`);
      }
      // The same shape as WindowsResponse, with the candles already JSON.
      const head = JSON.stringify({ symbol: query.symbol, from, to, windowSeconds });
      return `${head.slice(0, -1)},"windows":${windows.json}}`;
    });
    await sendJsonText(req, res, text);
  });

  // The same range as /api/windows, so the page asks about exactly the candles it shows.
  app.get('/api/quality', async (req, res) => {
    const query = parseQuery(windowsQuerySchema, req.query);
    const body = await deps.windowQueries.run(async () => {
      const latest = query.to === undefined ? await reader.latestWindowStart(query.symbol) : undefined;
      if (query.to === undefined && latest === undefined) throw new NotFoundError(`no data for symbol ${query.symbol}`);
      const { from, to } = resolveWindowRange(query, latest, Date.now(), windowMs);
      const quality = await reader.quality(query.symbol, from, to);
      if (quality.tradesStored === 0 && !(await reader.hasSymbol(query.symbol))) {
        throw new NotFoundError(`no data for symbol ${query.symbol}`);
      }
      return quality;
    });
    res.json(body);
  });

  app.get('/api/trades', async (req, res) => {
    const query = parseQuery(tradesQuerySchema, req.query);
    const trades = await reader.latestTrades(query.symbol, query.limit);
    if (trades.length === 0 && !(await reader.hasSymbol(query.symbol))) {
      throw new NotFoundError(`no data for symbol ${query.symbol}`);
    }
    const body: TradesResponse = { symbol: query.symbol, trades };
    res.json(body);
  });

  app.get('/api/orderbook', async (req, res) => {
    const query = parseQuery(orderbookQuerySchema, req.query);
    const book = await orderbooks.top(query.symbol, query.depth);
    if (book === undefined) throw new NotFoundError(`no order book for symbol ${query.symbol}`);
    res.json(book);
  });

  app.use('/api', (req) => {
    throw new NotFoundError(`no such endpoint: ${req.method} /api${req.path}`);
  });

  app.get('/health', async (_req, res) => {
    try {
      await deps.source.check();
      res.json({ ok: true, checks: { clickhouse: 'reachable' } });
    } catch (error) {
      res
        .status(503)
        .json({ ok: false, checks: { clickhouse: error instanceof Error ? error.message : String(error) } });
    }
  });

  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  const indexFile = path.join(deps.staticDir, 'index.html');
  const immutable = 'public, max-age=31536000, immutable';
  // The build writes a gzipped copy of each asset; browsers that accept gzip get that.
  app.use('/assets', (req, res, next) => {
    const name = req.path.slice(1);
    const gzipped = path.join(deps.staticDir, 'assets', `${name}.gz`);
    if (!/^[\w.-]+$/.test(name) || !/\bgzip\b/.test(req.headers['accept-encoding'] ?? '') || !existsSync(gzipped)) {
      next();
      return;
    }
    res.type(path.extname(name));
    res.setHeader('content-encoding', 'gzip');
    res.setHeader('vary', 'accept-encoding');
    res.setHeader('cache-control', immutable);
    res.sendFile(gzipped);
  });
  app.use(
    express.static(deps.staticDir, {
      index: 'index.html',
      setHeaders: (res, file) => {
        // Vite fingerprints everything under assets/; the page itself is always revalidated.
        res.setHeader('cache-control', file.includes(`${path.sep}assets${path.sep}`) ? immutable : 'no-cache');
      },
    }),
  );
  app.get('/', (_req, res) => {
    if (existsSync(indexFile)) res.sendFile(indexFile);
    else res.status(503).type('text/plain').send('The page is not built yet: run `npm run build -w web`.\n');
  });

  app.use((req: Request, res: Response) => {
    res.status(404).json({ error: `not found: ${req.path}` });
  });

  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof BadRequestError) {
      res.status(400).json({ error: error.message, parameter: error.parameter });
    } else if (error instanceof NotFoundError) {
      res.status(404).json({ error: error.message });
    } else if (error instanceof ClickhouseUnavailableError) {
      res.status(503).json({ error: error.message });
    } else if (error instanceof BusyError) {
      metrics.busyRefusals.inc();
      res.setHeader('retry-after', '1');
      res.status(503).json({ error: `busy: ${error.message}; retry in a second` });
    } else if (clientErrorStatus(error) !== undefined) {
      res.status(clientErrorStatus(error) ?? 400).json({ error: (error as Error).message });
    } else {
      deps.logger.error({ err: error }, 'request failed');
      res.status(500).json({ error: 'internal error' });
    }
  });

  return app;
}
