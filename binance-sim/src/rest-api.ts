import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { UnknownSymbolError, type MarketSource } from './market-source.js';
import type { RequestWeightLimiter } from './request-weight.js';
import { DEFAULT_SHUTDOWN_GRACE_MS } from './stream-hub.js';
import type { TradeLog } from './trade-log.js';

/** The depth limits Binance accepts. */
export const DEPTH_LIMITS = [5, 10, 20, 50, 100, 500, 1000, 5000] as const;

/** historicalTrades and aggTrades: items per answer by default, and at most. */
const DEFAULT_TRADES_LIMIT = 500;
const MAX_TRADES_LIMIT = 1000;
/** Longest grace a serverShutdown control accepts (Binance's connection lifetime). */
const MAX_SHUTDOWN_GRACE_MS = 24 * 60 * 60 * 1000;

/** Binance's -1102 body for a parameter that is missing or empty. */
function missingParameter(name: string): { code: number; msg: string } {
  return { code: -1102, msg: `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.` };
}

/** Binance's -1100 body for a parameter it cannot use. */
function illegalParameter(name: string): { code: number; msg: string } {
  return { code: -1100, msg: `Illegal characters found in parameter '${name}'.` };
}

/** Binance's error bodies for the requests the simulator refuses. */
export const binanceErrors = {
  missingSymbol: missingParameter('symbol'),
  invalidSymbol: { code: -1121, msg: 'Invalid symbol.' },
  badLimit: {
    code: -1100,
    msg: `Illegal characters found in parameter 'limit'; legal range is '${DEPTH_LIMITS.join(', ')}'.`,
  },
  badSymbols: illegalParameter('symbols'),
  badCombination: { code: -1128, msg: 'Combination of optional parameters invalid.' },
} as const;

function tooMuchWeight(perMinute: number): { code: number; msg: string } {
  return {
    code: -1003,
    msg: `Too much request weight used; current limit is ${perMinute} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.`,
  };
}

const symbolSchema = z.string().regex(/^[A-Z0-9]{2,20}$/);
const limitSchema = z.coerce
  .number()
  .int()
  .refine((n) => (DEPTH_LIMITS as readonly number[]).includes(n));
const symbolListSchema = z.array(symbolSchema).min(1);
/** Digits only, as Binance takes ids, times and counts; 15 digits keep a JS number exact. */
const unsignedSchema = z
  .string()
  .regex(/^\d{1,15}$/)
  .transform(Number);
const tradesLimitSchema = unsignedSchema.pipe(z.number().min(1).max(MAX_TRADES_LIMIT)).default(DEFAULT_TRADES_LIMIT);

const historicalTradesQuery = z.object({
  symbol: z.string().min(1),
  fromId: unsignedSchema.optional(),
  limit: tradesLimitSchema,
});
const aggTradesQuery = z.object({
  symbol: z.string().min(1),
  fromId: unsignedSchema.optional(),
  startTime: unsignedSchema.optional(),
  endTime: unsignedSchema.optional(),
  limit: tradesLimitSchema,
});
const withholdQuery = z.object({ symbol: z.string().min(1), count: unsignedSchema.pipe(z.number().min(1)) });
const shutdownQuery = z.object({ graceMs: unsignedSchema.pipe(z.number().max(MAX_SHUTDOWN_GRACE_MS)).optional() });

/** The control endpoints' actions, implemented by the simulator. */
export interface SimControls {
  dropConnections(): number;
  skipNextDiff(symbol: string): void;
  /** Returns how many trades of the symbol are now waiting to be withheld. */
  withholdTrades(symbol: string, count: number): number;
  /** Returns how many connections were told. */
  serverShutdown(graceMs: number): number;
  stats(): object;
  snapshotServed(): void;
}

