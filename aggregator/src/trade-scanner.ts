import { scanUnitsIn } from '@candleflow/common/decimal';
import {
  asciiBytes,
  decimalEnd,
  intEnd,
  intValue,
  literalEnd,
  startsWith,
  symbolEnd,
} from '@candleflow/common/json-bytes';
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

const HEAD = asciiBytes('{"e":"trade","E":');
const SYMBOL_KEY = asciiBytes(',"s":');
const ID_KEY = asciiBytes(',"t":');
const PRICE_KEY = asciiBytes(',"p":');
const QTY_KEY = asciiBytes(',"q":');
const TIME_KEY = asciiBytes(',"T":');
const MAKER_KEY = asciiBytes(',"m":');
const BEST_MATCH_KEY = asciiBytes(',"M":');
const COMMA = 0x2c;
const RBRACE = 0x7d;
const LOWER_T = 0x74;

/**
 * Where the value after `key` at `at` starts, or -1. The readers of common/json-bytes
 * answer -1 for a start of -1, so a mismatch anywhere runs through to the end.
 */
function after(bytes: Buffer, at: number, key: Buffer): number {
  return startsWith(bytes, at, key) ? at + key.length : -1;
}

const symbols = new SymbolInterner();

/** The trade in `bytes`, if laid out as Binance writes it; `fromRest` is the record's header, not in the bytes. */
export function scanTrade(bytes: Buffer, fromRest: boolean): TradeMessage | undefined {
  const eventTime = after(bytes, 0, HEAD);
  const eventTimeEnd = intEnd(bytes, eventTime);
  const symbol = after(bytes, eventTimeEnd, SYMBOL_KEY);
  const symbolStop = symbolEnd(bytes, symbol);
  const id = after(bytes, symbolStop, ID_KEY);
  const idEnd = intEnd(bytes, id);
  const price = after(bytes, idEnd, PRICE_KEY);
  const priceEnd = decimalEnd(bytes, price);
  const qty = after(bytes, priceEnd, QTY_KEY);
  const qtyEnd = decimalEnd(bytes, qty);
  const tradeTime = after(bytes, qtyEnd, TIME_KEY);
  const tradeTimeEnd = intEnd(bytes, tradeTime);
  const maker = after(bytes, tradeTimeEnd, MAKER_KEY);
  let end = literalEnd(bytes, maker);
  // Binance's `M` (best match) may follow; nothing else may.
  if (bytes[end] === COMMA) end = literalEnd(bytes, after(bytes, end, BEST_MATCH_KEY));
  if (end < 0 || end !== bytes.length - 1 || bytes[end] !== RBRACE) return undefined;
  // The decimals' texts lie between their quotes.
  const priceUnits = scanUnitsIn(bytes, price + 1, priceEnd - 1);
  const qtyUnits = scanUnitsIn(bytes, qty + 1, qtyEnd - 1);
  if (typeof priceUnits !== 'bigint' || typeof qtyUnits !== 'bigint' || priceUnits === 0n || qtyUnits === 0n) {
    return undefined;
  }
  return {
    symbol: symbols.get(bytes, symbol + 1, symbolStop - 1),
    tradeId: intValue(bytes, id, idEnd),
    price: priceUnits,
    qty: qtyUnits,
    tradeTimeMs: intValue(bytes, tradeTime, tradeTimeEnd),
    isBuyerMaker: bytes[maker] === LOWER_T,
    eventTimeMs: intValue(bytes, eventTime, eventTimeEnd),
    fromRest,
  };
}
