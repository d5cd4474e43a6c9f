import assert from 'node:assert/strict';
import { test } from 'node:test';
import kafkajs from 'kafkajs';
import { compress } from 'lz4js';
import { registerLz4Codec } from '../src/kafkajs-lz4.js';

registerLz4Codec();
const codec = kafkajs.CompressionCodecs[kafkajs.CompressionTypes.LZ4]?.() as {
  decompress(buffer: Buffer): Promise<Buffer>;
};

/** An LZ4 frame declaring `declared` bytes of content but holding `content` in one stored (uncompressed) block. */
function lyingFrame(declared: number, content: Buffer): Buffer {
  const header = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x68, 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  header.writeBigUInt64LE(BigInt(declared), 6);
  const blockSize = Buffer.alloc(4);
  blockSize.writeUInt32LE((content.length | 0x80000000) >>> 0);
  return Buffer.concat([header, blockSize, content, Buffer.alloc(4)]);
}

test('a frame that holds more than it declares is cut to its declared size, never padded with other memory', async () => {
  // First in the process: the scratch buffer is no larger than this frame's bound.
  const out = await codec.decompress(lyingFrame(4, Buffer.alloc(64, 'A')));
  assert.equal(out.toString('latin1'), 'AAAA');
});

test('frames of different sizes, one after the other, each come back whole and alone', async () => {
  const texts = ['x'.repeat(200_000), 'short', 'y'.repeat(70_000), ''].map((t, i) => `${i}:${t}`);
  const outputs = await Promise.all(texts.map((t) => codec.decompress(Buffer.from(compress(Buffer.from(t))))));
  assert.deepEqual(
    outputs.map((o) => o.toString('latin1')),
    texts,
  );
  // Each result is its own memory: a later decompression does not change an earlier result.
  await codec.decompress(Buffer.from(compress(Buffer.from('z'.repeat(300_000)))));
  assert.equal(outputs[1]?.toString('latin1'), '1:short');
});

test('a frame larger than the reused buffer keeps comes back whole', async () => {
  const text = Array.from({ length: 300_000 }, (_, i) => `${i},`).join('');
  const big = Buffer.from(text.repeat(5));
  assert.ok(big.length > 8 * 1024 * 1024, 'above what the codec keeps between calls');
  const out = await codec.decompress(Buffer.from(compress(big)));
  assert.ok(out.equals(big));
});
