import { expect, fuseOnce, openApp, test } from './fixtures';

test('a provider moved to another address says its key stays behind, and shows no key there', async ({ page }) => {
  await openApp(page);
  await page.getByTestId('nav-settings').click();
  await page.getByTestId('provider-item').filter({ hasText: 'OpenRouter' }).click();
  await expect(page.getByTestId('key-status')).toContainText('Key set');
  await expect(page.getByTestId('key-status')).toContainText('https://openrouter.ai:443');
  await page.getByTestId('provider-url').fill('https://proxy.example.net/v1');
  await expect(page.getByTestId('key-moved')).toContainText('only ever goes to the address it was set for');
  await expect(page.getByTestId('key-moved')).toContainText('stays with https://openrouter.ai:443');
  await page.getByTestId('provider-save').click();
  await page.getByTestId('provider-item').filter({ hasText: 'OpenRouter' }).click();
  await expect(page.getByTestId('key-status')).toContainText('No key set for https://proxy.example.net:443');
});

test('plain http to another computer is refused with the reason', async ({ page }) => {
  await openApp(page);
  await page.getByTestId('nav-settings').click();
  await page.getByTestId('provider-item').filter({ hasText: 'OpenRouter' }).click();
  await page.getByTestId('provider-url').fill('http://192.168.1.20:8000/v1');
  await page.getByTestId('provider-save').click();
  await expect(page.getByTestId('toast').first()).toContainText('use https://');
});

test('exports go where the backend dialog says; the page never sends a path', async ({ page }) => {
  await openApp(page, { dialogPath: '/home/writer/exports/run.md', delayMs: 5 });
  await fuseOnce(page);
  await page.getByTestId('nav-history').click();
  await page.getByTestId('run-item').first().click();
  await page.getByTestId('export-md').click();
  await expect(page.getByTestId('toast').first()).toContainText('Exported to /home/writer/exports/run.md');
  const calls = await page.evaluate(() => (window as unknown as { __ATELIER_MOCK__: { calls: { cmd: string; args: Record<string, unknown> }[] } }).__ATELIER_MOCK__.calls);
  const exports = calls.filter((c) => c.cmd === 'export_to_file');
  expect(exports).toHaveLength(1);
  expect(Object.keys(exports[0].args)).not.toContain('path');
});
