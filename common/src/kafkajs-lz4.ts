import kafkajs from 'kafkajs';
import { compress, decompressBound, decompressFrame } from 'lz4js';

/** Where frames are decompressed, reused (each call is synchronous within); grown as needed up to SCRATCH_MAX. */
let scratch = Buffer.allocUnsafe(0);
/**
 * The most the scratch buffer keeps: librdkafka's batches are at most 1 MB (`batch.size`).
 * A frame with a larger bound (or a corrupt one claiming a huge size) gets a buffer of its
 * own for that call, so it cannot pin that memory for the life of the process.
 */
const SCRATCH_MAX = 8 * 1024 * 1024;

function scratchOf(bound: number): Buffer {
  if (scratch.length < bound) scratch = Buffer.allocUnsafe(Math.min(Math.max(bound, scratch.length * 2), SCRATCH_MAX));
  return scratch;
}

/**
 * KafkaJS ships no LZ4 codec, and the producer (librdkafka) compresses with LZ4 by
 * default. Registering this once per process lets KafkaJS consumers read those topics.
 */
export function registerLz4Codec(): void {
  const { CompressionCodecs, CompressionTypes } = kafkajs;
  CompressionCodecs[CompressionTypes.LZ4] = () => ({
    compress: async (encoder: { buffer: Buffer }) => Buffer.from(compress(encoder.buffer)),
    decompress: async (buffer: Buffer) => {
      // Into one scratch buffer, then copied out at its exact size: lz4js's bound is whole
      // blocks (128 KiB for librdkafka's frames of a few KiB), and a new buffer of that size
      // for every fetched record batch costs more in allocation and GC than the copy.
      const bound = decompressBound(buffer);
      const into = bound <= SCRATCH_MAX ? scratchOf(bound) : Buffer.allocUnsafe(bound);
      // A frame whose blocks hold more than its declared content size (corrupt) is cut to
      // what fits the bound, as lz4js writes no further: never bytes of an earlier frame.
      const size = Math.min(decompressFrame(buffer, into), bound);
      const out = Buffer.allocUnsafe(size);
      into.copy(out, 0, 0, size);
      return out;
    },
  });
}
