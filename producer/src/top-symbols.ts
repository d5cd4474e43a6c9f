import { z } from 'zod';
import { describeZodError } from '@candleflow/common/binance-events';

const tickerSchema = z.array(
  z.looseObject({
    symbol: z.string(),
    quoteVolume: z.string(),
  }),
);

/**
 * The `count` USDT pairs with the most 24 h quote volume, from the body of
 * `GET /api/v3/ticker/24hr`. Throws when the body is not a ticker list.
 */
export function rankTopUsdtPairs(body: unknown, count: number): string[] {
  const parsed = tickerSchema.safeParse(body);
  if (!parsed.success) throw new Error(`unexpected ticker/24hr answer: ${describeZodError(parsed.error)}`);
  return parsed.data
    .filter((t) => /^[A-Z0-9]{2,16}USDT$/.test(t.symbol))
    .map((t) => ({ symbol: t.symbol, volume: Number(t.quoteVolume) }))
    .filter((t) => Number.isFinite(t.volume))
    .sort((a, b) => b.volume - a.volume || a.symbol.localeCompare(b.symbol))
    .slice(0, count)
    .map((t) => t.symbol);
}

/** Asks Binance for the 24 h tickers and ranks them (weight 80, once at start). */
export async function fetchTopUsdtPairs(restUrl: string, count: number, timeoutMs = 15_000): Promise<string[]> {
  const url = `${restUrl.replace(/\/+$/, '')}/api/v3/ticker/24hr`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    throw new Error(`cannot reach BINANCE_REST_URL=${restUrl}: ${String(error)}${cause}`, { cause: error });
  }
  const text = await response.text();
  if (!response.ok) throw new Error(`GET ${url} answered HTTP ${response.status}: ${text.slice(0, 200)}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`GET ${url} did not answer JSON: ${text.slice(0, 200)}`);
  }
  const symbols = rankTopUsdtPairs(body, count);
  if (symbols.length === 0) throw new Error(`GET ${url} listed no USDT pair`);
  return symbols;
}
