import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '@candleflow/common/logger';

/** The web workspace folder (holding `client/`, `shared/` and `vite.config.ts`). */
export function webRoot(): string {
  return path.resolve(import.meta.dirname, '..');
}

function newestMtime(target: string): number {
  if (!existsSync(target)) return 0;
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(target)) newest = Math.max(newest, newestMtime(path.join(target, entry)));
  return newest;
}

/**
 * Whether the page at `outDir` is missing, or older than its sources. Without sources
 * (an image that ships only the build) a present build is never stale.
 */
export function clientBuildNeeded(outDir: string, root = webRoot()): boolean {
  const index = path.join(outDir, 'index.html');
  if (!existsSync(index)) return true;
  const sources = ['client', 'shared', 'vite.config.ts'].map((p) => path.join(root, p));
  if (!existsSync(sources[0] ?? '')) return false;
  return Math.max(...sources.map(newestMtime)) > statSync(index).mtimeMs;
}

/** Builds the page with Vite into `outDir` when it is missing or out of date. */
export async function ensureClientBuild(outDir: string, logger: Logger, root = webRoot()): Promise<void> {
  if (!clientBuildNeeded(outDir, root)) return;
  if (!existsSync(path.join(root, 'vite.config.ts'))) {
    throw new Error(`the page is not built at ${outDir} and its sources are missing`);
  }
  logger.info({ outDir }, 'building the page with Vite (npm run build -w web)');
  const { build } = await import('vite');
  await build({ configFile: path.join(root, 'vite.config.ts'), logLevel: 'warn', build: { outDir } });
}
