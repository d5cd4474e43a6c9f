/**
 * What a failure means for the caller, decided in one place for every writer and reader:
 * - `unavailable`: the server cannot answer now (down, unreachable, too slow, overloaded,
 *   too many parts, schema not there yet); the same request may succeed later: retry.
 * - `data`: the server refused what was sent (a value it cannot parse or store, a batch
 *   spanning too many partitions, a message too large); retrying the same request fails
 *   again, but a smaller part of it may pass.
 * - `query`: the request itself is wrong (syntax, unknown column, permissions): a bug or a
 *   misconfiguration, neither retried nor split.
 */
export type ErrorKind = 'unavailable' | 'data' | 'query';

export interface ClassifiedError {
  kind: ErrorKind;
  /** ClickHouse's error code, when the server sent one. */
  code?: number;
  /** One line, at most `maxSummaryChars`, for logs, API answers and DLQ reasons. */
  summary: string;
}

const maxSummaryChars = 300;

const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

// ClickHouse error codes (src/Common/ErrorCodes.cpp), the same in 18.16 and modern servers.
const unavailableServerCodes = new Set([
  60, // UNKNOWN_TABLE: not migrated yet
  81, // UNKNOWN_DATABASE
  159, // TIMEOUT_EXCEEDED
  160, // TOO_SLOW
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  203, // NO_FREE_CONNECTION
  209, // SOCKET_TIMEOUT
  210, // NETWORK_ERROR
  241, // MEMORY_LIMIT_EXCEEDED
  242, // TABLE_IS_READ_ONLY
  252, // TOO_MANY_PARTS (merges behind); its partition-limit form is data, below
  319, // UNKNOWN_STATUS_OF_INSERT
  394, // QUERY_WAS_CANCELLED
  425, // SYSTEM_ERROR
  439, // CANNOT_SCHEDULE_TASK
  473, // DEADLOCK_AVOIDED
  999, // KEEPER_EXCEPTION
]);
const dataServerCodes = new Set([
  6, // CANNOT_PARSE_TEXT
  26, // CANNOT_PARSE_QUOTED_STRING
  27, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  32, // ATTEMPT_TO_READ_AFTER_EOF
  33, // CANNOT_READ_ALL_DATA
  38, // CANNOT_PARSE_DATE
  41, // CANNOT_PARSE_DATETIME
  53, // TYPE_MISMATCH
  69, // ARGUMENT_OUT_OF_BOUND
  70, // CANNOT_CONVERT_TYPE
  72, // CANNOT_PARSE_NUMBER
  117, // INCORRECT_DATA
  128, // TOO_LARGE_ARRAY_SIZE
  131, // TOO_LARGE_STRING_SIZE
  321, // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
  349, // CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
  395, // FUNCTION_THROW_IF_VALUE_IS_NON_ZERO (a view's check refused a row)
  407, // DECIMAL_OVERFLOW
  469, // VIOLATED_CONSTRAINT
]);

/** The partition-limit form of code 252: one insert touching too many partitions. */
const tooManyPartitions = /too many partitions for single insert block/i;

function serverCode(error: Error): number | undefined {
  // The client parses modern errors ("Code: 60. DB::Exception: ... (UNKNOWN_TABLE)") into
  // a ClickHouseError whose `code` is the number as a string and whose message lacks the
  // prefix; 18.16's "Code: 60, e.displayText() = ..." stays a plain Error with the prefix.
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^\d+$/.test(code)) return Number(code);
  if (typeof code === 'number' && Number.isInteger(code)) return code;
  const prefixed = /^(?:Code|Error): (\d+)[.,]/.exec(error.message)?.[1];
  return prefixed === undefined ? undefined : Number(prefixed);
}

/** One line: 18.16's `e.what()` tail and modern servers' `(version ...)` dropped, cut to length. */
function summarize(error: Error, code: number | undefined): string {
  const errno = (error as NodeJS.ErrnoException).code;
  let text = error.message
    .replace(/, e\.what\(\) = .*$/s, '')
    // " (version 26.9.2.1 (official build))": one level of parentheses nested.
    .replace(/\s*\(version [^()]*(?:\([^()]*\)[^()]*)?\)\s*$/, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (code !== undefined && !/^(?:Code|Error): \d+/.test(text)) text = `Code: ${code}. ${text}`;
  else if (typeof errno === 'string' && !text.includes(errno)) text = `${errno} ${text}`;
  return text.length > maxSummaryChars ? `${text.slice(0, maxSummaryChars - 1)}…` : text;
}

/** Classifies a failure of `@clickhouse/client` (or of the network under it). */
export function classifyClickhouseError(error: unknown): ClassifiedError {
  // Something thrown that is no Error at all is a bug, not an outage.
  if (!(error instanceof Error)) return { kind: 'query', summary: String(error).slice(0, maxSummaryChars) };
  const code = serverCode(error);
  const summary = summarize(error, code);
  if (code !== undefined) {
    if (code === 252 && tooManyPartitions.test(error.message)) return { kind: 'data', code, summary };
    if (unavailableServerCodes.has(code)) return { kind: 'unavailable', code, summary };
    if (dataServerCodes.has(code)) return { kind: 'data', code, summary };
    return { kind: 'query', code, summary };
  }
  const errno = (error as NodeJS.ErrnoException).code;
  if (typeof errno === 'string' && networkCodes.has(errno)) return { kind: 'unavailable', summary };
  // The client's own timeout, a cut connection, or a proxy's answer instead of ClickHouse's.
  if (/^Timeout error|socket hang up|aborted|other side closed|bad gateway|service unavailable/i.test(error.message)) {
    return { kind: 'unavailable', summary };
  }
  return { kind: 'query', summary };
}

/**
 * Classifies a KafkaJS failure: a broker-side refusal of the message itself (too large,
 * corrupt, invalid) is data; everything else, connection and leadership trouble included,
 * may pass later.
 */
export function classifyKafkaError(error: unknown): ClassifiedError {
  const summary = error instanceof Error ? summarize(error, undefined) : String(error).slice(0, maxSummaryChars);
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; depth++) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string' && kafkaDataErrors.has(type)) return { kind: 'data', summary };
    e = (e as { originalError?: unknown }).originalError ?? e.cause;
  }
  return { kind: 'unavailable', summary };
}

/** Kafka protocol errors that refuse the records themselves. */
const kafkaDataErrors = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'CORRUPT_MESSAGE',
  'INVALID_RECORD',
  'INVALID_TIMESTAMP',
]);
