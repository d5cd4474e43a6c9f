import type { IHeaders } from 'kafkajs';
import { DLQ_REASON_HEADER } from '@candleflow/common/binance-events';
import type { DlqReason } from './topic-messages.js';
import type { DlqMessage } from './write-batch.js';

export const DLQ_SOURCE_PARTITION_HEADER = 'dlq_source_partition';
export const DLQ_SOURCE_OFFSET_HEADER = 'dlq_source_offset';
/** On rows ClickHouse refused: the table the row was for (the value is the row, not the message). */
export const DLQ_SOURCE_TABLE_HEADER = 'dlq_source_table';
/** On values cut to fit the dead-letter topic: the original size in bytes. */
export const DLQ_TRUNCATED_HEADER = 'dlq_truncated_from_bytes';

/** DESIGN.md: DLQ reasons are short. */
export const MAX_REASON_BYTES = 1024;
/** The source record's headers are kept, within these bounds. */
const MAX_COPIED_HEADERS = 16;
const MAX_COPIED_HEADER_BYTES = 1024;

/** `reason: detail`, cut to `MAX_REASON_BYTES` of UTF-8. */
function reasonText(reason: DlqReason, detail: string): string {
  const text = `${reason}: ${detail}`;
  if (Buffer.byteLength(text) <= MAX_REASON_BYTES) return text;
  const cut = Buffer.from(text)
    .subarray(0, MAX_REASON_BYTES - 3)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  return `${cut}…`;
}

function copyHeaders(headers: IHeaders | undefined, out: Record<string, string | Buffer>): void {
  let copied = 0;
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined || name.startsWith('dlq_') || copied >= MAX_COPIED_HEADERS) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first === undefined) continue;
    const bytes = typeof first === 'string' ? Buffer.from(first) : first;
    out[name] = bytes.length > MAX_COPIED_HEADER_BYTES ? bytes.subarray(0, MAX_COPIED_HEADER_BYTES) : first;
    copied++;
  }
}

/** Cuts `value` to `maxBytes`, saying so in a header (which keeps the size of the original, if cut before). */
export function fitValue(
  value: Buffer | null,
  maxBytes: number,
  headers: Record<string, string | Buffer>,
): Buffer | null {
  if (value === null || value.length <= maxBytes) return value;
  headers[DLQ_TRUNCATED_HEADER] ??= String(value.length);
  return value.subarray(0, maxBytes);
}

/** A message of `sourceTopic` that broke the input contract, as it goes to the dead-letter topic. */
export function messageDeadLetter(
  source: { topic: string; partition: number; offset: number; value: Buffer | null; headers: IHeaders | undefined },
  reason: DlqReason,
  detail: string,
  maxValueBytes: number,
): DlqMessage {
  const headers: Record<string, string | Buffer> = {};
  copyHeaders(source.headers, headers);
  headers[DLQ_REASON_HEADER] = reasonText(reason, detail);
  headers[DLQ_SOURCE_PARTITION_HEADER] = String(source.partition);
  headers[DLQ_SOURCE_OFFSET_HEADER] = String(source.offset);
  return { sourceTopic: source.topic, reason, value: fitValue(source.value, maxValueBytes, headers), headers };
}

/** A row ClickHouse refused, as it goes to the dead-letter topic: the row's JSON, keyed by the topic it came from. */
export function rowDeadLetter(sourceTopic: string, table: string, rowJson: string, detail: string): DlqMessage {
  return {
    sourceTopic,
    reason: 'clickhouse_refused',
    value: Buffer.from(rowJson),
    headers: { [DLQ_REASON_HEADER]: reasonText('clickhouse_refused', detail), [DLQ_SOURCE_TABLE_HEADER]: table },
  };
}
