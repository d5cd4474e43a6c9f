/**
 * The page in a real browser (Debian's Chromium) while data flows: built with Vite,
 * served by the web server, fed by a MarketSource writing into ClickHouse.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createClient } from '@clickhouse/client';
import type { Page, WebSocketRoute } from 'playwright-core';
import { migrate } from '@candleflow/common/clickhouse-migrations';
import { findProjectRoot } from '@candleflow/common/env';
import { createLogger } from '@candleflow/common/logger';
import { testClickhouseUrl, uniqueName } from '@candleflow/common/testing';
import { ensureClientBuild } from '../server/client-build.js';
import type { WebServer } from '../server/web-server.js';
import { launchBrowser, type Browser } from './support/browser.js';
import { startMarketFeeder, type MarketSource } from './support/market-feeder.js';
import { TcpProxy } from '@candleflow/common/tcp-proxy';
import { startTestServer } from './support/test-server.js';

const database = uniqueName('web_page');
const target = new URL(testClickhouseUrl);
const proxy = new TcpProxy(target.hostname, Number(target.port || 8123));
const screenshot = path.join(findProjectRoot(), '.local', 'test-results', 'web.png');
const staticDir = mkdtempSync(path.join(tmpdir(), 'candleflow-page-'));
let market: MarketSource;
let server: WebServer;
let browser: Browser;
let page: Page;

before(async () => {
  await ensureClientBuild(staticDir, createLogger('web-test', 'silent'));
  await migrate({ url: testClickhouseUrl, database });
  market = await startMarketFeeder({
    url: testClickhouseUrl,
    database,
    symbols: { BTCUSDT: 65_000, ETHUSDT: 3_100 },
    intervalMs: 500,
    historyMs: 2 * 3600_000,
  });
  await proxy.start();
  server = await startTestServer({ clickhouseUrl: `http://127.0.0.1:${proxy.port}`, database, staticDir });
  browser = await launchBrowser();
  page = await browser.context.newPage();
});

after(async () => {
  await browser?.close();
  await server?.close();
  await proxy.stop();
  await market?.stop();
  const admin = createClient({ url: testClickhouseUrl });
  await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  await admin.close();
  rmSync(staticDir, { recursive: true, force: true });
});

interface PlotTrace {
  x: number[];
  open: number[];
  high: number[];
  low: number[];
  close: number[];
}

/** The candles the price chart shows now: count, and the newest one. */
function chartState(p: Page): Promise<{ count: number; last: number[] } | null> {
  return p.evaluate(() => {
    const trace = (document.getElementById('price-chart') as unknown as { data?: PlotTrace[] } | null)?.data?.[0];
    if (!trace || trace.x.length === 0) return null;
    const n = trace.x.length - 1;
    return {
      count: trace.x.length,
      last: [trace.x[n], trace.open[n], trace.high[n], trace.low[n], trace.close[n]].map(Number),
    };
  });
}

/** How many times the price chart changed during `ms`. */
/** Changes of the chart within `ms`, watching no longer once `enough` were seen. */
async function chartChanges(p: Page, ms: number, enough = Number.POSITIVE_INFINITY): Promise<number> {
  let changes = 0;
  let previous = JSON.stringify(await chartState(p));
  const end = Date.now() + ms;
  while (Date.now() < end && changes < enough) {
    await p.waitForTimeout(100);
    const current = JSON.stringify(await chartState(p));
    if (current !== previous) changes++;
    previous = current;
  }
  return changes;
}

const text = (p: Page, selector: string) => p.locator(selector).innerText();

