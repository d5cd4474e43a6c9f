/**
 * Checked readers of JSON values laid out as Binance writes them, on the bytes of a
 * message: each takes the index where a value starts and returns the index just past it,
 * or -1 when the bytes are not that value in its plain form (no white space, escapes,
 * non-ASCII). The producer's frame scanner and the aggregator's trade scanner build on
 * them; anything they refuse goes to JSON.parse and the schemas.
 */

/** The bytes of an ASCII text: the fixed parts of a layout, compared with startsWith. */
export const asciiBytes = (text: string): Buffer => Buffer.from(text, 'latin1');
const TRUE = asciiBytes('true');
const FALSE = asciiBytes('false');
const NULL = asciiBytes('null');

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const DOT = 0x2e;
const MINUS = 0x2d;
const PLUS = 0x2b;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const DIGIT_0 = 0x30;

/** 15 digits are always below 2^53, so the value is exact; longer numbers go to the full parse. */
const MAX_INT_DIGITS = 15;

/** A string of printable ASCII without escapes; the index after its closing quote, or -1. */
export function stringEnd(b: Buffer, i: number): number {
  if (b[i] !== QUOTE) return -1;
  for (let k = i + 1; k < b.length; k++) {
    const c = b[k] as number;
    if (c === QUOTE) return k + 1;
    if (c < 0x20 || c > 0x7e || c === BACKSLASH) return -1;
  }
  return -1;
}

/** `"[A-Z0-9]{2,20}"`, the common schema's symbol. */
export function symbolEnd(b: Buffer, i: number): number {
  if (b[i] !== QUOTE) return -1;
  let k = i + 1;
  while (isUpperAlnum(b[k])) k++;
  const length = k - i - 1;
  return b[k] === QUOTE && length >= 2 && length <= 20 ? k + 1 : -1;
}

/**
 * `"\d+(\.\d+)?"`: DECIMAL_TEXT (common/decimal) read on the bytes, without building a
 * string; the scanner's tests check it against the schema on every kind of frame.
 */
export function decimalEnd(b: Buffer, i: number): number {
  if (b[i] !== QUOTE) return -1;
  let k = digitsEnd(b, i + 1);
  if (k === i + 1) return -1;
  if (b[k] === DOT) {
    const fraction = k + 1;
    k = digitsEnd(b, fraction);
    if (k === fraction) return -1;
  }
  return b[k] === QUOTE ? k + 1 : -1;
}

/** A non-negative JSON integer of at most 15 digits (no sign, fraction or exponent). */
export function intEnd(b: Buffer, i: number): number {
  const k = digitsEnd(b, i);
  const length = k - i;
  if (length === 0 || length > MAX_INT_DIGITS || (length > 1 && b[i] === DIGIT_0)) return -1;
  return k;
}

export function intValue(b: Buffer, start: number, end: number): number {
  let value = 0;
  for (let k = start; k < end; k++) value = value * 10 + ((b[k] as number) - DIGIT_0);
  return value;
}

/** `[]` or `[["<decimal>","<decimal>"],...]`. */
export function levelsEnd(b: Buffer, i: number): number {
  if (b[i] !== LBRACKET) return -1;
  let k = i + 1;
  if (b[k] === RBRACKET) return k + 1;
  for (;;) {
    if (b[k] !== LBRACKET) return -1;
    k = decimalEnd(b, k + 1);
    if (k < 0 || b[k] !== COMMA) return -1;
    k = decimalEnd(b, k + 1);
    if (k < 0 || b[k] !== RBRACKET) return -1;
    k++;
    if (b[k] === RBRACKET) return k + 1;
    if (b[k] !== COMMA) return -1;
    k++;
  }
}

/** `true` or `false`. */
export function literalEnd(b: Buffer, i: number): number {
  if (startsWith(b, i, TRUE)) return i + TRUE.length;
  if (startsWith(b, i, FALSE)) return i + FALSE.length;
  return -1;
}

/** A value of a key the schemas do not know: a plain string, number, boolean or null. */
export function plainValueEnd(b: Buffer, i: number): number {
  const c = b[i];
  if (c === QUOTE) return stringEnd(b, i);
  if (c === MINUS || isDigit(c)) return numberEnd(b, i);
  if (startsWith(b, i, NULL)) return i + NULL.length;
  return literalEnd(b, i);
}

/** JSON's number grammar: `-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`. */
function numberEnd(b: Buffer, i: number): number {
  let k = b[i] === MINUS ? i + 1 : i;
  const intStart = k;
  k = digitsEnd(b, k);
  if (k === intStart || (k - intStart > 1 && b[intStart] === DIGIT_0)) return -1;
  if (b[k] === DOT) {
    const fraction = k + 1;
    k = digitsEnd(b, fraction);
    if (k === fraction) return -1;
  }
  if (b[k] === 0x65 || b[k] === 0x45) {
    k++;
    if (b[k] === PLUS || b[k] === MINUS) k++;
    const exponent = k;
    k = digitsEnd(b, exponent);
    if (k === exponent) return -1;
  }
  return k;
}

function digitsEnd(b: Buffer, i: number): number {
  let k = i;
  while (isDigit(b[k])) k++;
  return k;
}

export function startsWith(b: Buffer, i: number, head: Buffer): boolean {
  if (i + head.length > b.length) return false;
  for (let k = 0; k < head.length; k++) if (b[i + k] !== head[k]) return false;
  return true;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= DIGIT_0 && c <= 0x39;
}

function isUpperAlnum(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x41 && c <= 0x5a) || (c >= DIGIT_0 && c <= 0x39));
}
