import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import {
  depthSnapshotBodySchema,
  depthUpdateEventSchema,
  describeZodError,
  tradeEventSchema,
  type DepthSnapshotBody,
} from '@candleflow/common/binance-events';

/** A frame as Binance sent it on the combined stream, received at `ts`. */
export interface ReplayStreamLine {
  kind: 'stream';
  /** 1-based line number in the file. */
  line: number;
  ts: number;
  stream: string;
  /** Upper-case symbol the stream belongs to. */
  symbol: string;
  data: unknown;
  /** `data` serialized once, as it is sent. */
  json: string;
}

/** A REST depth snapshot as Binance answered it at `ts`. */
export interface ReplayRestLine {
  kind: 'rest';
  line: number;
  ts: number;
  symbol: string;
  body: DepthSnapshotBody;
}

export type ReplayLine = ReplayStreamLine | ReplayRestLine;

export interface ReplayRecording {
  lines: ReplayLine[];
  /** Every stream name that appears in the recording. */
  streams: Set<string>;
  /** Every symbol with a stream or a snapshot, in order of first appearance. */
  symbols: string[];
}

/** A recording that does not follow the format; the message names the line. */
export class ReplayFormatError extends Error {
  override name = 'ReplayFormatError';
}

const ts = z.number().int().nonnegative();
const streamLineSchema = z.strictObject({
  ts,
  stream: z.string().regex(/^[a-z0-9]+@[A-Za-z0-9_@]+$/, 'expected a stream name like btcusdt@trade'),
  data: z.record(z.string(), z.unknown()),
});
const restLineSchema = z.strictObject({
  ts,
  rest: z.string().startsWith('/api/v3/depth?', 'only /api/v3/depth answers can be replayed'),
  body: depthSnapshotBodySchema,
});
const RECORDED_SYMBOL = /^[A-Z0-9]{2,20}$/;

/** The event schema Binance's frames of a stream type must follow; other types pass as recorded. */
function dataSchemaOf(stream: string): z.ZodType | undefined {
  if (stream.endsWith('@trade')) return tradeEventSchema;
  if (stream.endsWith('@depth@100ms') || stream.endsWith('@depth')) return depthUpdateEventSchema;
  return undefined;
}

function parseLine(text: string, line: number): ReplayLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ReplayFormatError(`line ${line}: not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const fail = (error: z.ZodError): never => {
    throw new ReplayFormatError(`line ${line}: ${describeZodError(error)}`);
  };
  if (typeof value === 'object' && value !== null && 'rest' in value) {
    const rest = restLineSchema.safeParse(value);
    if (!rest.success) return fail(rest.error);
    const symbol = new URLSearchParams(rest.data.rest.split('?')[1]).get('symbol') ?? '';
    if (!RECORDED_SYMBOL.test(symbol)) {
      throw new ReplayFormatError(`line ${line}: rest: expected symbol=SYMBOL in ${JSON.stringify(rest.data.rest)}`);
    }
    return { kind: 'rest', line, ts: rest.data.ts, symbol, body: rest.data.body };
  }
  const frame = streamLineSchema.safeParse(value);
  if (!frame.success) return fail(frame.error);
  const dataSchema = dataSchemaOf(frame.data.stream);
  if (dataSchema) {
    const data = dataSchema.safeParse(frame.data.data);
    if (!data.success) {
      throw new ReplayFormatError(`line ${line}: ${frame.data.stream} data: ${describeZodError(data.error)}`);
    }
  }
  const symbol = frame.data.stream.slice(0, frame.data.stream.indexOf('@')).toUpperCase();
  return {
    kind: 'stream',
    line,
    ts: frame.data.ts,
    stream: frame.data.stream,
    symbol,
    data: frame.data.data,
    json: JSON.stringify(frame.data.data),
  };
}

/** Parses and validates a recorded session (NDJSON, one frame or REST answer a line, in time order). */
export function parseReplay(text: string): ReplayRecording {
  const lines: ReplayLine[] = [];
  const streams = new Set<string>();
  const symbols = new Set<string>();
  let previousTs = 0;
  text.split('\n').forEach((raw, index) => {
    if (raw.trim() === '') return;
    const line = parseLine(raw, index + 1);
    if (line.ts < previousTs) {
      throw new ReplayFormatError(`line ${line.line}: ts ${line.ts} is earlier than the line before (${previousTs})`);
    }
    previousTs = line.ts;
    if (line.kind === 'stream') streams.add(line.stream);
    symbols.add(line.symbol);
    lines.push(line);
  });
  if (lines.length === 0) throw new ReplayFormatError('the recording has no lines');
  return { lines, streams, symbols: [...symbols] };
}

/** Reads and parses a recording file; errors name the file and line. */
export async function loadReplay(file: string): Promise<ReplayRecording> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the recording ${file}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  try {
    return parseReplay(text);
  } catch (error) {
    if (error instanceof ReplayFormatError) throw new ReplayFormatError(`${file}: ${error.message}`, { cause: error });
    throw error;
  }
}
