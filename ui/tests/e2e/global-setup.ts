import { build } from 'vite';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

const here = fileURLToPath(new URL('.', import.meta.url));

/** Bundles the mock backend into one script that each page gets before the app runs. */
export default async function globalSetup() {
  if (!existsSync(`${here}/../../dist/index.html`)) {
    throw new Error('ui/dist is missing: run `npm run build` before the page tests');
  }
  await build({
    configFile: false,
    logLevel: 'warn',
    build: {
      lib: { entry: `${here}/mock-entry.ts`, formats: ['iife'], name: 'AtelierMock', fileName: () => 'tauri-mock.js' },
      outDir: `${here}/.mock`,
      emptyOutDir: true,
      minify: false,
    },
  });
}
