/**
 * Binance writes prices and quantities as decimal strings with eight decimals
 * ("60000.12000000"). The synthetic market keeps them as integers of a per-symbol unit
 * (a price tick, a quantity lot) and formats them here.
 */
export const BINANCE_DECIMALS = 8;

const ZEROS = '00000000';

/** `units` of 10^-`decimals`, written with eight decimals. `decimals` is 0..8. */
export function formatFixed(units: number, decimals: number): string {
  if (decimals === 0) return `${units}.${ZEROS}`;
  const scale = 10 ** decimals;
  const whole = Math.floor(units / scale);
  const fraction = String(units - whole * scale).padStart(decimals, '0');
  return `${whole}.${fraction}${ZEROS.slice(decimals)}`;
}

const UNITS_PER_ONE = 10n ** BigInt(BINANCE_DECIMALS);

/** A decimal string as a count of 10^-8, Binance's finest step (finer digits are dropped). */
function toUnits(text: string): bigint {
  const [whole = '0', fraction = ''] = text.split('.');
  return BigInt(whole) * UNITS_PER_ONE + BigInt((fraction + ZEROS).slice(0, BINANCE_DECIMALS));
}

function fromUnits(units: bigint): string {
  return `${units / UNITS_PER_ONE}.${(units % UNITS_PER_ONE).toString().padStart(BINANCE_DECIMALS, '0')}`;
}

/** `a + b`, exactly, with eight decimals: the quantity of an aggregate trade. */
export function addDecimals(a: string, b: string): string {
  return fromUnits(toUnits(a) + toUnits(b));
}

/** `price × qty` with eight decimals (cut, not rounded): a trade's quote quantity. */
export function multiplyDecimals(price: string, qty: string): string {
  return fromUnits((toUnits(price) * toUnits(qty)) / UNITS_PER_ONE);
}
