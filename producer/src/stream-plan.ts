import { depthStream, tradeStream } from '@candleflow/common/binance-events';

/** The streams one WebSocket connection subscribes to, and the symbols they belong to. */
export interface ConnectionPlan {
  symbols: string[];
  streams: string[];
}

/** A symbol's trade and depth streams, in subscription order. */
export function symbolStreams(symbol: string): string[] {
  return [tradeStream(symbol), depthStream(symbol)];
}

/**
 * Splits the symbols over as few connections as the per-connection stream limit allows.
 * Both streams of a symbol stay on one connection, so a reconnect affects whole symbols.
 */
export function planConnections(symbols: readonly string[], maxStreamsPerConnection: number): ConnectionPlan[] {
  const perSymbol = symbolStreams('X').length;
  const symbolsPerConnection = Math.floor(maxStreamsPerConnection / perSymbol);
  if (symbolsPerConnection < 1) {
    throw new Error(`at least ${perSymbol} streams per connection are needed, got ${maxStreamsPerConnection}`);
  }
  const plans: ConnectionPlan[] = [];
  for (let i = 0; i < symbols.length; i += symbolsPerConnection) {
    const chunk = symbols.slice(i, i + symbolsPerConnection);
    plans.push({ symbols: chunk, streams: chunk.flatMap(symbolStreams) });
  }
  return plans;
}

/** `{base}/stream?streams=a/b/c`, the combined-stream endpoint. */
export function combinedStreamUrl(baseUrl: string, streams: readonly string[]): string {
  return `${baseUrl.replace(/\/+$/, '')}/stream?streams=${streams.join('/')}`;
}
