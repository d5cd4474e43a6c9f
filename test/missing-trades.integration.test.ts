/**
 * A hole REST cannot fill is visible: the simulator withholds trades from the stream and
 * keeps too few for REST to serve them all, so the producer repairs what is left and
 * gives up on the rest. Whatever is missing must show, exactly, in `trade_windows`
 * (missing_trades), in `/api/quality`, and as marked candles on the page.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { findProjectRoot } from '@candleflow/common/env';
import { createLogger } from '@candleflow/common/logger';
import { testClickhouseUrl, waitUntil } from '@candleflow/common/testing';
import { createClient } from '@clickhouse/client';
import { readWindows } from '../aggregator/test/support/harness.js';
import { assertWindowsMatch, referenceWindows, type RefTrade } from '../aggregator/test/support/reference-windows.js';
import type { QualityResponse } from '../web/shared/api-types.js';
import { ensureClientBuild } from '../web/server/client-build.js';
import { readWebConfig } from '../web/server/config.js';
import { defaultStaticDir, startWebServer, type WebServer } from '../web/server/web-server.js';
import { launchBrowser, type Browser } from '../web/test/support/browser.js';
import { startPipeline, type Pipeline } from './support/pipeline.js';

const symbol = 'BTCUSDT';
const withheldCount = 120;
const screenshot = path.join(findProjectRoot(), '.local', 'test-results', 'missing-trades.png');
const client = createClient({ url: testClickhouseUrl, database: 'system' });
let pipeline: Pipeline | undefined;
let web: WebServer | undefined;
let browser: Browser | undefined;

before(async () => {
  // 40 trades kept for REST: of 120 withheld, the oldest are gone before the repair asks for them.
  pipeline = await startPipeline({ symbols: [symbol], rate: 150, seed: 23, maxMessages: 2500, tradeRetention: 40 });
});

after(async () => {
  await browser?.close();
  await web?.close();
  await pipeline?.close();
  await client.close();
});

async function metric(name: string): Promise<number> {
  const found = (await pipeline?.producerRegistry.getMetricsAsJSON())?.find((m) => m.name === name);
  return found?.values.reduce((sum, v) => sum + v.value, 0) ?? 0;
}

test(
  'trades the simulator no longer has show as missing in the windows, the API and the page',
  { timeout: 180_000 },
  async () => {
    assert.ok(pipeline);
    const { sim, sent, database } = pipeline;
    const withheld: RefTrade[] = [];
    sim.on(
      'withheld',
      (s: string, t: { id: number; price: string; qty: string; time: number; isBuyerMaker: boolean }) => {
        if (s === symbol)
          withheld.push({
            symbol: s,
            id: t.id,
            price: t.price,
            qty: t.qty,
            timeMs: t.time,
            buyerIsMaker: t.isBuyerMaker,
          });
      },
    );
    await waitUntil('300 trades streamed', () => sent.length >= 300, { timeoutMs: 30_000 });
    // Withheld early in a 10 s window, so that the hole lies inside one (with trades on both
    // sides), where the window row can see it; 120 trades take about a second.
    await waitUntil('the start of a window', () => Date.now() % 10_000 >= 1000 && Date.now() % 10_000 < 4000, {
      timeoutMs: 15_000,
    });
    sim.withholdTrades(symbol, withheldCount);
    await waitUntil(`${withheldCount} trades withheld`, () => withheld.length === withheldCount, { timeoutMs: 30_000 });
    await waitUntil('the simulator to send its 2500 frames', () => sim.stats().trades + sim.stats().depth >= 2500, {
      timeoutMs: 60_000,
      describe: () => JSON.stringify(sim.stats()),
    });

    const query = async <T>(sql: string): Promise<T[]> =>
      (await client.query({ query: sql, format: 'JSONEachRow' })).json<T>();
    const streamed: RefTrade[] = sent.map((t) => ({
      symbol: t.s,
      id: t.t,
      price: t.p,
      qty: t.q,
      timeMs: t.T,
      buyerIsMaker: t.m,
    }));
    // Every withheld id is either repaired (stored) or given up (counted), never left pending.
    const stored = await waitUntil(
      'each withheld trade repaired or given up',
      async () => {
        const rows = await query<{ id: string }>(`SELECT DISTINCT trade_id AS id FROM ${database}.trades`);
        const ids = new Set(rows.map((r) => Number(r.id)));
        const repaired = withheld.filter((t) => ids.has(t.id)).length;
        const givenUp = await metric('producer_trades_unrepairable_total');
        return repaired + givenUp === withheldCount && ids.size >= streamed.length + repaired ? ids : undefined;
      },
      { timeoutMs: 60_000 },
    );
    const lost = withheld.filter((t) => !stored.has(t.id)).map((t) => t.id);
    assert.ok(lost.length > 0, 'the retention was short enough for some trades to be lost');
    for (const t of streamed) assert.ok(stored.has(t.id), `streamed trade ${t.id} stored`);
    assert.equal(stored.size, streamed.length + withheldCount - lost.length, 'nothing stored that was not traded');

    // Windows: exactly the reference of what is stored, missing_trades included.
    const kept = [...streamed, ...withheld.filter((t) => stored.has(t.id))];
    const expected = referenceWindows(kept, 10);
    const windows = await waitUntil(
      `the ${expected.length} windows final and complete`,
      async () => {
        const rows = await readWindows({ clickhouse: client, db: database }).catch(() => []);
        const done =
          rows.length === expected.length && rows.every((r, i) => r.isFinal && r.trades === expected[i]?.trades);
        return done ? rows : undefined;
      },
      { timeoutMs: 60_000 },
    );
    assertWindowsMatch(windows, expected);
    const inWindows = windows.reduce((sum, w) => sum + w.missingTrades, 0);
    assert.ok(inWindows > 0, 'the hole lies inside at least one window');

    // The API: the exact number of ids missing over the whole range, across window edges.
    const logger = createLogger('web', 'warn');
    await ensureClientBuild(defaultStaticDir(), logger);
    web = await startWebServer(
      readWebConfig({
        WEB_HOST: '127.0.0.1',
        WEB_PORT: '0',
        CLICKHOUSE_URL: testClickhouseUrl,
        CLICKHOUSE_DB: database,
        LOG_LEVEL: 'warn',
      }),
      { logger, migrate: false },
    );
    const times = kept.map((t) => t.timeMs);
    const from = Math.min(...times);
    const to = Math.max(...times) + 1;
    const quality = (await (
      await fetch(`${web.url}/api/quality?symbol=${symbol}&from=${from}&to=${to}`)
    ).json()) as QualityResponse;
    assert.equal(quality.missingTrades, lost.length);
    assert.equal(quality.tradesStored, stored.size);
    assert.equal(quality.complete, false);
    assert.equal(quality.windowsWithMissingTrades, windows.filter((w) => w.missingTrades > 0).length);

    // The page: marked candles and the header saying what is missing.
    browser = await launchBrowser();
    const page = await browser.context.newPage();
    await page.goto(web.url);
    const marks = await waitUntil('marked candles on the chart', () =>
      page.evaluate(() => {
        const data = (
          document.getElementById('price-chart') as unknown as { data?: { name?: string; x?: unknown[] }[] }
        )?.data;
        return data?.find((trace) => trace.name === 'missing trades')?.x?.length || undefined;
      }),
    );
    assert.equal(marks, windows.filter((w) => w.missingTrades > 0).length);
    await page.locator(`text=${lost.length} trades missing in view`).first().waitFor({ timeout: 15_000 });
    mkdirSync(path.dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot });
  },
);
