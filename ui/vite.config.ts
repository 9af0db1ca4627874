import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The app is served from Tauri's own protocol with a strict CSP: every script and style must be a
// file (no inline code), so CSS is extracted and no module-preload polyfill is inlined.
export default defineConfig({
  plugins: [svelte({ compilerOptions: { css: 'external' } })],
  clearScreen: false,
  base: './',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'safari15',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    cssCodeSplit: false,
  },
  resolve: process.env.VITEST ? { conditions: ['browser'] } : undefined,
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    setupFiles: ['src/test-setup.ts'],
  },
});
