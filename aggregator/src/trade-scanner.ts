import { scanUnitsIn } from '@candleflow/common/decimal';
import { SymbolInterner } from '@candleflow/common/symbol-interner';
import type { TradeMessage } from './topic-messages.js';

/**
 * Reads a trade message laid out exactly as Binance (and the producer's REST repairs)
 * write it, `{"e":"trade","E":…,"s":"…","t":…,"p":"…","q":"…","T":…,"m":…[,"M":…]}`,
 * straight from its bytes into the trade JSON.parse and the schema would give, without
 * the string copies and the generic parse that cost most per trade: the decimals are read
 * in place, the symbol is a shared string. Anything else (other key order, white space,
 * escapes, big or odd numbers, a price or quantity that is zero or too precise) is
 * undefined, for JSON.parse and the schema, which also say what is wrong.
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

const bytesOf = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
const HEAD = bytesOf('{"e":"trade","E":');
const SYMBOL_KEY = bytesOf(',"s":"');
const ID_KEY = bytesOf('","t":');
const PRICE_KEY = bytesOf(',"p":"');
const QTY_KEY = bytesOf('","q":"');
const TIME_KEY = bytesOf('","T":');
const MAKER_KEY = bytesOf(',"m":');
const BEST_MATCH_KEY = bytesOf(',"M":');
const TRUE = bytesOf('true');
const FALSE = bytesOf('false');

/** The value of the last integer or boolean read (an object: cheaper to write than a module-level `let`). */
const last = { int: 0, bool: false };

function literal(bytes: Buffer, at: At, text: Uint8Array): At {
  if (at < 0 || at + text.length > bytes.length) return -1;
  for (let i = 0; i < text.length; i++) if (bytes[at + i] !== text[i]) return -1;
  return at + text.length;
}

/** End of a JSON integer without sign, fraction or leading zero; its value goes to `last.int`. */
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
  last.int = value;
  return i;
}

/** The closing quote of a symbol's text, `[A-Z0-9]{2,20}`, or -1. */
function symbolEnd(bytes: Buffer, at: At): At {
  if (at < 0) return -1;
  let i = at;
  for (; i < bytes.length; i++) {
    const c = bytes[i] as number;
    if ((c < ZERO || c > NINE) && (c < UPPER_A || c > UPPER_Z)) break;
  }
  return bytes[i] === QUOTE && i - at >= 2 && i - at <= 20 ? i : -1;
}

/** The closing quote of a decimal's text (digits and points; scanUnitsIn checks the form), or -1. */
function decimalEnd(bytes: Buffer, at: At): At {
  if (at < 0) return -1;
  let i = at;
  for (; i < bytes.length; i++) {
    const c = bytes[i] as number;
    if ((c < ZERO || c > NINE) && c !== 0x2e) break;
  }
  return bytes[i] === QUOTE ? i : -1;
}

/** `true` or `false` at `at`: the end, the value in `last.bool`. */
function boolean(bytes: Buffer, at: At): At {
  if (at < 0) return -1;
  last.bool = bytes[at] === 0x74;
  return literal(bytes, at, last.bool ? TRUE : FALSE);
}

const symbols = new SymbolInterner();

/** The trade in `bytes`, if laid out as Binance writes it; `fromRest` is the record's header, not in the bytes. */
export function scanTrade(bytes: Buffer, fromRest: boolean): TradeMessage | undefined {
  let at = integer(bytes, literal(bytes, 0, HEAD));
  const E = last.int;
  const symbolStart = literal(bytes, at, SYMBOL_KEY);
  const symbolStop = symbolEnd(bytes, symbolStart);
  at = integer(bytes, literal(bytes, symbolStop, ID_KEY));
  const t = last.int;
  const priceStart = literal(bytes, at, PRICE_KEY);
  const priceEnd = decimalEnd(bytes, priceStart);
  const qtyStart = literal(bytes, priceEnd, QTY_KEY);
  const qtyEnd = decimalEnd(bytes, qtyStart);
  at = integer(bytes, literal(bytes, qtyEnd, TIME_KEY));
  const T = last.int;
  at = boolean(bytes, literal(bytes, at, MAKER_KEY));
  const m = last.bool;
  // Binance's `M` (best match) may follow; nothing else may.
  if (at >= 0 && bytes[at] === 0x2c) at = boolean(bytes, literal(bytes, at, BEST_MATCH_KEY));
  if (at < 0 || at !== bytes.length - 1 || bytes[at] !== 0x7d) return undefined;
  const price = scanUnitsIn(bytes, priceStart, priceEnd);
  const qty = scanUnitsIn(bytes, qtyStart, qtyEnd);
  if (typeof price !== 'bigint' || typeof qty !== 'bigint' || price === 0n || qty === 0n) return undefined;
  return {
    symbol: symbols.get(bytes, symbolStart, symbolStop),
    tradeId: t,
    price,
    qty,
    tradeTimeMs: T,
    isBuyerMaker: m,
    eventTimeMs: E,
    fromRest,
  };
}
