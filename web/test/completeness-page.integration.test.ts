/**
 * Completeness on the page, in a real browser (Debian's Chromium), on fixture data with
 * known holes (`qualityRows`): a marker over each candle that lacks trades, and the header
 * saying how many trades the shown range lacks, both following repairs and range changes.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createClient } from '@clickhouse/client';
import type { Page } from 'playwright-core';
import { migrate } from '@candleflow/common/clickhouse-migrations';
import { findProjectRoot } from '@candleflow/common/env';
import { createLogger } from '@candleflow/common/logger';
import { testClickhouseUrl, uniqueName } from '@candleflow/common/testing';
import { ensureClientBuild } from '../server/client-build.js';
import type { WebServer } from '../server/web-server.js';
import { launchBrowser, type Browser } from './support/browser.js';
import { qualityRepairRows, qualityRows, t0 } from './support/fixtures.js';
import { startTestServer } from './support/test-server.js';

const database = uniqueName('web_completeness');
const db = createClient({ url: testClickhouseUrl, database });
const screenshot = path.join(findProjectRoot(), '.local', 'test-results', 'quality-page.png');
const staticDir = mkdtempSync(path.join(tmpdir(), 'candleflow-page-'));
let server: WebServer;
let browser: Browser;
let page: Page;

before(async () => {
  await ensureClientBuild(staticDir, createLogger('web-test', 'silent'));
  await migrate({ url: testClickhouseUrl, database });
  const rows = qualityRows();
  await db.insert({ table: 'trades', values: rows.trades, format: 'JSONEachRow' });
  await db.insert({ table: 'trade_windows', values: rows.windows, format: 'JSONEachRow' });
  await db.insert({ table: 'orderbook_snapshots', values: rows.snapshots, format: 'JSONEachRow' });
  server = await startTestServer({ clickhouseUrl: testClickhouseUrl, database, staticDir });
  browser = await launchBrowser();
  page = await browser.context.newPage();
});

after(async () => {
  await browser?.close();
  await server?.close();
  await db.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  await db.close();
  rmSync(staticDir, { recursive: true, force: true });
});

interface Marks {
  candles: number;
  x: number[];
  labels: string[];
  hover: string[];
  inLegend: boolean;
}

/** The price chart's candle count and its missing-trades trace. */
function marks(p: Page): Promise<Marks | null> {
  return p.evaluate(() => {
    type Trace = { name?: string; x: number[]; text?: string[]; customdata?: string[]; showlegend?: boolean };
    const data = (document.getElementById('price-chart') as unknown as { data?: Trace[] } | null)?.data;
    const trace = data?.find((t) => t.name === 'missing trades');
    if (!data?.[0] || !trace) return null;
    return {
      candles: data[0].x.length,
      x: trace.x.map(Number),
      labels: trace.text ?? [],
      hover: trace.customdata ?? [],
      inLegend: trace.showlegend === true,
    };
  });
}

/** Waits until the chart shows `candles` candles marked at `x`, and the header says `header`. */
async function waitForView(p: Page, candles: number, x: number[], header: string, timeout = 15_000): Promise<Marks> {
  await p.waitForFunction(
    ([n, starts, text]) => {
      type Trace = { name?: string; x: number[] };
      const data = (document.getElementById('price-chart') as unknown as { data?: Trace[] } | null)?.data;
      const trace = data?.find((t) => t.name === 'missing trades');
      return (
        data?.[0]?.x.length === n &&
        JSON.stringify(trace?.x.map(Number)) === JSON.stringify(starts) &&
        document.getElementById('completeness')?.textContent === text
      );
    },
    [candles, x, header] as const,
    { timeout },
  );
  const state = await marks(p);
  assert.ok(state);
  return state;
}

test('marks each candle with missing trades and says how many the view lacks', { timeout: 60_000 }, async () => {
  await page.goto(server.url);
  const view = await waitForView(page, 36, [t0 + 20_000, t0 + 300_000], '18 trades missing in view');
  assert.deepEqual(view, {
    candles: 36,
    x: [t0 + 20_000, t0 + 300_000],
    labels: ['10', '3'],
    hover: ['10 trades missing', '3 trades missing'],
    inLegend: true,
  });
  assert.equal(await page.locator('#completeness').getAttribute('data-status'), 'incomplete');
  assert.match((await page.locator('#completeness').getAttribute('title')) ?? '', /^702 trades stored \(ids 1–720\)/);
  assert.deepEqual(await page.locator('#price-chart .legendtext').allTextContents(), [
    'Price',
    'VWAP',
    'Buy volume',
    'Sell volume',
    'missing trades',
  ]);

  mkdirSync(path.dirname(screenshot), { recursive: true });
  await page.screenshot({ path: screenshot });

  // Hovering the marker shows its text.
  const marker = page.locator('#price-chart .scatterlayer .trace').last().locator('.point').first();
  const box = await marker.boundingBox();
  assert.ok(box, 'the marker is drawn');
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.waitForFunction(() =>
    /10 trades missing/.test(document.querySelector('#price-chart .hoverlayer')?.textContent ?? ''),
  );
  await page.mouse.move(0, 0);
});

test('a shorter range asks again, for that range', { timeout: 60_000 }, async () => {
  // The last 5 minutes: windows 6..35, without the hole of window 2 and the one after window 4.
  await page.click('button[data-range="5m"]');
  await waitForView(page, 30, [t0 + 300_000], '3 trades missing in view');
  await page.click('button[data-range="15m"]');
  await waitForView(page, 36, [t0 + 20_000, t0 + 300_000], '18 trades missing in view');
});

test('a repaired window loses its marker, and the header follows', { timeout: 60_000 }, async () => {
  const repair = qualityRepairRows(30);
  await db.insert({ table: 'trades', values: repair.trades, format: 'JSONEachRow' });
  await db.insert({ table: 'trade_windows', values: [repair.window], format: 'JSONEachRow' });
  const view = await waitForView(page, 36, [t0 + 20_000], '15 trades missing in view');
  assert.deepEqual(view.hover, ['10 trades missing']);
});

test('a window repaired further back than the pushes reach loses its marker too', { timeout: 120_000 }, async () => {
  // Pushes carry the last two minutes; window 2 is four and a half minutes before the
  // latest. The header follows at the next check; the page then sees the server count
  // fewer marked windows than it shows and reads the range again, which has the repaired
  // window once the server's recent-candle cache has reread its span (every minute).
  const repair = qualityRepairRows(2);
  await db.insert({ table: 'trades', values: repair.trades, format: 'JSONEachRow' });
  await db.insert({ table: 'trade_windows', values: [repair.window], format: 'JSONEachRow' });
  await page.waitForFunction(
    () => document.getElementById('completeness')?.textContent === '5 trades missing in view',
    null,
    { timeout: 15_000 },
  );
  const view = await waitForView(page, 36, [], '5 trades missing in view', 90_000);
  assert.equal(view.inLegend, false, 'no legend entry without markers');
});
