import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BusyError, Semaphore } from '../server/semaphore.js';

/** A task that runs until `finish` is called. */
function gate(): { task: () => Promise<string>; finish: (value: string) => void; started: () => boolean } {
  let finish!: (value: string) => void;
  let started = false;
  const done = new Promise<string>((resolve) => (finish = resolve));
  return {
    task: () => {
      started = true;
      return done;
    },
    finish: (value) => finish(value),
    started: () => started,
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('runs up to the limit at once, queues the next ones in order, refuses past the queue', async () => {
  const semaphore = new Semaphore(2, 1);
  const gates = [gate(), gate(), gate(), gate()];
  const [a, b, c, d] = gates as [
    ReturnType<typeof gate>,
    ReturnType<typeof gate>,
    ReturnType<typeof gate>,
    ReturnType<typeof gate>,
  ];
  const ra = semaphore.run(a.task);
  const rb = semaphore.run(b.task);
  const rc = semaphore.run(c.task);
  await tick();
  assert.deepEqual([a.started(), b.started(), c.started()], [true, true, false]);
  assert.deepEqual([semaphore.running, semaphore.queued], [2, 1]);
  await assert.rejects(semaphore.run(d.task), BusyError);
  assert.equal(d.started(), false);

  a.finish('a');
  assert.equal(await ra, 'a');
  await tick();
  assert.equal(c.started(), true, 'the queued task takes the freed slot');
  assert.deepEqual([semaphore.running, semaphore.queued], [2, 0]);
  b.finish('b');
  c.finish('c');
  assert.deepEqual(await Promise.all([rb, rc]), ['b', 'c']);
  assert.deepEqual([semaphore.running, semaphore.queued], [0, 0]);
});

test('a failing task frees its slot too', async () => {
  const semaphore = new Semaphore(1, 0);
  await assert.rejects(
    semaphore.run(() => Promise.reject(new Error('boom'))),
    /boom/,
  );
  assert.equal(semaphore.running, 0);
  assert.equal(await semaphore.run(() => Promise.resolve(7)), 7);
});
