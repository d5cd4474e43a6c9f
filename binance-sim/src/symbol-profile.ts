import { SeededRandom, deriveSeed } from './seeded-random.js';

/**
 * What a synthetic symbol looks like: its starting price and the integer units the
 * market works in (price tick, quantity lot), chosen so that prices move by many ticks
 * and quantities look like Binance's.
 */
export interface SymbolProfile {
  symbol: string;
  /** Decimals of the price tick: price = ticks / 10^priceDecimals. */
  priceDecimals: number;
  /** Decimals of the quantity lot. */
  qtyDecimals: number;
  /** Starting mid price in ticks. */
  startTicks: number;
  /** A typical resting order, in lots. */
  typicalLots: number;
}

interface Scale {
  price: number;
  priceDecimals: number;
  qtyDecimals: number;
  typicalQty: number;
}

const KNOWN: Record<string, Scale> = {
  BTC: { price: 60_000, priceDecimals: 2, qtyDecimals: 5, typicalQty: 0.1 },
  ETH: { price: 3_000, priceDecimals: 2, qtyDecimals: 4, typicalQty: 2 },
  BNB: { price: 400, priceDecimals: 2, qtyDecimals: 3, typicalQty: 5 },
  SOL: { price: 150, priceDecimals: 2, qtyDecimals: 3, typicalQty: 20 },
  LTC: { price: 80, priceDecimals: 2, qtyDecimals: 3, typicalQty: 20 },
  AVAX: { price: 30, priceDecimals: 3, qtyDecimals: 2, typicalQty: 50 },
  LINK: { price: 15, priceDecimals: 3, qtyDecimals: 2, typicalQty: 100 },
  DOT: { price: 6, priceDecimals: 3, qtyDecimals: 2, typicalQty: 300 },
};

/** Base assets used, in order, when the simulator is asked for a number of symbols. */
const GENERATED_BASES = [
  'BTC',
  'ETH',
  'SOL',
  'BNB',
  'XRP',
  'ADA',
  'DOGE',
  'AVAX',
  'LINK',
  'DOT',
  'LTC',
  'TRX',
  'ATOM',
  'NEAR',
  'UNI',
  'APT',
  'ARB',
  'OP',
  'FIL',
  'ICP',
];

/** `count` plausible USDT symbols: well-known bases first, then `COIN21USDT`, `COIN22USDT`, ... */
export function generatedSymbols(count: number): string[] {
  const symbols: string[] = [];
  for (let i = 0; i < count; i++) {
    symbols.push(`${GENERATED_BASES[i] ?? `COIN${i + 1}`}USDT`);
  }
  return symbols;
}

const QUOTES = ['USDT', 'USDC', 'FDUSD', 'BUSD', 'TUSD', 'BTC', 'ETH', 'BNB', 'EUR', 'TRY'];

function baseAsset(symbol: string): string {
  const quote = QUOTES.find((q) => symbol.endsWith(q) && symbol.length > q.length);
  return quote ? symbol.slice(0, -quote.length) : symbol;
}

/** The profile of a symbol: known bases at their usual scale, anything else around 1. */
export function symbolProfile(symbol: string, seed: number): SymbolProfile {
  const rng = new SeededRandom(deriveSeed(seed, `profile:${symbol}`));
  const scale: Scale = KNOWN[baseAsset(symbol)] ?? {
    price: 0.2 + rng.next() * 4.8,
    priceDecimals: 5,
    qtyDecimals: 1,
    typicalQty: 500,
  };
  return {
    symbol,
    priceDecimals: scale.priceDecimals,
    qtyDecimals: scale.qtyDecimals,
    startTicks: Math.round(scale.price * 10 ** scale.priceDecimals),
    typicalLots: Math.round(scale.typicalQty * 10 ** scale.qtyDecimals),
  };
}
