/**
 * Binance's decimal strings ("60000.12000000") held exactly: as BigInt counts of 10^-8,
 * Binance's finest step and the fraction of the stack's Decimal(18, 8) columns. Sums and
 * products stay exact; only the final conversion to a Float64 rounds, once.
 */

/** Fraction digits of Binance's prices and quantities, and of the Decimal(18, 8) columns. */
export const DECIMAL_SCALE = 8;
/** Integer digits a Decimal(18, 8) column holds. */
export const DECIMAL_INTEGER_DIGITS = 10;

/** The text of a price or quantity, as Binance writes them: digits, optionally a point and more digits. */
export const DECIMAL_TEXT = /^\d+(\.\d+)?$/;

/** Why a text is not a price or quantity: not `digits[.digits]`, or beyond Decimal(18, 8). */
export type DecimalFault = 'not_decimal' | 'out_of_range';

const ZERO = 48;
const NINE = 57;
const POINT = 46;
/** 10^k as Numbers, exact up to 10^22. */
const POWERS = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * A text of DECIMAL_TEXT's form (no sign, no exponent) as units of 10^-8, in one pass: `out_of_range` when it has a non-zero digit past the
 * eighth decimal or more than ten integer digits (leading zeros aside).
 */
export function scanUnits(text: string): bigint | DecimalFault {
  return scanUnitsIn(text, 0, text.length);
}

/**
 * `scanUnits` on `source[start, end)`: a string, or the ASCII bytes of a message, read in
 * place so that a hot path builds no string for a number it only needs the value of.
 */
export function scanUnitsIn(source: string | Uint8Array, start: number, stop: number): bigint | DecimalFault {
  const text = typeof source === 'string';
  const end = Math.min(stop, source.length);
  let whole = 0;
  let wholeDigits = 0;
  let i = start;
  for (; i < end; i++) {
    const c = text ? source.charCodeAt(i) : (source[i] as number);
    if (c < ZERO || c > NINE) break;
    whole = whole * 10 + (c - ZERO);
    if (whole > 0) wholeDigits++;
  }
  if (i === start) return 'not_decimal';
  let fraction = 0;
  let fractionDigits = 0;
  let finer = false;
  if (i < end) {
    if ((text ? source.charCodeAt(i) : source[i]) !== POINT || i === end - 1) return 'not_decimal';
    for (i++; i < end; i++) {
      const c = text ? source.charCodeAt(i) : (source[i] as number);
      if (c < ZERO || c > NINE) return 'not_decimal';
      if (fractionDigits < DECIMAL_SCALE) {
        fraction = fraction * 10 + (c - ZERO);
        fractionDigits++;
      } else if (c !== ZERO) finer = true;
    }
  }
  if (finer || wholeDigits > DECIMAL_INTEGER_DIGITS) return 'out_of_range';
  // Ten digits times 10^8 can pass 2^53: the whole part then goes through BigInt.
  const fractionUnits = fraction * (POWERS[DECIMAL_SCALE - fractionDigits] ?? 1);
  const units = whole * 1e8 + fractionUnits;
  return Number.isSafeInteger(units) ? BigInt(units) : BigInt(whole) * 100_000_000n + BigInt(fractionUnits);
}

/** `scanUnits` for a text that must be a price or quantity; throws naming the text otherwise. */
export function parseUnits(text: string): bigint {
  const units = scanUnits(text);
  if (typeof units === 'bigint') return units;
  throw new Error(
    units === 'not_decimal'
      ? `not a decimal number: ${JSON.stringify(text.slice(0, 40))}`
      : `${text.slice(0, 40)} has more than ${DECIMAL_INTEGER_DIGITS} integer or ${DECIMAL_SCALE} fraction digits`,
  );
}

/** `units` of 10^-`scale` as plain decimal text without trailing fraction zeros: "1.5", "-0.001", "42". */
export function formatUnits(units: bigint, scale = DECIMAL_SCALE): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  let end = digits.length;
  while (end > whole.length && digits.charCodeAt(end - 1) === ZERO) end--;
  const fraction = digits.slice(whole.length, end);
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

const ZEROS = '00000000';

