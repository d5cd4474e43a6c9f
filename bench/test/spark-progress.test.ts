import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_PROGRESS, addBatch, sparkMessageSchema, type SparkBatch } from '../src/spark-progress.js';

const batch = (batchId: number, inputRows: number, durationMs: number, atMs: number): SparkBatch => ({
  type: 'batch',
  batchId,
  inputRows,
  durationMs,
  atMs,
});

test('reading ends with the last batch that read rows; batches that only emit windows do not count', () => {
  let progress = NO_PROGRESS;
  progress = addBatch(progress, batch(0, 40_000, 9_000, 10_000));
  progress = addBatch(progress, batch(1, 0, 300, 10_400));
  progress = addBatch(progress, batch(2, 2_500, 800, 11_300));
  progress = addBatch(progress, batch(3, 0, 12_000, 23_400));
  assert.deepEqual(progress, { rows: 42_500, dataBatches: 2, lastDataAtMs: 11_300, longestMs: 12_000 });
});

test("the job's messages are checked: a malformed one is refused, naming the field", () => {
  assert.deepEqual(sparkMessageSchema.parse({ type: 'started', atMs: 5, jvmPid: 42 }), {
    type: 'started',
    atMs: 5,
    jvmPid: 42,
  });
  const bad = sparkMessageSchema.safeParse({ type: 'batch', batchId: 1, inputRows: -3, durationMs: 1, atMs: 2 });
  assert.equal(bad.success, false);
  assert.match(JSON.stringify(bad.error?.issues), /inputRows/);
  assert.equal(sparkMessageSchema.safeParse({ type: 'progress' }).success, false);
});
