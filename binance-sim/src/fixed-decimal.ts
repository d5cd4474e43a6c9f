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
