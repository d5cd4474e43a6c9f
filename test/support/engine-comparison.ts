/**
 * Comparing what two ClickHouse engines answer to the same statement: pure functions, no
 * I/O, so that the failure message itself is tested (test/engine-comparison.test.ts).
 *
 * Answers are compared after normalising what legitimately differs between versions and
 * nothing else: a 64-bit integer may come as a JSON string or a JSON number, a float may be
 * written in another (round-trip exact) text form, and rows of a query without ORDER BY may
 * come in any order. Floats are compared exactly (the same double), column names and their
 * order too.
 */

/** The formats the project reads results in; `none` for statements without a result. */
export type ResultFormat = 'JSONEachRow' | 'TabSeparated' | 'none';

/** How one engine answered a statement. */
export type Outcome = { ok: true; text: string } | { ok: false; error: string };

export interface EngineAnswer {
  /** The engine and its version, e.g. `ClickHouse 18.16.1 (server)`. */
  engine: string;
  outcome: Outcome;
}

export interface ComparedStatement {
  /** Who sends it, e.g. `web MarketReader.windowsJson`. */
  label: string;
  sql: string;
  format: ResultFormat;
}

const integerText = /^-?\d+$/;
const floatText = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const specialFloats = new Map([
  ['nan', 'NaN'],
  ['-nan', 'NaN'],
  ['inf', 'Infinity'],
  ['+inf', 'Infinity'],
  ['-inf', '-Infinity'],
]);

/**
 * A number's exact identity: an integral one by its digits (whether written `1e10` or
 * `10000000000`), any other double by its shortest round-trip text, which differs for
 * every double (and tells -0 from 0).
 */
function numberKey(value: number): string {
  if (Object.is(value, -0)) return 'float:-0';
  return Number.isInteger(value) ? `int:${BigInt(value)}` : `float:${String(value)}`;
}

/** One JSON value, normalised: integers (numbers or digit strings) as their digits, floats by their double. */
function jsonValueKey(value: unknown): unknown {
  if (typeof value === 'number') return numberKey(value);
  if (typeof value === 'string') return integerText.test(value) ? `int:${BigInt(value)}` : `str:${value}`;
  if (Array.isArray(value)) return value.map(jsonValueKey);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).map(([name, field]) => [name, jsonValueKey(field)]);
  }
  return value;
}

/** One TabSeparated field, normalised the same way (text that is not a number stays text). */
function tsvFieldKey(field: string): string {
  if (field === '-0') return 'float:-0';
  if (integerText.test(field)) return `int:${BigInt(field)}`;
  const special = specialFloats.get(field);
  if (special !== undefined) return `float:${special}`;
  if (floatText.test(field)) return numberKey(Number(field));
  return `str:${field}`;
}

/** Whether the statement fixes the order of its rows (an ORDER BY anywhere: a cheap, conservative test). */
export function isOrdered(sql: string): boolean {
  return /\bORDER\s+BY\b/i.test(sql);
}

/**
 * The rows of an answer as comparable keys, in answer order when `ordered`, sorted
 * otherwise. Throws when the text is not in `format` (a JSON line that does not parse).
 */
export function normalisedRows(format: ResultFormat, text: string, ordered: boolean): string[] {
  if (format === 'none') return [];
  const lines = text.split('\n').filter((line) => line.length > 0);
  const rows = lines.map((line) =>
    JSON.stringify(format === 'JSONEachRow' ? jsonValueKey(JSON.parse(line)) : line.split('\t').map(tsvFieldKey)),
  );
  return ordered ? rows : rows.sort();
}

const maxShownChars = 2000;

function shown(text: string): string {
  const body = text.length > maxShownChars ? `${text.slice(0, maxShownChars)}… (${text.length} chars)` : text;
  return body.replace(/\n$/, '').replace(/\n/g, '\n      ');
}

function describe(answer: EngineAnswer, format: ResultFormat): string {
  const { outcome } = answer;
  if (!outcome.ok) return `  ${answer.engine}: ERROR ${shown(outcome.error)}`;
  if (format === 'none') return `  ${answer.engine}: ok`;
  const rows = outcome.text.split('\n').filter((l) => l.length > 0).length;
  return `  ${answer.engine}: ${rows} row(s)${rows > 0 ? `\n      ${shown(outcome.text)}` : ''}`;
}

function report(statement: ComparedStatement, what: string, a: EngineAnswer, b: EngineAnswer, detail = ''): string {
  return [
    `${statement.label}: ${what}`,
    `  SQL: ${statement.sql.replace(/\s*\n\s*/g, ' ')}`,
    describe(a, statement.format),
    describe(b, statement.format),
    ...(detail ? [`  ${detail}`] : []),
  ].join('\n');
}

function rowsOrError(format: ResultFormat, text: string, ordered: boolean): string[] | Error {
  try {
    return normalisedRows(format, text, ordered);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/**
 * Undefined when both engines gave the same answer; otherwise the failure text: what
 * differs, the statement, and both engines' answers or errors. A statement that fails on
 * both is a difference too (nothing the project sends may fail); callers that expect an
 * error turn it into an answer first.
 */
export function compareAnswers(statement: ComparedStatement, a: EngineAnswer, b: EngineAnswer): string | undefined {
  const [x, y] = [a.outcome, b.outcome];
  if (!x.ok && !y.ok) return report(statement, 'fails on both engines', a, b);
  if (!x.ok || !y.ok) {
    const [works, fails] = x.ok ? [a, b] : [b, a];
    return report(statement, `works on ${works.engine} but fails on ${fails.engine}`, a, b);
  }
  const ordered = isOrdered(statement.sql);
  const rowsA = rowsOrError(statement.format, x.text, ordered);
  const rowsB = rowsOrError(statement.format, y.text, ordered);
  if (rowsA instanceof Error || rowsB instanceof Error) {
    const error = rowsA instanceof Error ? rowsA : (rowsB as Error);
    return report(statement, `an answer is not ${statement.format}: ${error.message}`, a, b);
  }
  if (rowsA.length !== rowsB.length) {
    return report(statement, `different answers (${rowsA.length} vs ${rowsB.length} rows)`, a, b);
  }
  const at = rowsA.findIndex((row, i) => row !== rowsB[i]);
  if (at === -1) return undefined;
  const order = ordered ? 'in answer order' : 'rows sorted, the statement has no ORDER BY';
  return report(
    statement,
    'different answers',
    a,
    b,
    `first difference at row ${at + 1} (${order}), normalised:\n    ${a.engine}: ${rowsA[at]}\n    ${b.engine}: ${rowsB[at]}`,
  );
}
