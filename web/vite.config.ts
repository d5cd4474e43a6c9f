import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

const root = path.join(import.meta.dirname, 'client');

/** Writes `file.gz` beside each text asset, for the server to send to browsers that accept gzip. */
function precompress(): Plugin {
  return {
    name: 'candleflow-precompress',
    apply: 'build',
    writeBundle(options, bundle) {
      for (const file of Object.keys(bundle)) {
        if (!/\.(js|css|html|svg)$/.test(file) || options.dir === undefined) continue;
        const full = path.join(options.dir, file);
        writeFileSync(`${full}.gz`, gzipSync(readFileSync(full), { level: 9 }));
      }
    },
  };
}

export default defineConfig({
  root,
  base: './',
  plugins: [precompress()],
  build: {
    outDir: path.join(import.meta.dirname, 'dist', 'public'),
    emptyOutDir: true,
    // Plotly's finance bundle alone is ~1.3 MB minified (~430 KB gzipped); that is the budget.
    chunkSizeWarningLimit: 1600,
  },
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'react' },
  },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8050',
      '/ws': { target: 'ws://127.0.0.1:8050', ws: true },
    },
  },
});