export interface RestContext {
  source: MarketSource;
  trades: TradeLog;
  limiter: RequestWeightLimiter;
  controls: SimControls;
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const ok = (body: unknown): Reply => ({ status: 200, body });
const bad = (body: unknown): Reply => ({ status: 400, body });

/** A Binance endpoint: its request weight (which may depend on the parameters) and its answer. */
interface ApiEndpoint {
  weight(params: URLSearchParams): number;
  answer(params: URLSearchParams): Reply;
}

/** Checks a query; a failure is Binance's answer for the first parameter at fault. */
function parseQuery<T>(schema: z.ZodType<T>, params: URLSearchParams): { query: T } | { reply: Reply } {
  const result = schema.safeParse(Object.fromEntries(params));
  if (result.success) return { query: result.data };
  const name = String(result.error.issues[0]?.path[0] ?? '');
  return { reply: bad(params.get(name) ? illegalParameter(name) : missingParameter(name)) };
}

/** Binance's spot weight of a depth request: by its limit. */
function depthWeight(params: URLSearchParams): number {
  const limit = Number(params.get('limit') ?? 100);
  if (Number.isNaN(limit) || limit <= 100) return 5;
  return limit <= 500 ? 25 : limit <= 1000 ? 50 : 250;
}

/** Binance's spot weight of a 24 h ticker request: by how many symbols it asks for. */
function tickerWeight(params: URLSearchParams): number {
  if (params.get('symbol') !== null) return 2;
  const list = parseJson(params.get('symbols') ?? '');
  const count = Array.isArray(list) ? list.length : Number.POSITIVE_INFINITY;
  return count <= 20 ? 2 : count <= 100 ? 40 : 80;
}

/**
 * The REST side of the simulator: Binance's `/api/v3/ping`, `/api/v3/time`,
 * `/api/v3/depth`, `/api/v3/ticker/24hr`, `/api/v3/historicalTrades` and
 * `/api/v3/aggTrades`, each counted against the request-weight limit, and the `/sim/*`
 * control endpoints for people and tests in other processes.
 */
export function createRestHandler({
  source,
  trades,
  limiter,
  controls,
}: RestContext): (request: IncomingMessage, response: ServerResponse) => void {
  const symbols = new Set(source.symbols);
  const knownSymbol = (symbol: string): boolean => symbols.has(symbol);

  const api = new Map<string, ApiEndpoint>([
    ['/api/v3/ping', { weight: () => 1, answer: () => ok({}) }],
    ['/api/v3/time', { weight: () => 1, answer: () => ok({ serverTime: Date.now() }) }],
    ['/api/v3/depth', { weight: depthWeight, answer: depth }],
    ['/api/v3/ticker/24hr', { weight: tickerWeight, answer: ticker }],
    ['/api/v3/historicalTrades', { weight: () => 25, answer: historicalTrades }],
    ['/api/v3/aggTrades', { weight: () => 4, answer: aggTrades }],
  ]);

  function route(method: string, url: URL): Reply {
    const get = method === 'GET' || method === 'HEAD';
    const endpoint = api.get(url.pathname);
    if (endpoint) return get ? weighed(endpoint, url.searchParams) : notAllowed();
    switch (url.pathname) {
      case '/sim/stats':
        return get ? ok(controls.stats()) : notAllowed();
      case '/sim/drop-connections':
        return method === 'POST' ? ok({ dropped: controls.dropConnections() }) : notAllowed();
      case '/sim/skip-diff':
        return method === 'POST' ? skipDiff(url.searchParams) : notAllowed();
      case '/sim/withhold-trades':
        return method === 'POST' ? withholdTrades(url.searchParams) : notAllowed();
      case '/sim/server-shutdown':
        return method === 'POST' ? serverShutdown(url.searchParams) : notAllowed();
      default:
        return { status: 404, body: { code: -1, msg: `Unknown endpoint ${url.pathname}.` } };
    }
  }

  /** Counts the request's weight and answers, or refuses with 429 once the minute's weight is spent. */
  function weighed(endpoint: ApiEndpoint, params: URLSearchParams): Reply {
    const { used, retryAfterS } = limiter.spend(endpoint.weight(params), Date.now());
    const headers = { 'x-mbx-used-weight-1m': String(used) };
    if (retryAfterS !== undefined) {
      return {
        status: 429,
        body: tooMuchWeight(limiter.perMinute),
        headers: { ...headers, 'retry-after': String(retryAfterS) },
      };
    }
    return { ...endpoint.answer(params), headers };
  }

  function depth(params: URLSearchParams): Reply {
    const symbol = params.get('symbol');
    if (!symbol) return bad(binanceErrors.missingSymbol);
    const limitParam = params.get('limit');
    const limit = limitParam === null ? 100 : limitSchema.safeParse(limitParam);
    if (typeof limit !== 'number' && !limit.success) return bad(binanceErrors.badLimit);
    const body = symbolSchema.safeParse(symbol).success
      ? source.depth(symbol, typeof limit === 'number' ? limit : limit.data)
      : undefined;
    if (!body) return bad(binanceErrors.invalidSymbol);
    controls.snapshotServed();
    return ok(body);
  }

  function ticker(params: URLSearchParams): Reply {
    const all = source.tickers();
    const symbol = params.get('symbol');
    if (symbol !== null) {
      const one = all.find((t) => t.symbol === symbol);
      return one ? ok(one) : bad(binanceErrors.invalidSymbol);
    }
    const list = params.get('symbols');
    if (list !== null) {
      const wanted = symbolListSchema.safeParse(parseJson(list));
      if (!wanted.success) return bad(binanceErrors.badSymbols);
      const chosen = all.filter((t) => wanted.data.includes(t.symbol));
      return chosen.length === wanted.data.length ? ok(chosen) : bad(binanceErrors.invalidSymbol);
    }
    return ok(all);
  }

  /** Trades by id, oldest first. Ids the retention has dropped give an empty answer. */
  function historicalTrades(params: URLSearchParams): Reply {
    const parsed = parseQuery(historicalTradesQuery, params);
    if ('reply' in parsed) return parsed.reply;
    const { symbol, fromId, limit } = parsed.query;
    if (!knownSymbol(symbol)) return bad(binanceErrors.invalidSymbol);
    return ok(trades.historical(symbol, fromId, limit));
  }

  /**
   * Aggregates from an aggregate id, or from and/or until a time (Binance spot dropped its
   * one-hour limit on the span in 2022-12), or the latest ones.
   */
  function aggTrades(params: URLSearchParams): Reply {
    const parsed = parseQuery(aggTradesQuery, params);
    if ('reply' in parsed) return parsed.reply;
    const { symbol, ...query } = parsed.query;
    if (!knownSymbol(symbol)) return bad(binanceErrors.invalidSymbol);
    if (query.fromId !== undefined && (query.startTime !== undefined || query.endTime !== undefined)) {
      return bad(binanceErrors.badCombination);
    }
    return ok(trades.aggregates(symbol, query));
  }

  function skipDiff(params: URLSearchParams): Reply {
    const symbol = params.get('symbol');
    if (!symbol) return bad(binanceErrors.missingSymbol);
    try {
      controls.skipNextDiff(symbol);
      return ok({ symbol });
    } catch (error) {
      if (error instanceof UnknownSymbolError) return bad(binanceErrors.invalidSymbol);
      throw error;
    }
  }

  function withholdTrades(params: URLSearchParams): Reply {
    const parsed = parseQuery(withholdQuery, params);
    if ('reply' in parsed) return parsed.reply;
    const { symbol, count } = parsed.query;
    if (!knownSymbol(symbol)) return bad(binanceErrors.invalidSymbol);
    return ok({ symbol, pending: controls.withholdTrades(symbol, count) });
  }

  function serverShutdown(params: URLSearchParams): Reply {
    const parsed = parseQuery(shutdownQuery, params);
    if ('reply' in parsed) return parsed.reply;
    const graceMs = parsed.query.graceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
    return ok({ notified: controls.serverShutdown(graceMs), graceMs });
  }

  return (request: IncomingMessage, response: ServerResponse): void => {
    let reply: Reply;
    try {
      reply = route(request.method ?? 'GET', new URL(request.url ?? '/', 'http://localhost'));
    } catch (error) {
      reply = { status: 500, body: { code: -1000, msg: error instanceof Error ? error.message : String(error) } };
    }
    const text = JSON.stringify(reply.body);
    response.writeHead(reply.status, {
      ...reply.headers,
      'content-type': 'application/json;charset=UTF-8',
      'content-length': Buffer.byteLength(text),
    });
    response.end(request.method === 'HEAD' ? undefined : text);
  };
}

function notAllowed(): Reply {
  return { status: 405, body: { code: -1, msg: 'Method not allowed.' } };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
