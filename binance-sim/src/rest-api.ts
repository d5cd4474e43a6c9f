import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { UnknownSymbolError, type MarketSource } from './market-source.js';

/** The depth limits Binance accepts. */
export const DEPTH_LIMITS = [5, 10, 20, 50, 100, 500, 1000, 5000] as const;

/** Binance's error bodies for the requests the simulator refuses. */
export const binanceErrors = {
  missingSymbol: { code: -1102, msg: "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed." },
  invalidSymbol: { code: -1121, msg: 'Invalid symbol.' },
  badLimit: {
    code: -1100,
    msg: `Illegal characters found in parameter 'limit'; legal range is '${DEPTH_LIMITS.join(', ')}'.`,
  },
  badSymbols: { code: -1100, msg: "Illegal characters found in parameter 'symbols'." },
} as const;

const symbolSchema = z.string().regex(/^[A-Z0-9]{2,20}$/);
const limitSchema = z.coerce
  .number()
  .int()
  .refine((n) => (DEPTH_LIMITS as readonly number[]).includes(n));
const symbolListSchema = z.array(symbolSchema).min(1);

/** The control endpoints' actions, implemented by the simulator. */
export interface SimControls {
  dropConnections(): number;
  skipNextDiff(symbol: string): void;
  stats(): object;
  snapshotServed(): void;
}

interface Reply {
  status: number;
  body: unknown;
}

const ok = (body: unknown): Reply => ({ status: 200, body });
const bad = (body: unknown): Reply => ({ status: 400, body });

/**
 * The REST side of the simulator: Binance's `/api/v3/ping`, `/api/v3/time`,
 * `/api/v3/depth` and `/api/v3/ticker/24hr`, and the `/sim/*` control endpoints for
 * people and tests in other processes.
 */
export function createRestHandler(
  source: MarketSource,
  controls: SimControls,
): (request: IncomingMessage, response: ServerResponse) => void {
  function route(method: string, url: URL): Reply {
    const get = method === 'GET' || method === 'HEAD';
    switch (url.pathname) {
      case '/api/v3/ping':
        return get ? ok({}) : notAllowed();
      case '/api/v3/time':
        return get ? ok({ serverTime: Date.now() }) : notAllowed();
      case '/api/v3/depth':
        return get ? depth(url.searchParams) : notAllowed();
      case '/api/v3/ticker/24hr':
        return get ? ticker(url.searchParams) : notAllowed();
      case '/sim/stats':
        return get ? ok(controls.stats()) : notAllowed();
      case '/sim/drop-connections':
        return method === 'POST' ? ok({ dropped: controls.dropConnections() }) : notAllowed();
      case '/sim/skip-diff':
        return method === 'POST' ? skipDiff(url.searchParams) : notAllowed();
      default:
        return { status: 404, body: { code: -1, msg: `Unknown endpoint ${url.pathname}.` } };
    }
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
    const symbols = params.get('symbols');
    if (symbols !== null) {
      const list = symbolListSchema.safeParse(parseJson(symbols));
      if (!list.success) return bad(binanceErrors.badSymbols);
      const chosen = all.filter((t) => list.data.includes(t.symbol));
      return chosen.length === list.data.length ? ok(chosen) : bad(binanceErrors.invalidSymbol);
    }
    return ok(all);
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

  return (request: IncomingMessage, response: ServerResponse): void => {
    let reply: Reply;
    try {
      reply = route(request.method ?? 'GET', new URL(request.url ?? '/', 'http://localhost'));
    } catch (error) {
      reply = { status: 500, body: { code: -1000, msg: error instanceof Error ? error.message : String(error) } };
    }
    const text = JSON.stringify(reply.body);
    response.writeHead(reply.status, {
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
