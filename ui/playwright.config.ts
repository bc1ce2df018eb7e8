import { defineConfig } from '@playwright/test';

// Page tests: the built UI (ui/dist, served by `vite preview`) in Debian's Chromium, with the Tauri
// backend replaced by @tauri-apps/api/mocks (tests/mock-backend.ts).
export default defineConfig({
  testDir: 'tests/e2e',
  outputDir: '../artifacts/playwright-results',
  globalSetup: './tests/e2e/global-setup.ts',
  reporter: [['list']],
  timeout: 30_000,
  use: {
    baseURL: 'http://127.0.0.1:4173',
    viewport: { width: 1100, height: 760 },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: {
    command: 'npx vite preview --port 4173 --strictPort --host 127.0.0.1',
    url: 'http://127.0.0.1:4173',
    reuseExistingServer: false,
    timeout: 60_000,
  },
});
