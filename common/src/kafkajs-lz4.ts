import kafkajs from 'kafkajs';
import { compress, decompressBound, decompressFrame } from 'lz4js';

/**
 * KafkaJS ships no LZ4 codec, and the producer (librdkafka) compresses with LZ4 by
 * default. Registering this once per process lets KafkaJS consumers read those topics.
 */
export function registerLz4Codec(): void {
  const { CompressionCodecs, CompressionTypes } = kafkajs;
  CompressionCodecs[CompressionTypes.LZ4] = () => ({
    compress: async (encoder: { buffer: Buffer }) => Buffer.from(compress(encoder.buffer)),
    decompress: async (buffer: Buffer) => {
      // Into memory that is not zeroed first, and without lz4js's copies to size: this runs for every fetched batch.
      const into = Buffer.allocUnsafe(decompressBound(buffer));
      return into.subarray(0, decompressFrame(buffer, into));
    },
  });
}
