import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Partitioners } from 'kafkajs';
import { partitionOf } from '../src/kafka-partition.js';

test('symbols land in the partition the Java-compatible default partitioner picks', () => {
  const java = Partitioners.DefaultPartitioner();
  const keys = [
    'BTCUSDT',
    'ETHUSDT',
    'SOLUSDT',
    'XRPUSDT',
    'DOGEUSDT',
    'A',
    'AB',
    'ABC',
    'ABCD',
    'ÄÖÜ€',
    '1000SATSUSDT',
  ];
  for (const partitions of [1, 2, 3, 6, 7, 50]) {
    const partitionMetadata = Array.from({ length: partitions }, (_, id) => ({
      partitionErrorCode: 0,
      partitionId: id,
      leader: 1,
      replicas: [1],
      isr: [1],
    }));
    for (const key of keys) {
      assert.equal(
        partitionOf(key, partitions),
        java({ topic: 't', partitionMetadata, message: { key, value: null } }),
        `${key} over ${partitions}`,
      );
    }
  }
});
