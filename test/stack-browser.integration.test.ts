/**
 * What a user sees: the page in a real browser (Debian's Chromium) while the real
 * pipeline runs (simulator -> producer -> Kafka -> aggregator -> ClickHouse -> web).
 * Saves the screenshot the README shows.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { findProjectRoot } from '@candleflow/common/env';
import { createLogger } from '@candleflow/common/logger';
import { testClickhouseUrl, waitUntil } from '@candleflow/common/testing';
import type { Page } from 'playwright-core';
import { ensureClientBuild } from '../web/server/client-build.js';
import { readWebConfig } from '../web/server/config.js';
import { defaultStaticDir, startWebServer, type WebServer } from '../web/server/web-server.js';
import { launchBrowser, type Browser } from '../web/test/support/browser.js';
import { startPipeline, type Pipeline } from './support/pipeline.js';

const screenshot = path.join(findProjectRoot(), '.local', 'test-results', 'stack.png');
let pipeline: Pipeline;
let web: WebServer;
let browser: Browser;
let page: Page;

before(async () => {
  pipeline = await startPipeline({ symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'], rate: 300, seed: 5 });
  const logger = createLogger('web', 'warn');
  await ensureClientBuild(defaultStaticDir(), logger);
  web = await startWebServer(
    readWebConfig({
      WEB_HOST: '127.0.0.1',
      WEB_PORT: '0',
      CLICKHOUSE_URL: testClickhouseUrl,
      CLICKHOUSE_DB: pipeline.database,
      LOG_LEVEL: 'warn',
    }),
    { logger },
  );
  browser = await launchBrowser();
  page = await browser.context.newPage();
});

after(async () => {
  await browser?.close();
  await web?.close();
  await pipeline?.close();
});

/** The price chart's candles: how many, and the newest as [time, open, high, low, close]. */
function newestCandle(p: Page): Promise<string | null> {
  return p.evaluate(() => {
    const trace = (document.getElementById('price-chart') as unknown as { data?: Record<string, unknown[]>[] } | null)
      ?.data?.[0];
    const x = trace?.x;
    if (!trace || !x || x.length === 0) return null;
    const n = x.length - 1;
    return JSON.stringify([x.length, ...['x', 'open', 'high', 'low', 'close'].map((k) => trace[k]?.[n])]);
  });
}

test(
  'the live chart follows the pipeline, changes every second, and switches symbol',
  { timeout: 120_000 },
  async () => {
    await page.goto(web.url);
    await waitUntil('candles on the chart', () => newestCandle(page), { timeoutMs: 30_000 });
    await page.locator('text=LIVE').first().waitFor({ timeout: 10_000 });

    // Three changes within four seconds: the forming candle updates about once a second.
    const states = new Set<string>();
    const started = Date.now();
    while (Date.now() - started < 4000 && states.size < 4) {
      const state = await newestCandle(page);
      if (state) states.add(state);
      await page.waitForTimeout(100);
    }
    assert.ok(states.size >= 4, `the chart showed ${states.size} states in 4 s (3 changes needed)`);

    await page.click('button[data-symbol="ETHUSDT"]');
    await waitUntil('the ETHUSDT chart', async () => {
      const title = await page.locator('header').innerText();
      const state = await newestCandle(page);
      return title.includes('ETHUSDT') && state !== null;
    });
    const ethPrice = JSON.parse((await newestCandle(page)) ?? '[]') as number[];
    assert.ok(Number(ethPrice[4]) > 1000 && Number(ethPrice[4]) < 10_000, `ETHUSDT close ${ethPrice[4]}`);

    // The picture shows a forming history: at least two candles.
    await waitUntil('two ETHUSDT candles on the chart', async () => {
      const [count] = JSON.parse((await newestCandle(page)) ?? '[0]') as number[];
      return (count ?? 0) >= 2;
    });
    mkdirSync(path.dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot });
  },
);
