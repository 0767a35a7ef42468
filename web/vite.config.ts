import { defineConfig } from 'vitest/config';
import preact from '@preact/preset-vite';

// The build lands in the Go package that embeds it (internal/web/ui), whose
// dist/.keep is committed, so the output directory is never emptied.
// Node's process, without pulling in @types/node for one line.
declare const process: { env: Record<string, string | undefined> };
const api = process.env.SPM_API ?? 'http://127.0.0.1:9900';

export default defineConfig({
  plugins: [preact()],
  build: {
    outDir: '../internal/web/ui/dist',
    emptyOutDir: false,
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    // `npm run dev` talks to a server started with --listen 127.0.0.1:9900
    // (or the one in SPM_API).
    proxy: { '/api': { target: api, changeOrigin: false } },
  },
  preview: { proxy: { '/api': { target: api, changeOrigin: false } } },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