/** `units` of 10^-`decimals` (0..8) written with eight decimals, as Binance writes prices: "60000.12000000". */
export function formatFixed(units: number | bigint, decimals = DECIMAL_SCALE): string {
  if (typeof units === 'bigint') {
    const text = formatUnits(units, decimals);
    const point = text.indexOf('.');
    return point < 0 ? `${text}.${ZEROS}` : text + ZEROS.slice(text.length - point - 1);
  }
  if (decimals === 0) return `${units}.${ZEROS}`;
  const scale = POWERS[decimals] ?? 1;
  const whole = Math.floor(units / scale);
  const fraction = String(units - whole * scale).padStart(decimals, '0');
  return `${whole}.${fraction}${ZEROS.slice(decimals)}`;
}

/** The nearest Float64 to `units` of 10^-`scale` (JavaScript's decimal parsing rounds correctly). */
export function unitsToNumber(units: bigint, scale = DECIMAL_SCALE): number {
  return Number(formatUnits(units, scale));
}

/** `numerator / denominator` rounded half away from zero. */
export function divideRounded(numerator: bigint, denominator: bigint): bigint {
  if (denominator === 0n) throw new Error('division by zero');
  const negative = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  const rounded = (2n * n + d) / (2n * d);
  return negative ? -rounded : rounded;
}

/** Writes a finite number without exponent notation: 1e-8 -> "0.00000001", 1e21 -> "1000000000000000000000". */
function plainDecimal(value: number): string {
  const text = String(value);
  const exponentAt = text.indexOf('e');
  if (exponentAt < 0) return text;
  const exponent = Number(text.slice(exponentAt + 1));
  let mantissa = text.slice(0, exponentAt);
  const negative = mantissa.startsWith('-');
  if (negative) mantissa = mantissa.slice(1);
  const pointAt = mantissa.indexOf('.');
  const digits = mantissa.replace('.', '');
  const point = (pointAt < 0 ? mantissa.length : pointAt) + exponent;
  const body =
    point <= 0
      ? `0.${'0'.repeat(-point)}${digits}`
      : point >= digits.length
        ? digits + '0'.repeat(point - digits.length)
        : `${digits.slice(0, point)}.${digits.slice(point)}`;
  return (negative ? '-' : '') + body;
}

/**
 * The units of 10^-8 a Float64 stands for when written in its shortest round-trip form,
 * rounded half away from zero: the decimal a Float64 column was converted from, when that
 * was a Decimal(18, 8) (whose values are all further apart than a Float64's ulp).
 */
export function unitsOfNumber(value: number): bigint {
  if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
  const text = plainDecimal(value);
  const negative = text.startsWith('-');
  const [whole = '0', fraction = ''] = (negative ? text.slice(1) : text).split('.');
  const kept = BigInt(whole + (fraction + ZEROS).slice(0, DECIMAL_SCALE));
  const rounded = fraction.length > DECIMAL_SCALE && fraction.charCodeAt(DECIMAL_SCALE) >= 53 ? kept + 1n : kept;
  return negative ? -rounded : rounded;
}

/** The decimal text a Float64 price or quantity read back from ClickHouse was stored from. */
export function storedDecimalText(value: number): string {
  return formatUnits(unitsOfNumber(value));
}

/**
 * A decimal text without trailing or leading zeros ("297.32000000" -> "297.32"), by text
 * alone (no BigInt: order books key every level by it).
 */
export function canonicalDecimal(value: string): string {
  if (!value.includes('.')) return value.replace(/^0+(?=\d)/, '');
  const trimmed = value.replace(/0+$/, '').replace(/\.$/, '');
  return trimmed.replace(/^0+(?=\d)/, '');
}

/** `a + b`, exactly, with eight decimals: the quantity of an aggregate trade. */
export function addDecimals(a: string, b: string): string {
  return formatFixed(parseUnits(a) + parseUnits(b));
}

/** `price × qty` with eight decimals (cut, not rounded): a trade's quote quantity. */
export function multiplyDecimals(price: string, qty: string): string {
  return formatFixed((parseUnits(price) * parseUnits(qty)) / 100_000_000n);
}
