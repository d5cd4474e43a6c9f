import {
  asciiBytes,
  decimalEnd,
  intEnd,
  intValue,
  levelsEnd,
  literalEnd,
  plainValueEnd,
  startsWith,
  stringEnd,
  symbolEnd,
} from '@candleflow/common/json-bytes';
import { SymbolInterner } from '@candleflow/common/symbol-interner';
import type { MarketMessage } from './binance-frames.js';

const symbols = new SymbolInterner();

/**
 * A checked fast path for the combined-stream frames Binance sends every time, laid out
 * exactly as `{"stream":"<sym>@trade","data":{...}}` (or `@depth`, `@depth@100ms`; the
 * data's members in any order, without white space): it
 * walks the bytes once, builds no object tree, and checks everything the common schemas
 * check (field types, decimal strings, symbol form, `U <= u`, the symbol matching the
 * stream). It answers only when it is sure the full parse would accept the frame with the
 * same result; anything else (whitespace, escapes, non-ASCII, nested unknown fields,
 * duplicate keys, numbers that are not small non-negative integers where integers are
 * expected, unknown streams, serverShutdown...) returns undefined, so that the full parse
 * decides, and says why.
 */
export function scanMarketFrame(bytes: Buffer): MarketMessage | undefined {
  if (!startsWith(bytes, 0, FRAME_HEAD)) return undefined;
  const symStart = FRAME_HEAD.length;
  let i = symStart;
  while (isLowerAlnum(bytes[i])) i++;
  const symEnd = i;
  if (symEnd === symStart || bytes[i] !== AT) return undefined;
  let kind: 'trade' | 'depth';
  if (startsWith(bytes, i + 1, TRADE_TAIL)) {
    kind = 'trade';
    i += 1 + TRADE_TAIL.length;
  } else if (startsWith(bytes, i + 1, DEPTH_TAIL)) {
    kind = 'depth';
    i += 1 + DEPTH_TAIL.length;
  } else if (startsWith(bytes, i + 1, DEPTH_100MS_TAIL)) {
    kind = 'depth';
    i += 1 + DEPTH_100MS_TAIL.length;
  } else {
    return undefined;
  }
  const dataStart = i;
  const fields = kind === 'trade' ? TRADE_FIELDS : DEPTH_FIELDS;
  const data = scanData(bytes, dataStart, fields, symStart, symEnd);
  // The data object must be followed by the frame's closing brace and nothing else.
  if (data === undefined || data.end !== bytes.length - 1 || bytes[data.end] !== RBRACE) return undefined;
  const raw = bytes.subarray(dataStart, data.end);
  const symbol = symbols.get(bytes, data.symStart, data.symEnd);
  if (kind === 'trade') return { kind, symbol, tradeId: data.t, raw };
  if (data.U > data.u) return undefined;
  return { kind, symbol, firstUpdateId: data.U, finalUpdateId: data.u, raw };
}

const FRAME_HEAD = asciiBytes('{"stream":"');
const TRADE_TAIL = asciiBytes('trade","data":');
const DEPTH_TAIL = asciiBytes('depth","data":');
const DEPTH_100MS_TAIL = asciiBytes('depth@100ms","data":');
const TRADE_EVENT = asciiBytes('"trade"');
const DEPTH_EVENT = asciiBytes('"depthUpdate"');

const COMMA = 0x2c;
const COLON = 0x3a;
const AT = 0x40;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const DIGIT_0 = 0x30;

/** What a single-letter key of the data object must hold, per stream type (the common schemas). */
type FieldRule = 'event' | 'int' | 'symbol' | 'decimal' | 'bool' | 'levels';
interface FieldSet {
  event: Buffer;
  /** By the key's character code. */
  rules: readonly (FieldRule | undefined)[];
  /** One bit per key of `rules`: all must be seen, each once. */
  bits: readonly number[];
  all: number;
}

function fieldSet(event: Buffer, fields: [string, FieldRule][]): FieldSet {
  const rules: (FieldRule | undefined)[] = new Array<FieldRule | undefined>(128).fill(undefined);
  const bits: number[] = new Array<number>(128).fill(0);
  fields.forEach(([key, rule], n) => {
    rules[key.charCodeAt(0)] = rule;
    bits[key.charCodeAt(0)] = 1 << n;
  });
  return { event, rules, bits, all: (1 << fields.length) - 1 };
}

