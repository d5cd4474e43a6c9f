/** Binance's `GET /api/v3/ticker/24hr` entry (the fields clients commonly read). */
export interface Ticker24hr {
  symbol: string;
  priceChange: string;
  priceChangePercent: string;
  weightedAvgPrice: string;
  lastPrice: string;
  lastQty: string;
  bidPrice: string;
  bidQty: string;
  askPrice: string;
  askQty: string;
  openPrice: string;
  highPrice: string;
  lowPrice: string;
  volume: string;
  quoteVolume: string;
  openTime: number;
  closeTime: number;
  firstId: number;
  lastId: number;
  count: number;
}

const fixed = (value: number): string => value.toFixed(8);

/**
 * Rolling statistics of a symbol's trades for the 24 h ticker. The simulator's "24 h" is
 * everything since it started, which is what a short-lived test or demo needs.
 */
export class TickerAccumulator {
  private open = 0;
  private high = 0;
  private low = 0;
  private last = 0;
  private lastQty = 0;
  private volume = 0;
  private quoteVolume = 0;
  private firstId = -1;
  private lastId = -1;
  private count = 0;
  private closeTime: number;

  constructor(
    readonly symbol: string,
    private readonly openTime: number,
  ) {
    this.closeTime = openTime;
  }

  add(price: number, qty: number, tradeId: number, timeMs: number): void {
    if (this.count === 0) {
      this.open = price;
      this.high = price;
      this.low = price;
      this.firstId = tradeId;
    }
    if (price > this.high) this.high = price;
    if (price < this.low) this.low = price;
    this.last = price;
    this.lastQty = qty;
    this.volume += qty;
    this.quoteVolume += price * qty;
    this.lastId = tradeId;
    this.count++;
    this.closeTime = timeMs;
  }

  /** The ticker entry; `best` is the book's top of book (strings as Binance writes them). */
  toTicker(best: { bidPrice: string; bidQty: string; askPrice: string; askQty: string }): Ticker24hr {
    const change = this.last - this.open;
    return {
      symbol: this.symbol,
      priceChange: fixed(change),
      priceChangePercent: (this.open > 0 ? (change / this.open) * 100 : 0).toFixed(3),
      weightedAvgPrice: fixed(this.volume > 0 ? this.quoteVolume / this.volume : 0),
      lastPrice: fixed(this.last),
      lastQty: fixed(this.lastQty),
      ...best,
      openPrice: fixed(this.open),
      highPrice: fixed(this.high),
      lowPrice: fixed(this.low),
      volume: fixed(this.volume),
      quoteVolume: fixed(this.quoteVolume),
      openTime: this.openTime,
      closeTime: this.closeTime,
      firstId: this.firstId,
      lastId: this.lastId,
      count: this.count,
    };
  }
}
