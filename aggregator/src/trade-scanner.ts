import type { TradeEvent } from '@candleflow/common/binance-events';

/**
 * Reads a trade message laid out exactly as Binance (and the producer's REST repairs)
 * write it, `{"e":"trade","E":…,"s":"…","t":…,"p":"…","q":"…","T":…,"m":…[,"M":…]}`,
 * straight from its bytes: the event JSON.parse would give for them, without the string
 * copy and the generic parse that cost most per trade. Anything else (other key order,
 * white space, escapes, big or odd numbers) is undefined, for JSON.parse and the schema.
 */

const QUOTE = 0x22;
const ZERO = 0x30;
const NINE = 0x39;
const UPPER_A = 0x41;
const UPPER_Z = 0x5a;
/** Integers of up to 15 digits are safe (2^53 has 16); longer ones take the full path. */
const MAX_INT_DIGITS = 15;

/** A position in the value being scanned, or -1 once it stopped matching. */
type At = number;

function literal(bytes: Buffer, at: At, text: string): At {
  if (at < 0 || at + text.length > bytes.length) return -1;
  for (let i = 0; i < text.length; i++) if (bytes[at + i] !== text.charCodeAt(i)) return -1;
  return at + text.length;
}

/** End of a JSON integer without sign, fraction or leading zero; its value is in `lastInt`. */
let lastInt = 0;
function integer(bytes: Buffer, at: At): At {
  if (at < 0) return -1;
  let value = 0;
  let i = at;
  for (; i < bytes.length && i - at <= MAX_INT_DIGITS; i++) {
    const c = bytes[i] as number;
    if (c < ZERO || c > NINE) break;
    value = value * 10 + (c - ZERO);
  }
  const digits = i - at;
  if (digits === 0 || digits > MAX_INT_DIGITS || (digits > 1 && bytes[at] === ZERO)) return -1;
  lastInt = value;
  return i;
}

/** End of a string's content: the closing quote, or -1 before a backslash or control character. */
function stringEnd(bytes: Buffer, at: At): At {
  if (at < 0) return -1;
  for (let i = at; i < bytes.length; i++) {
    const c = bytes[i] as number;
    if (c === QUOTE) return i;
    if (c === 0x5c || c < 0x20 || c > 0x7e) return -1;
  }
  return -1;
}

function isSymbol(bytes: Buffer, start: number, end: number): boolean {
  if (end - start < 2 || end - start > 20) return false;
  for (let i = start; i < end; i++) {
    const c = bytes[i] as number;
    if ((c < ZERO || c > NINE) && (c < UPPER_A || c > UPPER_Z)) return false;
  }
  return true;
}

/** `true` or `false` at `at`: the end, the value in `lastBool`. */
let lastBool = false;
function boolean(bytes: Buffer, at: At): At {
  if (at < 0) return -1;
  lastBool = bytes[at] === 0x74;
  return literal(bytes, at, lastBool ? 'true' : 'false');
}

export function scanTradeEvent(bytes: Buffer): TradeEvent | undefined {
  let at = integer(bytes, literal(bytes, 0, '{"e":"trade","E":'));
  const E = lastInt;
  const symbolStart = literal(bytes, at, ',"s":"');
  at = stringEnd(bytes, symbolStart);
  if (at < 0 || !isSymbol(bytes, symbolStart, at)) return undefined;
  const symbolEnd = at;
  at = integer(bytes, literal(bytes, at, '","t":'));
  const t = lastInt;
  const priceStart = literal(bytes, at, ',"p":"');
  const priceEnd = stringEnd(bytes, priceStart);
  const qtyStart = literal(bytes, priceEnd, '","q":"');
  const qtyEnd = stringEnd(bytes, qtyStart);
  at = integer(bytes, literal(bytes, qtyEnd, '","T":'));
  const T = lastInt;
  at = boolean(bytes, literal(bytes, at, ',"m":'));
  const m = lastBool;
  // Binance's `M` (best match) may follow; nothing else may.
  if (at >= 0 && bytes[at] === 0x2c) at = boolean(bytes, literal(bytes, at, ',"M":'));
  if (at < 0 || at !== bytes.length - 1 || bytes[at] !== 0x7d) return undefined;
  return {
    e: 'trade',
    E,
    s: bytes.toString('latin1', symbolStart, symbolEnd),
    t,
    p: bytes.toString('latin1', priceStart, priceEnd),
    q: bytes.toString('latin1', qtyStart, qtyEnd),
    T,
    m,
  };
}
