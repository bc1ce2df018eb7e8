import { expect, openApp, test } from './fixtures';

test('Generate streams the reply into the page and shows tok/s', async ({ page }) => {
  await openApp(page, { delayMs: 60 });
  await expect(page.getByTestId('privacy-pill')).toContainText('On-device');
  await expect(page.getByTestId('privacy-pill')).toContainText('SmolLM2');

  await page.getByTestId('prompt').fill('Open a story in a lighthouse.');
  await page.getByTestId('generate').click();

  // Streaming: part of the reply is visible before the whole of it.
  await expect(page.getByTestId('output')).toContainText('Once upon');
  await expect(page.getByTestId('output')).not.toContainText('wrote.');
  await expect(page.getByTestId('stop')).toBeVisible();

  await expect(page.getByTestId('output')).toHaveText('Once upon a time, a lighthouse keeper wrote.');
  await expect(page.getByTestId('done')).toHaveText('Done.');
  await expect(page.getByTestId('tok-s')).toHaveText('42.5 tok/s');
  await page.screenshot({ path: '../artifacts/screenshots/page-generate.png', fullPage: true });
});

test('Stop ends the stream and keeps the text so far', async ({ page }) => {
  await openApp(page, { delayMs: 120 });
  await page.getByTestId('prompt').fill('Keep going.');
  await page.keyboard.press('Control+Enter');
  await expect(page.getByTestId('output')).toContainText('Once');
  await page.getByTestId('stop').click();
  await expect(page.getByTestId('done')).toHaveText('Stopped.');
  await expect(page.getByTestId('output')).not.toContainText('wrote.');
  await expect(page.getByTestId('generate')).toBeVisible();
});

test('A backend error is shown as a readable message', async ({ page }) => {
  await openApp(page, { failWith: { kind: 'model_missing', message: 'model file not found: /models/x.gguf' } });
  await page.getByTestId('prompt').fill('Hello?');
  await page.getByTestId('generate').click();
  await expect(page.getByTestId('error')).toHaveText('model file not found: /models/x.gguf');
});
