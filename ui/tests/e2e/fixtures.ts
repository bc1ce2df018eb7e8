import { test as base, type Page } from '@playwright/test';
import { fileURLToPath } from 'node:url';
import type { MockOptions } from '../mock-backend';

const mockScript = fileURLToPath(new URL('./.mock/tauri-mock.js', import.meta.url));

/** Opens the app with the mock backend installed before any app code runs. */
export async function openApp(page: Page, options: MockOptions = {}) {
  await page.addInitScript((o) => {
    (window as unknown as { __ATELIER_MOCK_OPTIONS__: unknown }).__ATELIER_MOCK_OPTIONS__ = o;
  }, options);
  await page.addInitScript({ path: mockScript });
  await page.goto('/');
}

/** Runs one fusion with the seeded OpenRouter member, so History has a run. */
export async function fuseOnce(page: Page, prompt = 'Describe the harbour.') {
  await page.getByTestId('nav-fusion').click();
  await page.getByTestId('fusion-prompt').fill(prompt);
  await page.getByTestId('member-openrouter:mistralai/ministral-8b').check();
  await page.getByTestId('fusion-run').click();
  await base.expect(page.getByTestId('final-text')).toBeVisible();
}

/** Every command the mock backend received, in order. */
export function backendCalls(page: Page): Promise<{ cmd: string; args: Record<string, unknown>; at: number }[]> {
  return page.evaluate(() => (window as unknown as { __ATELIER_MOCK__: { calls: { cmd: string; args: Record<string, unknown>; at: number }[] } }).__ATELIER_MOCK__.calls);
}

export const test = base;
export { expect } from '@playwright/test';
