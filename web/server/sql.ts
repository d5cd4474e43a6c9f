/**
 * The one place where SQL text is put together. ClickHouse 18.16 has no server-side
 * query parameters, so values are written into the query as literals: the `sql` tag
 * renders every interpolated value by its type (numbers only when finite, strings
 * escaped per ClickHouse's string-literal rules, times as `toDateTime(<seconds>)`), and
 * nothing else can be spliced in. Identifiers never come from input: the database is
 * chosen on the client connection, table names are fixed text in the templates.
 */

const trusted = Symbol('sql');

/** A piece of SQL built by `sql`; only this module can create one. */
export class Sql {
  readonly #text: string;

  constructor(key: symbol, text: string) {
    if (key !== trusted) throw new TypeError('Sql is built with the sql tag');
    this.#text = text;
  }

  toString(): string {
    return this.#text;
  }
}

/** A point in time, rendered as whole seconds (DateTime has second precision). */
export class SqlDateTime {
  constructor(readonly epochMs: number) {}
}

export type SqlValue = string | number | bigint | boolean | SqlDateTime | Sql | readonly SqlValue[];

/** A value that cannot be rendered as a literal; a bug in the caller, never user input. */
export class SqlLiteralError extends Error {
  override name = 'SqlLiteralError';
}

const namedEscapes: Record<string, string> = {
  '\\': '\\\\',
  "'": "\\'",
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\0': '\\0',
};

/** A ClickHouse string literal: backslash and quote escaped, control characters as escapes. */
export function stringLiteral(value: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is escaped
  const escaped = value.replace(/[\\'\u0000-\u001f\u007f]/g, (ch) => {
    return namedEscapes[ch] ?? `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
  return `'${escaped}'`;
}

/** A numeric literal; NaN and infinities have no safe literal form and are refused. */
export function numberLiteral(value: number | bigint): string {
  if (typeof value === 'bigint') return value.toString();
  if (!Number.isFinite(value)) throw new SqlLiteralError(`not a finite number: ${String(value)}`);
  if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
    throw new SqlLiteralError(`integer beyond 2^53 loses precision: ${String(value)}`);
  }
  // Numbers are written plainly; negative ones in parentheses so `x - ${n}` stays correct.
  const text = Number.isInteger(value) ? value.toFixed(0) : String(value);
  return value < 0 ? `(${text})` : text;
}

/** `toDateTime(<seconds>)`: independent of the server's time zone. */
export function dateTimeLiteral(value: SqlDateTime): string {
  const seconds = Math.floor(value.epochMs / 1000);
  if (!Number.isSafeInteger(seconds) || seconds < 0 || seconds > 0xffffffff) {
    throw new SqlLiteralError(`time outside DateTime's range: ${String(value.epochMs)} ms`);
  }
  return `toDateTime(${seconds})`;
}

function render(value: SqlValue): string {
  if (value instanceof Sql) return value.toString();
  if (value instanceof SqlDateTime) return dateTimeLiteral(value);
  if (Array.isArray(value)) {
    if (value.length === 0) throw new SqlLiteralError('empty list');
    return `(${value.map(render).join(', ')})`;
  }
  switch (typeof value) {
    case 'string':
      return stringLiteral(value);
    case 'number':
    case 'bigint':
      return numberLiteral(value);
    case 'boolean':
      return value ? '1' : '0';
    default:
      throw new SqlLiteralError(`cannot render ${typeof value} as SQL`);
  }
}

/**
 * Tagged template: `sql\`SELECT ... WHERE symbol = ${symbol}\``. The template text is
 * code; each `${value}` becomes a literal (a list becomes `(a, b, c)`), or is inserted
 * as-is when it is itself an `Sql` built by this tag.
 */
export function sql(strings: TemplateStringsArray, ...values: SqlValue[]): Sql {
  let text = strings[0] ?? '';
  values.forEach((value, i) => {
    text += render(value) + (strings[i + 1] ?? '');
  });
  return new Sql(trusted, text);
}

/** Joins fragments with a separator, e.g. OR-ed conditions. */
export function joinSql(parts: readonly Sql[], separator: ' AND ' | ' OR ' | ', '): Sql {
  if (parts.length === 0) throw new SqlLiteralError('nothing to join');
  return new Sql(trusted, parts.map((p) => p.toString()).join(separator));
}

/** Shorthand for a time value in a template. */
export function at(epochMs: number): SqlDateTime {
  return new SqlDateTime(epochMs);
}
