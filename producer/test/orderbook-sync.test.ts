import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OrderBook } from '@candleflow/common/order-book';
import type { PriceLevel } from '@candleflow/common/binance-events';
import { OrderBookSync, type SyncDecision } from '../src/orderbook-sync.js';

interface Diff {
  firstUpdateId: number;
  finalUpdateId: number;
  bids: PriceLevel[];
  asks: PriceLevel[];
}
interface Snap {
  lastUpdateId: number;
  bids: PriceLevel[];
  asks: PriceLevel[];
}

const diff = (U: number, u: number, bids: PriceLevel[] = [], asks: PriceLevel[] = []): Diff => ({
  firstUpdateId: U,
  finalUpdateId: u,
  bids,
  asks,
});
const snap = (lastUpdateId: number, bids: PriceLevel[] = [], asks: PriceLevel[] = []): Snap => ({
  lastUpdateId,
  bids,
  asks,
});

/** Decisions in a compact, comparable form. */
function brief(decisions: SyncDecision<Diff, Snap>[]): string[] {
  return decisions.map((d) => {
    switch (d.action) {
      case 'buffer':
      case 'publish-diff':
        return `${d.action} ${d.diff.firstUpdateId}-${d.diff.finalUpdateId}`;
      case 'drop':
        return `drop ${d.diff.firstUpdateId}-${d.diff.finalUpdateId} ${d.reason}`;
      case 'publish-snapshot':
        return `publish-snapshot ${d.snapshot.lastUpdateId}`;
      case 'discard-snapshot':
        return `discard-snapshot ${d.snapshot.lastUpdateId} ${d.reason}`;
      case 'resync':
        return `resync ${d.reason}`;
      case 'request-snapshot':
        return 'request-snapshot';
    }
  });
}

