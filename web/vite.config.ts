import path from 'node:path';
import { defineConfig } from 'vite';

const root = path.join(import.meta.dirname, 'client');

export default defineConfig({
  root,
  base: './',
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
