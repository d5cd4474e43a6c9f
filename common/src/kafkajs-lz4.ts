import kafkajs from 'kafkajs';
import { compress, decompressBound, decompressFrame } from 'lz4js';

/** Where frames are decompressed; grown to the largest bound seen, reused (each call is synchronous within). */
let scratch = Buffer.allocUnsafe(0);

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
      if (scratch.length < bound) scratch = Buffer.allocUnsafe(Math.max(bound, scratch.length * 2));
      // A frame whose blocks hold more than its declared content size (corrupt) is cut to
      // what fits the bound, as lz4js writes no further: never bytes of an earlier frame.
      const size = Math.min(decompressFrame(buffer, scratch), bound);
      const out = Buffer.allocUnsafe(size);
      scratch.copy(out, 0, 0, size);
      return out;
    },
  });
}
