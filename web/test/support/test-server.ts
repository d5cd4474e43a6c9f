import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { createLogger } from '@candleflow/common/logger';
import { readWebConfig } from '../../server/config.js';
import { startWebServer, type WebServer } from '../../server/web-server.js';

export interface TestServerOptions {
  clickhouseUrl: string;
  database: string;
  pushIntervalMs?: number;
  /** The built page to serve; default a stand-in index.html in a temporary folder. */
  staticDir?: string;
  /** More settings (e.g. `WEB_WS_MAX_PER_IP`), over the defaults. */
  env?: Record<string, string>;
}

/** The stand-in page's script, `/assets/app-1234.js` (with its gzipped copy, as the build writes). */
export const standInScript = 'console.log("candleflow");\n'.repeat(50);

/** The web server on 127.0.0.1, an ephemeral port, quiet logs; the caller closes it. */
export async function startTestServer(options: TestServerOptions): Promise<WebServer> {
  const standIn =
    options.staticDir === undefined ? mkdtempSync(path.join(tmpdir(), 'candleflow-web-static-')) : undefined;
  if (standIn) {
    writeFileSync(path.join(standIn, 'index.html'), '<!doctype html><title>candleflow</title>');
    mkdirSync(path.join(standIn, 'assets'));
    writeFileSync(path.join(standIn, 'assets', 'app-1234.js'), standInScript);
    writeFileSync(path.join(standIn, 'assets', 'app-1234.js.gz'), gzipSync(standInScript));
  }
  const staticDir = options.staticDir ?? standIn ?? '';
  const config = readWebConfig({
    WEB_HOST: '127.0.0.1',
    WEB_PORT: '0',
    CLICKHOUSE_URL: options.clickhouseUrl,
    CLICKHOUSE_DB: options.database,
    WEB_PUSH_INTERVAL_MS: String(options.pushIntervalMs ?? 1000),
    WEB_CLICKHOUSE_TIMEOUT_MS: '3000',
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  const server = await startWebServer(config, { logger: createLogger('web', 'silent'), staticDir, migrate: false });
  return {
    ...server,
    async close() {
      await server.close();
      if (standIn) rmSync(standIn, { recursive: true, force: true });
    },
  };
}
