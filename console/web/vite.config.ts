import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The console page: static files in dist/web that `loa serve` serves itself. No CDN, no web
// fonts, no runtime fetches from anywhere but the central machine.
const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: '/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2020',
    sourcemap: false,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 300,
  },
});
