import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WriteQueue } from '../src/write-queue.js';

function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

test('batches are written one at a time, in order', async () => {
  const log: string[] = [];
  const gates = [gate(), gate(), gate()];
  const queue = new WriteQueue<number>(
    async (n) => {
      log.push(`start ${n}`);
      await gates[n]?.promise;
      log.push(`end ${n}`);
    },
    { maxPending: 10, onFullChange: () => undefined },
  );
  queue.push(0);
  queue.push(1);
  queue.push(2);
  assert.equal(queue.pending, 3);
  gates[2]?.open();
  gates[1]?.open();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(log, ['start 0'], 'nothing overtakes the batch being written');
  gates[0]?.open();
  await queue.idle();
  assert.deepEqual(log, ['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
  assert.equal(queue.pending, 0);
});

test('full at maxPending, room again at half', async () => {
  const changes: boolean[] = [];
  const gates = [gate(), gate(), gate(), gate()];
  const queue = new WriteQueue<number>((n) => gates[n]?.promise ?? Promise.resolve(), {
    maxPending: 4,
    onFullChange: (full) => changes.push(full),
  });
  for (let i = 0; i < 3; i++) queue.push(i);
  assert.equal(queue.isFull, false);
  queue.push(3);
  assert.equal(queue.isFull, true);
  assert.deepEqual(changes, [true]);
  gates[0]?.open();
  await new Promise((r) => setImmediate(r));
  assert.equal(queue.pending, 3);
  assert.equal(queue.isFull, true, 'still above half');
  gates[1]?.open();
  await new Promise((r) => setImmediate(r));
  assert.equal(queue.pending, 2);
  assert.equal(queue.isFull, false);
  assert.deepEqual(changes, [true, false]);
  gates[2]?.open();
  gates[3]?.open();
  await queue.idle();
  assert.deepEqual(changes, [true, false]);
});

test('a failed write stops the queue and is reported', async () => {
  const queue = new WriteQueue<number>(
    async (n) => {
      if (n === 1) throw new Error('boom');
    },
    { maxPending: 5, onFullChange: () => undefined },
  );
  queue.push(0);
  queue.push(1);
  queue.push(2);
  await assert.rejects(queue.idle(), /boom/);
  assert.equal(queue.pending, 0);
  assert.throws(() => queue.push(3), /stopped after a failed write/);
});

test('idle resolves at once when nothing is pending; maxPending is checked', async () => {
  await new WriteQueue<number>(async () => undefined, { maxPending: 1, onFullChange: () => undefined }).idle();
  assert.throws(
    () => new WriteQueue<number>(async () => undefined, { maxPending: 0, onFullChange: () => undefined }),
    /maxPending/,
  );
});