test('shows the candles and updates the chart in place every second', { timeout: 60_000 }, async () => {
  await page.goto(server.url);
  await page.waitForFunction(() => {
    const gd = document.getElementById('price-chart') as unknown as { data?: { x: unknown[] }[] } | null;
    return (gd?.data?.[0]?.x.length ?? 0) > 50;
  });
  const state = await chartState(page);
  assert.ok(state && state.count >= 80 && state.count <= 91, `15 minutes of 10 s candles, got ${state?.count}`);
  assert.equal(await text(page, '.quote-symbol'), 'BTCUSDT');
  assert.match(await text(page, '#last-price'), /^\d{2},\d{3}\.\d{2}$/);
  assert.match(await text(page, '#change-24h'), /^[+-][\d,.]+ [+-]\d+\.\d{2}%$/);
  await page.waitForSelector('.live-indicator[data-status="live"]');
  const scriptBytes = await page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .filter((e) => (e as PerformanceResourceTiming).initiatorType === 'script' || e.name.endsWith('.js'))
      .reduce((sum, e) => sum + (e as PerformanceResourceTiming).encodedBodySize, 0),
  );
  assert.ok(scriptBytes > 100_000 && scriptBytes < 600 * 1024, `JavaScript over the wire: ${scriptBytes} bytes`);

  // The chart element must survive updates: Plotly.react redraws it in place.
  await page.evaluate(() => ((document.getElementById('price-chart') as unknown as { marker: number }).marker = 42));
  const changes = await chartChanges(page, 4000);
  assert.ok(changes >= 3, `the chart changed ${changes} times in 4 s`);
  const marker = await page.evaluate(
    () => (document.getElementById('price-chart') as unknown as { marker?: number }).marker,
  );
  assert.equal(marker, 42, 'the same chart element, not a new one');
  assert.ok((await page.locator('#orderbook-ladder .ladder-row').count()) >= 10, 'order book levels shown');
  assert.ok((await page.locator('#trade-tape .tape-row').count()) >= 5, 'trades shown');
  assert.ok(
    await page.evaluate(() => {
      const gd = document.getElementById('depth-chart') as unknown as { data?: { x: unknown[] }[] } | null;
      return (gd?.data?.[0]?.x.length ?? 0) > 0 && (gd?.data?.[1]?.x.length ?? 0) > 0;
    }),
    'depth chart drawn with both sides',
  );
});

test("keeps the user's zoom while updates arrive", { timeout: 60_000 }, async () => {
  const drag = page.locator('#price-chart .nsewdrag').first();
  const box = await drag.boundingBox();
  assert.ok(box, 'the plot area');
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width * 0.3, y);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.5, y + 2, { steps: 8 });
  await page.mouse.move(box.x + box.width * 0.6, y + 2, { steps: 8 });
  await page.mouse.up();
  const zoomed = () =>
    page.evaluate(() => {
      const layout = (
        document.getElementById('price-chart') as unknown as {
          layout: { xaxis: { range: unknown[]; autorange: boolean } };
        }
      ).layout;
      return { range: layout.xaxis.range.map(String), autorange: layout.xaxis.autorange };
    });
  const before = await zoomed();
  assert.equal(before.autorange, false, 'zoomed in');
  assert.ok((await chartChanges(page, 2500)) >= 1, 'updates kept coming');
  assert.deepEqual(await zoomed(), before, 'and the zoom stayed');
  await page.dblclick('#price-chart .nsewdrag');
});

test('range buttons load that much history', { timeout: 60_000 }, async () => {
  await page.click('button[data-range="1h"]');
  await page.waitForFunction(() => {
    const gd = document.getElementById('price-chart') as unknown as { data?: { x: unknown[] }[] } | null;
    return (gd?.data?.[0]?.x.length ?? 0) > 300;
  });
  const hour = await chartState(page);
  assert.ok(hour && hour.count >= 355 && hour.count <= 361, `an hour of 10 s candles, got ${hour?.count}`);
  await page.click('button[data-range="5m"]');
  await page.waitForFunction(() => {
    const gd = document.getElementById('price-chart') as unknown as { data?: { x: unknown[] }[] } | null;
    return (gd?.data?.[0]?.x.length ?? 999) <= 31;
  });
  await page.click('button[data-range="15m"]');
  await page.waitForFunction(() => {
    const gd = document.getElementById('price-chart') as unknown as { data?: { x: unknown[] }[] } | null;
    return (gd?.data?.[0]?.x.length ?? 0) > 80;
  });
});

