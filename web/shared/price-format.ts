/**
 * Decimals to show for a price so that about six significant digits are visible:
 * 65012.34 (BTC), 3012.456 (ETH), 0.123456 (small caps), never more than 8 (Binance's tick).
 * Display only, on Float64s: the browser bundle takes nothing from @candleflow/common, whose
 * package exports resolve to its compiled output, absent before `tsc -b` (as under `npm run stack`).
 */
export function priceDecimals(price: number): number {
  if (!Number.isFinite(price) || price === 0) return 2;
  const magnitude = Math.floor(Math.log10(Math.abs(price)));
  return Math.min(8, Math.max(2, 5 - magnitude));
}

export function formatPrice(price: number, decimals = priceDecimals(price)): string {
  return price.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** 1234567 -> "1.23M", 0.5 -> "0.5": volumes in little space. */
export function formatQuantity(qty: number): string {
  const abs = Math.abs(qty);
  if (abs >= 1e9) return `${(qty / 1e9).toFixed(2)}B`;
  if (abs >= 1e6) return `${(qty / 1e6).toFixed(2)}M`;
  if (abs >= 1e4) return `${(qty / 1e3).toFixed(1)}K`;
  if (abs >= 100) return qty.toFixed(1);
  return Number(qty.toPrecision(4)).toString();
}

/** "+1.23%" / "-0.40%" */
export function formatPercent(pct: number): string {
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(2)}%`;
}
