// Vite bundles the page (web/src) with the engine (src/), which has no Node dependency. The data
// the Node side precomputes (web/generated: the catalogue, the runs of Node-only scenarios) is
// copied as is. `linger lab serve` builds with this config; `npx vite web` serves it for development.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: './',
  publicDir: here('./generated'),
  build: {
    outDir: here('./dist'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
    reportCompressedSize: false,
  },
  worker: { format: 'es' },
  server: { host: '127.0.0.1', fs: { allow: [here('..')] } },
  preview: { host: '127.0.0.1' },
});