test('switches symbol', { timeout: 60_000 }, async () => {
  await page.click('button[data-symbol="ETHUSDT"]');
  await page.waitForFunction(() => document.querySelector('.quote-symbol')?.textContent === 'ETHUSDT');
  await page.waitForFunction(() => {
    const gd = document.getElementById('price-chart') as unknown as { data?: { close: number[] }[] } | null;
    const close = gd?.data?.[0]?.close ?? [];
    return close.length > 50 && close.every((c) => c > 1000 && c < 10_000);
  });
  assert.equal(await page.locator('button[data-symbol="ETHUSDT"]').getAttribute('aria-pressed'), 'true');
  assert.ok((await chartChanges(page, 2500)) >= 1, 'the new symbol updates live');
  await page.waitForSelector('.live-indicator[data-status="live"]');
  mkdirSync(path.dirname(screenshot), { recursive: true });
  await page.screenshot({ path: screenshot });
});

test('says when ClickHouse is unreachable, and recovers by itself', { timeout: 60_000 }, async () => {
  await proxy.stop();
  await page.waitForSelector('.live-indicator[data-status="down"]', { timeout: 15_000 });
  assert.match(await text(page, '#banner'), /ClickHouse is unreachable/);
  await proxy.start();
  await page.waitForSelector('.live-indicator[data-status="live"]', { timeout: 15_000 });
  await page.waitForSelector('#banner', { state: 'detached', timeout: 15_000 });
  assert.ok((await chartChanges(page, 2500)) >= 1, 'updates again');
});

test('falls back to polling when the WebSocket drops, and goes back to it', { timeout: 60_000 }, async () => {
  const second = await browser.context.newPage();
  let refuse = false;
  const open: WebSocketRoute[] = [];
  await second.routeWebSocket(/\/ws$/, (ws) => {
    if (refuse) {
      void ws.close({ code: 1011, reason: 'refused by the test' });
      return;
    }
    ws.connectToServer();
    open.push(ws);
  });
  try {
    await second.goto(server.url);
    await second.waitForSelector('.live-indicator[data-status="live"]');
    assert.doesNotMatch(await text(second, '.live-indicator'), /polling/i);

    refuse = true;
    await Promise.all(open.splice(0).map((ws) => ws.close()));
    await second.waitForFunction(() => /polling/i.test(document.querySelector('.live-indicator')?.textContent ?? ''));
    // Polling shares the machine with the rest of the suite: two changes, however long they take.
    assert.ok((await chartChanges(second, 15_000, 2)) >= 2, 'the chart keeps updating by polling');
    assert.equal(await second.locator('.live-indicator').getAttribute('data-status'), 'live');

    refuse = false;
    await second.waitForFunction(
      () => !/polling/i.test(document.querySelector('.live-indicator')?.textContent ?? ''),
      null,
      {
        timeout: 20_000,
      },
    );
    assert.equal(open.length, 1, 'reconnected');
  } finally {
    await second.close();
  }
});

test('turns stale 5 s after data stops flowing', { timeout: 60_000 }, async () => {
  const written = market.written();
  assert.ok(
    written.trade_windows > 20 && written.trades > 20 && written.orderbook_updates > 20,
    JSON.stringify(written),
  );
  await page.waitForSelector('.live-indicator[data-status="live"]');
  await market.stop();
  const stoppedAt = Date.now();
  await page.waitForSelector('.live-indicator[data-status="stale"]', { timeout: 15_000 });
  const after = Date.now() - stoppedAt;
  assert.ok(after >= 4000, `stale after ${after} ms without data`);
  assert.match(await text(page, '.live-indicator'), /^stale · \d+s$/i);
});