describe('OrderBookSync', () => {
  test('in order: buffers, asks for one snapshot, drops covered diffs, bridges, then follows', () => {
    const sync = new OrderBookSync<Diff, Snap>();
    assert.deepEqual(brief(sync.onDiff(diff(95, 100))), ['buffer 95-100', 'request-snapshot']);
    assert.deepEqual(brief(sync.onDiff(diff(101, 104))), ['buffer 101-104']);
    assert.deepEqual(brief(sync.onDiff(diff(105, 107))), ['buffer 105-107']);
    assert.equal(sync.synced, false);
    assert.deepEqual(brief(sync.onSnapshot(snap(102))), [
      'publish-snapshot 102',
      'drop 95-100 stale',
      'publish-diff 101-104',
      'publish-diff 105-107',
    ]);
    assert.equal(sync.synced, true);
    assert.equal(sync.publishedUpdateId, 107);
    assert.deepEqual(brief(sync.onDiff(diff(108, 108))), ['publish-diff 108-108']);
    assert.deepEqual(brief(sync.onDiff(diff(109, 120))), ['publish-diff 109-120']);
    assert.equal(sync.publishedUpdateId, 120);
  });

  test('a snapshot exactly at the end of a buffered diff bridges with the next one', () => {
    const sync = new OrderBookSync<Diff, Snap>();
    sync.onDiff(diff(1, 10));
    assert.deepEqual(brief(sync.onSnapshot(snap(10))), ['publish-snapshot 10', 'drop 1-10 stale']);
    assert.equal(sync.publishedUpdateId, 10);
    assert.deepEqual(brief(sync.onDiff(diff(11, 12))), ['publish-diff 11-12']);
  });

  test('a snapshot newer than every buffered diff waits for the diff that straddles it', () => {
    const sync = new OrderBookSync<Diff, Snap>();
    sync.onDiff(diff(1, 10));
    assert.deepEqual(brief(sync.onSnapshot(snap(15))), ['publish-snapshot 15', 'drop 1-10 stale']);
    assert.deepEqual(brief(sync.onDiff(diff(11, 14))), ['drop 11-14 stale']);
    assert.deepEqual(brief(sync.onDiff(diff(15, 18))), ['publish-diff 15-18']);
    assert.deepEqual(brief(sync.onDiff(diff(19, 19))), ['publish-diff 19-19']);
  });

  test('gap after sync: resync, the gap diff is buffered and a new snapshot requested', () => {
    const sync = new OrderBookSync<Diff, Snap>();
    sync.onDiff(diff(1, 5));
    sync.onSnapshot(snap(5));
    sync.onDiff(diff(6, 8));
    assert.deepEqual(brief(sync.onDiff(diff(10, 12))), ['resync gap', 'buffer 10-12', 'request-snapshot']);
    assert.equal(sync.synced, false);
    assert.deepEqual(brief(sync.onDiff(diff(13, 15))), ['buffer 13-15']);
    assert.deepEqual(brief(sync.onSnapshot(snap(13))), [
      'publish-snapshot 13',
      'drop 10-12 stale',
      'publish-diff 13-15',
    ]);
  });

  test('the resync detail names the expected and received update ids', () => {
    const sync = new OrderBookSync<Diff, Snap>();
    sync.onDiff(diff(1, 5));
    sync.onSnapshot(snap(5));
    const [resync] = sync.onDiff(diff(7, 9));
    assert.deepEqual(resync, { action: 'resync', reason: 'gap', detail: 'expected update 6, got 7..9' });
  });

  test('duplicates and late (out-of-order) diffs already covered are dropped, not published', () => {
    const sync = new OrderBookSync<Diff, Snap>();
    sync.onDiff(diff(1, 5));
    sync.onSnapshot(snap(5));
    sync.onDiff(diff(6, 8));
    sync.onDiff(diff(9, 9));
    assert.deepEqual(brief(sync.onDiff(diff(6, 8))), ['drop 6-8 duplicate']);
    assert.deepEqual(brief(sync.onDiff(diff(9, 9))), ['drop 9-9 duplicate']);
    assert.deepEqual(brief(sync.onDiff(diff(10, 11))), ['publish-diff 10-11']);
    assert.equal(sync.synced, true);
  });

  test('out of order ahead: a later diff first is a gap; the earlier one then waits in the buffer', () => {
    const sync = new OrderBookSync<Diff, Snap>();
    sync.onDiff(diff(1, 5));
    sync.onSnapshot(snap(5));
    assert.deepEqual(brief(sync.onDiff(diff(8, 9))), ['resync gap', 'buffer 8-9', 'request-snapshot']);
    assert.deepEqual(brief(sync.onDiff(diff(6, 7))), ['buffer 6-7']);
    // The buffer is judged in arrival order against the new snapshot.
    assert.deepEqual(brief(sync.onSnapshot(snap(9))), ['publish-snapshot 9', 'drop 8-9 stale', 'drop 6-7 stale']);
    assert.deepEqual(brief(sync.onDiff(diff(10, 10))), ['publish-diff 10-10']);
  });

  test('an overlapping diff after the first extends the book (U <= local + 1 <= u), it is no gap', () => {
    const sync = new OrderBookSync<Diff, Snap>();
    sync.onDiff(diff(1, 5));
    sync.onSnapshot(snap(5));
    sync.onDiff(diff(6, 10));
    assert.deepEqual(brief(sync.onDiff(diff(8, 12))), ['publish-diff 8-12']);
    assert.deepEqual(brief(sync.onDiff(diff(13, 13))), ['publish-diff 13-13']);
    assert.deepEqual(brief(sync.onDiff(diff(11, 14))), ['publish-diff 11-14']);
    assert.equal(sync.publishedUpdateId, 14);
    assert.deepEqual(brief(sync.onDiff(diff(16, 17))), ['resync gap', 'buffer 16-17', 'request-snapshot']);
  });

  test('overlapping diffs applied on the real book give the book the update ids say', () => {
    // Binance may send U..u ranges that overlap: each level carries its latest quantity, so
    // applying the overlap again sets the same values.
    const sync = new OrderBookSync<Diff, Snap>();
    const book = new OrderBook('BTCUSDT');
    const apply = (decisions: SyncDecision<Diff, Snap>[]): void => {
      for (const d of decisions) {
        if (d.action === 'publish-snapshot')
          book.loadSnapshot(d.snapshot.lastUpdateId, d.snapshot.bids, d.snapshot.asks);
        if (d.action === 'publish-diff') book.applyDiff(d.diff.finalUpdateId, d.diff.bids, d.diff.asks);
      }
    };
    apply(sync.onDiff(diff(1, 2, [['100', '1']])));
    apply(sync.onSnapshot(snap(2, [['100', '1']], [['101', '1']])));
    apply(sync.onDiff(diff(3, 5, [['100', '2']], [['101', '0']])));
    apply(sync.onDiff(diff(4, 7, [['100', '2']], [['102', '3']])));
    assert.deepEqual(book.levels(), { bids: [['100', '2']], asks: [['102', '3']] });
    assert.equal(book.lastUpdateId, 7);
  });

  test('a snapshot below the first buffered U is discarded and fetched again, also when it ends right before U', () => {
    const sync = new OrderBookSync<Diff, Snap>();
    sync.onDiff(diff(50, 55));
    assert.deepEqual(brief(sync.onSnapshot(snap(40))), ['discard-snapshot 40 older-than-diffs', 'request-snapshot']);
    assert.equal(sync.synced, false);
    sync.onDiff(diff(56, 60));
    assert.deepEqual(brief(sync.onSnapshot(snap(49))), ['discard-snapshot 49 older-than-diffs', 'request-snapshot']);
    assert.deepEqual(brief(sync.onSnapshot(snap(50))), [
      'publish-snapshot 50',
      'publish-diff 50-55',
      'publish-diff 56-60',
    ]);
  });

  test('a gap inside the buffered diffs resyncs right after the snapshot, keeping the later diffs', () => {
    const sync = new OrderBookSync<Diff, Snap>();
    sync.onDiff(diff(1, 5));
    sync.onDiff(diff(6, 8));
    sync.onDiff(diff(10, 12));
    sync.onDiff(diff(13, 14));
    assert.deepEqual(brief(sync.onSnapshot(snap(5))), [
      'publish-snapshot 5',
      'drop 1-5 stale',
      'publish-diff 6-8',
      'resync gap',
      'buffer 10-12',
      'request-snapshot',
      'buffer 13-14',
    ]);
    assert.deepEqual(brief(sync.onSnapshot(snap(12))), [
      'publish-snapshot 12',
      'drop 10-12 stale',
      'publish-diff 13-14',
    ]);
  });

  test('reconnect: resync, buffer cleared, next diff asks for a snapshot', () => {
    const sync = new OrderBookSync<Diff, Snap>();
    sync.onDiff(diff(1, 5));
    sync.onSnapshot(snap(5));
    assert.deepEqual(brief(sync.onReconnect()), ['resync reconnect']);
    assert.equal(sync.synced, false);
    assert.deepEqual(brief(sync.onDiff(diff(30, 31))), ['buffer 30-31', 'request-snapshot']);
    assert.deepEqual(brief(sync.onSnapshot(snap(30))), ['publish-snapshot 30', 'publish-diff 30-31']);
  });

  test('reconnect before any diff is not a resync', () => {
    const sync = new OrderBookSync<Diff, Snap>();
    assert.deepEqual(brief(sync.onReconnect()), []);
  });

  test('a snapshot answered after a reconnect emptied the buffer is discarded; the next diff asks again', () => {
    const sync = new OrderBookSync<Diff, Snap>();
    sync.onDiff(diff(1, 5));
    sync.onReconnect();
    assert.deepEqual(brief(sync.onSnapshot(snap(5))), ['discard-snapshot 5 no-buffered-diffs']);
    assert.deepEqual(brief(sync.onDiff(diff(9, 9))), ['buffer 9-9', 'request-snapshot']);
  });

  test('a snapshot still in flight across a reconnect is judged against the new diffs', () => {
    const sync = new OrderBookSync<Diff, Snap>();
    sync.onDiff(diff(1, 5));
    sync.onReconnect();
    // Already requested: no second request while the first is in flight.
    assert.deepEqual(brief(sync.onDiff(diff(4, 7))), ['buffer 4-7']);
    assert.deepEqual(brief(sync.onSnapshot(snap(5))), ['publish-snapshot 5', 'publish-diff 4-7']);
  });

  test('publish failure: resync, then start over with the next diff', () => {
    const sync = new OrderBookSync<Diff, Snap>();
    sync.onDiff(diff(1, 5));
    sync.onSnapshot(snap(5));
    assert.deepEqual(brief(sync.onPublishFailed('queue full')), ['resync publish-failed']);
    assert.deepEqual(brief(sync.onDiff(diff(6, 6))), ['buffer 6-6', 'request-snapshot']);
  });

  test('the buffer is bounded: the oldest diff is dropped as overflow', () => {
    const sync = new OrderBookSync<Diff, Snap>(2);
    sync.onDiff(diff(1, 1));
    sync.onDiff(diff(2, 2));
    assert.deepEqual(brief(sync.onDiff(diff(3, 3))), ['drop 1-1 overflow', 'buffer 3-3']);
    assert.deepEqual(brief(sync.onSnapshot(snap(0))), ['discard-snapshot 0 older-than-diffs', 'request-snapshot']);
    assert.deepEqual(brief(sync.onSnapshot(snap(1))), ['discard-snapshot 1 older-than-diffs', 'request-snapshot']);
    assert.deepEqual(brief(sync.onSnapshot(snap(2))), ['publish-snapshot 2', 'drop 2-2 stale', 'publish-diff 3-3']);
  });

  test('a Binance-like recorded sequence rebuilds the true book from the published decisions', () => {
    // Truth: a book changed by 12 diffs; the client connects after diff 3 and its snapshot is taken after diff 5.
    const diffs: Diff[] = [
      diff(101, 103, [['100.0', '1.0']], [['101.0', '2.0']]),
      diff(104, 104, [['99.5', '3.0']], []),
      diff(105, 109, [], [['101.5', '1.25']]),
      diff(110, 110, [['100.0', '0']], []),
      diff(111, 115, [['99.8', '0.5']], [['101.0', '1.0']]),
      diff(116, 118, [], [['101.5', '0.00000000']]),
      diff(119, 119, [['99.9', '4.0']], []),
      diff(120, 124, [['99.5', '2.0']], [['102.0', '7.0']]),
      diff(125, 125, [], [['101.2', '0.3']]),
      diff(126, 130, [['99.9', '0']], []),
      diff(131, 131, [['99.95', '1.1']], [['101.0', '0']]),
      diff(132, 140, [['99.8', '0.75']], []),
    ];
    const truth = new OrderBook('T');
    truth.loadSnapshot(100, [['99.0', '5.0']], [['102.5', '5.0']]);
    const truthAt = new Map<number, ReturnType<OrderBook['levels']>>();
    for (const d of diffs) {
      truth.applyDiff(d.finalUpdateId, d.bids, d.asks);
      truthAt.set(d.finalUpdateId, truth.levels());
    }
    const replay = new OrderBook('T');
    replay.loadSnapshot(100, [['99.0', '5.0']], [['102.5', '5.0']]);
    for (const d of diffs.slice(0, 5)) replay.applyDiff(d.finalUpdateId, d.bids, d.asks);
    const snapshot = snap(replay.lastUpdateId, replay.top('bid'), replay.top('ask'));

    const sync = new OrderBookSync<Diff, Snap>();
    const rebuilt = new OrderBook('T');
    let checked = 0;
    const follow = (decisions: SyncDecision<Diff, Snap>[]): void => {
      for (const d of decisions) {
        if (d.action === 'publish-snapshot')
          rebuilt.loadSnapshot(d.snapshot.lastUpdateId, d.snapshot.bids, d.snapshot.asks);
        if (d.action === 'publish-diff') {
          rebuilt.applyDiff(d.diff.finalUpdateId, d.diff.bids, d.diff.asks);
          assert.deepEqual(rebuilt.levels(), truthAt.get(d.diff.finalUpdateId), `book at ${d.diff.finalUpdateId}`);
          checked++;
        }
      }
    };
    // Connected from diff 3 on: 3 and 4 are buffered, the snapshot (after 5) arrives after diff 6 was buffered.
    follow(sync.onDiff(diffs[2] as Diff));
    follow(sync.onDiff(diffs[3] as Diff));
    follow(sync.onDiff(diffs[4] as Diff));
    follow(sync.onDiff(diffs[5] as Diff));
    follow(sync.onSnapshot(snapshot));
    assert.equal(rebuilt.lastUpdateId, 118);
    for (const d of diffs.slice(6)) follow(sync.onDiff(d));
    assert.equal(checked, 7);
    assert.equal(rebuilt.lastUpdateId, 140);
  });

  test('random streams with duplicates, reordering, losses and reconnects always publish a book that matches the truth', () => {
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 50; round++) {
      const truth = new OrderBook('R');
      const history: { diff: Diff; levels: ReturnType<OrderBook['levels']>; snapshot: Snap }[] = [];
      let id = 1000;
      for (let i = 0; i < 200; i++) {
        const size = 1 + Math.floor(random() * 3);
        const d = diff(id + 1, id + size);
        id += size;
        for (let k = 0; k < 3; k++) {
          const price = (100 + Math.floor(random() * 20) * 0.5).toFixed(1);
          const qty = random() < 0.3 ? '0' : (random() * 10).toFixed(3);
          (Number(price) < 105 ? d.bids : d.asks).push([price, qty]);
        }
        truth.applyDiff(d.finalUpdateId, d.bids, d.asks);
        const levels = truth.levels();
        history.push({ diff: d, levels, snapshot: snap(d.finalUpdateId, levels.bids, levels.asks) });
      }
      // The network: some diffs lost, some duplicated, some swapped with the next; occasional reconnects.
      const sync = new OrderBookSync<Diff, Snap>();
      const rebuilt = new OrderBook('R');
      const byFinal = new Map(history.map((h) => [h.diff.finalUpdateId, h]));
      let pendingSnapshotAt: number | undefined;
      let published = 0;
      const follow = (decisions: SyncDecision<Diff, Snap>[], position: number): void => {
        for (const d of decisions) {
          if (d.action === 'request-snapshot') pendingSnapshotAt = position;
          if (d.action === 'publish-snapshot')
            rebuilt.loadSnapshot(d.snapshot.lastUpdateId, d.snapshot.bids, d.snapshot.asks);
          if (d.action === 'publish-diff') {
            assert.ok(rebuilt.lastUpdateId + 1 >= d.diff.firstUpdateId, 'published diff continues the book');
            rebuilt.applyDiff(d.diff.finalUpdateId, d.diff.bids, d.diff.asks);
            assert.deepEqual(rebuilt.levels(), byFinal.get(d.diff.finalUpdateId)?.levels);
            published++;
          }
        }
      };
      const wire: Diff[] = [];
      for (let i = 0; i < history.length; i++) {
        const h = history[i] as (typeof history)[number];
        const r = random();
        if (r < 0.03) continue;
        wire.push(h.diff);
        if (r < 0.06) wire.push(h.diff);
        else if (r < 0.08 && wire.length >= 2) wire.splice(-2, 2, h.diff, wire[wire.length - 2] as Diff);
      }
      for (let position = 0; position < wire.length; position++) {
        if (random() < 0.01) follow(sync.onReconnect(), position);
        follow(sync.onDiff(wire[position] as Diff), position);
        // The snapshot answer comes a few diffs after the request, taken at the truth of that moment.
        if (pendingSnapshotAt !== undefined && position - pendingSnapshotAt >= 2) {
          pendingSnapshotAt = undefined;
          const at = history.findIndex((h) => h.diff === wire[position]);
          const snapshotFrom = history[Math.max(0, at - Math.floor(random() * 3))] as (typeof history)[number];
          follow(sync.onSnapshot(snapshotFrom.snapshot), position);
        }
      }
      assert.ok(published > 50, `round ${round} published only ${published} diffs`);
    }
  });
});