const TRADE_FIELDS = fieldSet(TRADE_EVENT, [
  ['e', 'event'],
  ['E', 'int'],
  ['s', 'symbol'],
  ['t', 'int'],
  ['p', 'decimal'],
  ['q', 'decimal'],
  ['T', 'int'],
  ['m', 'bool'],
]);
const DEPTH_FIELDS = fieldSet(DEPTH_EVENT, [
  ['e', 'event'],
  ['E', 'int'],
  ['s', 'symbol'],
  ['U', 'int'],
  ['u', 'int'],
  ['b', 'levels'],
  ['a', 'levels'],
]);

interface ScannedData {
  /** Index just past the data object's closing brace. */
  end: number;
  symStart: number;
  symEnd: number;
  t: number;
  U: number;
  u: number;
}

/**
 * Checks the flat data object at `start` against `fields`; other keys may carry a plain
 * string, number, boolean or null (passed through untouched, as the loose schemas do).
 */
function scanData(
  b: Buffer,
  start: number,
  fields: FieldSet,
  streamSymStart: number,
  streamSymEnd: number,
): ScannedData | undefined {
  if (b[start] !== LBRACE) return undefined;
  const out: ScannedData = { end: -1, symStart: -1, symEnd: -1, t: -1, U: -1, u: -1 };
  let seen = 0;
  let i = start + 1;
  for (;;) {
    const keyEnd = stringEnd(b, i);
    if (keyEnd < 0 || b[keyEnd] !== COLON) return undefined;
    const key = keyEnd - i === 3 ? (b[i + 1] as number) : 0;
    const rule = fields.rules[key];
    const valueStart = keyEnd + 1;
    let valueEnd: number;
    if (rule === undefined) {
      valueEnd = plainValueEnd(b, valueStart);
    } else {
      const bit = fields.bits[key] as number;
      if ((seen & bit) !== 0) return undefined; // a duplicate key: JSON.parse keeps the last one
      seen |= bit;
      valueEnd = ruleValueEnd(b, valueStart, rule, fields.event);
      if (valueEnd < 0) return undefined;
      if (rule === 'symbol') {
        out.symStart = valueStart + 1;
        out.symEnd = valueEnd - 1;
        if (!sameSymbol(b, out.symStart, out.symEnd, streamSymStart, streamSymEnd)) return undefined;
      } else if (rule === 'int') {
        const value = intValue(b, valueStart, valueEnd);
        if (key === 0x74 /* t */) out.t = value;
        else if (key === 0x55 /* U */) out.U = value;
        else if (key === 0x75 /* u */) out.u = value;
      }
    }
    if (valueEnd < 0) return undefined;
    if (b[valueEnd] === COMMA) {
      i = valueEnd + 1;
      continue;
    }
    if (b[valueEnd] !== RBRACE || seen !== fields.all) return undefined;
    out.end = valueEnd + 1;
    return out;
  }
}

function ruleValueEnd(b: Buffer, i: number, rule: FieldRule, event: Buffer): number {
  switch (rule) {
    case 'event':
      return startsWith(b, i, event) ? i + event.length : -1;
    case 'int':
      return intEnd(b, i);
    case 'symbol':
      return symbolEnd(b, i);
    case 'decimal':
      return decimalEnd(b, i);
    case 'bool':
      return literalEnd(b, i);
    case 'levels':
      return levelsEnd(b, i);
  }
}

/** The stream's lower-case symbol upper-cased equals `s` (already checked as [A-Z0-9]). */
function sameSymbol(b: Buffer, sStart: number, sEnd: number, streamStart: number, streamEnd: number): boolean {
  if (sEnd - sStart !== streamEnd - streamStart) return false;
  for (let k = 0; k < sEnd - sStart; k++) {
    const c = b[streamStart + k] as number;
    if (b[sStart + k] !== (c >= 0x61 ? c - 0x20 : c)) return false;
  }
  return true;
}

function isLowerAlnum(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x61 && c <= 0x7a) || (c >= DIGIT_0 && c <= 0x39));
}
