import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RepairPlanner, type RepairPlannerOptions, type RepairStep } from '../src/repair-planner.js';
import { RequestWeightBudget } from '../src/request-weight-budget.js';

const minute = 60_000;
const t0 = 1000 * minute;

function planner(overrides: Partial<RepairPlannerOptions> = {}) {
  const budget = overrides.budget ?? new RequestWeightBudget(6000);
  return {
    budget,
    plan: new RepairPlanner({
      budget,
      snapshotReserve: 0,
      maxTradesPerSymbol: 1_000_000,
      batchLimit: 1000,
      retryDelay: (attempt) => 100 * attempt,
      ...overrides,
    }),
  };
}

/** A step in a compact, comparable form. */
function brief(step: RepairStep): string {
  if (step.kind !== 'request') return step.kind === 'wait' ? `wait ${step.ms}` : 'idle';
  const r = step.request;
  return r.kind === 'fetch' ? `fetch ${r.symbol} ${r.fromId}+${r.limit}` : `find-start ${r.symbol} ${r.startTime}`;
}

/** The trades an exchange holding every id would answer. */
const served = (fromId: number, limit: number) => Array.from({ length: limit }, (_, i) => ({ id: fromId + i }));

describe('RepairPlanner', () => {
  test('a hole is fetched from its lowest id up, in batches, publishing each id once', () => {
    const { plan } = planner({ batchLimit: 1000 });
    assert.deepEqual(plan.addHole('BTCUSDT', { from: 100, to: 2599 }), []);
    assert.deepEqual(plan.status(), { symbols: 1, ids: 2500 });
    const published: number[] = [];
    for (const expected of ['fetch BTCUSDT 100+1000', 'fetch BTCUSDT 1100+1000', 'fetch BTCUSDT 2100+500']) {
      const step = plan.next(t0, false);
      assert.equal(brief(step), expected);
      assert.equal(brief(plan.next(t0, false)), 'idle', 'one request in flight per symbol');
      if (step.kind !== 'request' || step.request.kind !== 'fetch') throw new Error('expected a fetch');
      const { fromId, limit } = step.request;
      // The exchange answers a full batch even past the hole: only the hole's ids are published.
      const answer = plan.onFetched('BTCUSDT', fromId, served(fromId, 1000), t0);
      assert.deepEqual(answer.unrepairable, []);
      assert.equal(answer.publish.length, limit);
      published.push(...answer.publish.map((t) => t.id));
    }
    assert.deepEqual(
      published,
      served(100, 2500).map((t) => t.id),
    );
    assert.deepEqual(plan.status(), { symbols: 0, ids: 0 });
    assert.equal(brief(plan.next(t0, false)), 'idle');
  });

  test('small holes close together are fetched in one request; the ids between are not published', () => {
    const { plan } = planner({ batchLimit: 100 });
    for (const id of [10, 12, 15, 60, 109, 110, 111]) plan.addHole('BTCUSDT', { from: id, to: id });
    assert.equal(brief(plan.next(t0, false)), 'fetch BTCUSDT 10+100');
    const answer = plan.onFetched('BTCUSDT', 10, served(10, 100), t0);
    assert.deepEqual(
      answer.publish.map((t) => t.id),
      [10, 12, 15, 60, 109],
    );
    assert.equal(brief(plan.next(t0, false)), 'fetch BTCUSDT 110+2');
  });

  test('fairness: symbols take turns, one request each, whatever their hole sizes', () => {
    const { plan } = planner({ batchLimit: 10 });
    plan.addHole('AAAUSDT', { from: 1, to: 100 });
    plan.addHole('BBBUSDT', { from: 1, to: 15 });
    plan.addHole('CCCUSDT', { from: 1, to: 100 });
    const order: string[] = [];
    for (let i = 0; i < 8; i++) {
      const step = plan.next(t0, false);
      if (step.kind !== 'request' || step.request.kind !== 'fetch') throw new Error(brief(step));
      order.push(`${step.request.symbol.slice(0, 1)}${step.request.fromId}`);
      plan.onFetched(step.request.symbol, step.request.fromId, served(step.request.fromId, step.request.limit), t0);
    }
    // B is done after two turns; A and C go on alternating.
    assert.deepEqual(order, ['A1', 'B1', 'C1', 'A11', 'B11', 'C11', 'A21', 'C21']);
  });

  test('fairness with requests in flight: the next symbol goes while the others wait for answers', () => {
    const { plan } = planner();
    plan.addHole('AAAUSDT', { from: 1, to: 5000 });
    plan.addHole('BBBUSDT', { from: 1, to: 5000 });
    assert.equal(brief(plan.next(t0, false)), 'fetch AAAUSDT 1+1000');
    assert.equal(brief(plan.next(t0, false)), 'fetch BBBUSDT 1+1000');
    assert.equal(brief(plan.next(t0, false)), 'idle');
    plan.onFetched('BBBUSDT', 1, served(1, 1000), t0);
    assert.equal(brief(plan.next(t0, false)), 'fetch BBBUSDT 1001+1000');
  });

  test('budget: requests spend the shared weight; past the minute they wait for the next one', () => {
    const budget = new RequestWeightBudget(100);
    const { plan } = planner({ budget });
    plan.addHole('AAAUSDT', { from: 1, to: 100_000 });
    plan.addHole('BBBUSDT', { from: 1, to: 100_000 });
    const steps: string[] = [];
    for (let i = 0; i < 5; i++) {
      const step = plan.next(t0 + 1000, false);
      steps.push(brief(step));
      if (step.kind === 'request' && step.request.kind === 'fetch') {
        const { symbol, fromId } = step.request;
        plan.onFetched(symbol, fromId, served(fromId, 1000), t0 + 1000);
      }
    }
    // 100 per minute at 25 a request: four requests, then the rest of the minute.
    assert.deepEqual(steps, [
      'fetch AAAUSDT 1+1000',
      'fetch BBBUSDT 1+1000',
      'fetch AAAUSDT 1001+1000',
      'fetch BBBUSDT 1001+1000',
      `wait ${minute - 1000}`,
    ]);
    assert.equal(brief(plan.next(t0 + minute, false)), 'fetch AAAUSDT 2001+1000');
  });

  test('budget: snapshots come first, through their reserve and while one waits for weight', () => {
    const budget = new RequestWeightBudget(100);
    const { plan } = planner({ budget, snapshotReserve: 50 });
    plan.addHole('AAAUSDT', { from: 1, to: 100_000 });
    assert.equal(brief(plan.next(t0, true)), 'idle', 'a snapshot is waiting for weight');
    assert.equal(budget.take(50, t0), 0, 'the snapshot got the weight');
    assert.equal(brief(plan.next(t0, false)), `wait ${minute}`, 'only the reserve is left');
    assert.equal(budget.take(50, t0), 0, 'the reserve is there for the next snapshot');
    assert.equal(brief(plan.next(t0 + minute, false)), 'fetch AAAUSDT 1+1000');
    assert.equal(budget.take(50, t0 + minute), 0, 'a repair leaves the reserve unspent');
  });

  test('budget: after a 429 (budget blocked), nothing goes until the time the exchange asked for', () => {
    const budget = new RequestWeightBudget(6000);
    const { plan } = planner({ budget });
    plan.addHole('AAAUSDT', { from: 1, to: 10 });
    budget.block(t0 + 30_000);
    assert.equal(brief(plan.next(t0, false)), 'wait 30000');
    assert.equal(brief(plan.next(t0 + 30_000, false)), 'fetch AAAUSDT 1+10');
  });

  test('bound: past the ids allowed per symbol, the oldest are given up, reported once', () => {
    const { plan } = planner({ maxTradesPerSymbol: 1000 });
    assert.deepEqual(plan.addHole('BTCUSDT', { from: 1, to: 600 }), []);
    assert.deepEqual(plan.addHole('BTCUSDT', { from: 1001, to: 1600 }), [{ from: 1, to: 200 }]);
    assert.deepEqual(plan.pending('BTCUSDT'), [
      { from: 201, to: 600 },
      { from: 1001, to: 1600 },
    ]);
    assert.deepEqual(plan.status(), { symbols: 1, ids: 1000 });
    assert.deepEqual(plan.addHole('BTCUSDT', { from: 5000, to: 7999 }), [
      { from: 201, to: 600 },
      { from: 1001, to: 1600 },
      { from: 5000, to: 6999 },
    ]);
    assert.deepEqual(plan.pending('BTCUSDT'), [{ from: 7000, to: 7999 }]);
    assert.deepEqual(plan.addHole('ETHUSDT', { from: 1, to: 1000 }), [], 'the bound is per symbol');
  });

  test('ids the exchange skips over are unavailable: reported, not asked again', () => {
    const { plan } = planner();
    plan.addHole('BTCUSDT', { from: 100, to: 120 });
    plan.next(t0, false);
    // Retention: the oldest trade the exchange still has is 110; and 115 is not there either.
    const answer = plan.onFetched(
      'BTCUSDT',
      100,
      [110, 111, 112, 113, 114, 116, 117, 118, 119, 120, 121].map((id) => ({ id })),
      t0,
    );
    assert.deepEqual(
      answer.publish.map((t) => t.id),
      [110, 111, 112, 113, 114, 116, 117, 118, 119, 120],
    );
    assert.deepEqual(answer.unrepairable, [
      { from: 100, to: 109 },
      { from: 115, to: 115 },
    ]);
    assert.deepEqual(plan.status(), { symbols: 0, ids: 0 });
  });

  test('failures back the symbol off; the others go on meanwhile', () => {
    const { plan } = planner();
    plan.addHole('AAAUSDT', { from: 1, to: 10 });
    plan.addHole('BBBUSDT', { from: 1, to: 10 });
    plan.next(t0, false);
    plan.onFailed('AAAUSDT', t0);
    assert.equal(brief(plan.next(t0, false)), 'fetch BBBUSDT 1+10');
    assert.equal(brief(plan.next(t0, false)), 'wait 100');
    plan.onFailed('BBBUSDT', t0, t0 + 5000);
    assert.equal(brief(plan.next(t0 + 100, false)), 'fetch AAAUSDT 1+10');
    plan.onFailed('AAAUSDT', t0 + 100);
    assert.equal(brief(plan.next(t0 + 100, false)), 'wait 200', 'the second failure in a row waits longer');
  });

  test('empty answers are retried, then the hole is given up', () => {
    const { plan } = planner({ maxEmptyAnswers: 2 });
    plan.addHole('BTCUSDT', { from: 1, to: 10 });
    plan.addHole('BTCUSDT', { from: 20, to: 30 });
    assert.equal(brief(plan.next(t0, false)), 'fetch BTCUSDT 1+30', 'both holes in one request');
    assert.deepEqual(plan.onFetched('BTCUSDT', 1, [], t0), { publish: [], unrepairable: [] });
    assert.equal(brief(plan.next(t0 + 100, false)), 'fetch BTCUSDT 1+30');
    assert.deepEqual(plan.onFetched('BTCUSDT', 1, [], t0 + 100), { publish: [], unrepairable: [{ from: 1, to: 10 }] });
    assert.equal(brief(plan.next(t0 + 100, false)), 'fetch BTCUSDT 20+11');
  });

  test('backfill: the first id at the start time is looked up, then the trades up to the first streamed one', () => {
    const { plan } = planner();
    plan.addBackfill('SOLUSDT', t0 - 15 * minute, 5000);
    assert.deepEqual(plan.status(), { symbols: 1, ids: 0 });
    assert.equal(brief(plan.next(t0, false)), `find-start SOLUSDT ${t0 - 15 * minute}`);
    assert.deepEqual(plan.onStartFound('SOLUSDT', 3500), []);
    assert.deepEqual(plan.status(), { symbols: 1, ids: 1500 });
    assert.equal(brief(plan.next(t0, false)), 'fetch SOLUSDT 3500+1000');
  });

  test('backfill with no trade since the start time, or none before the first streamed one: nothing to do', () => {
    const { plan } = planner();
    plan.addBackfill('SOLUSDT', t0, 5000);
    plan.next(t0, false);
    assert.deepEqual(plan.onStartFound('SOLUSDT', undefined), []);
    plan.addBackfill('ETHUSDT', t0, 5000);
    plan.next(t0, false);
    assert.deepEqual(plan.onStartFound('ETHUSDT', 5000), []);
    assert.deepEqual(plan.status(), { symbols: 0, ids: 0 });
    assert.equal(brief(plan.next(t0, false)), 'idle');
  });

  test('a hole that arrives while a request is in flight joins the same turn order', () => {
    const { plan } = planner({ batchLimit: 5 });
    plan.addHole('BTCUSDT', { from: 1, to: 5 });
    plan.next(t0, false);
    plan.addHole('BTCUSDT', { from: 8, to: 9 });
    plan.onFetched('BTCUSDT', 1, served(1, 5), t0);
    assert.equal(brief(plan.next(t0, false)), 'fetch BTCUSDT 8+2');
  });
});
