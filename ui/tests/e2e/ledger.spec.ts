import { test, expect, openApp, fuseOnce } from './fixtures';

test('the privacy ledger names what each cloud request carried', async ({ page }) => {
  await openApp(page, { delayMs: 5 });
  await fuseOnce(page, 'Describe the harbour.');
  await page.getByTestId('nav-privacy').click();
  const items = page.getByTestId('ledger').getByTestId('ledger-items');
  await expect(items.first()).toHaveText('Prompt');
  await expect(items.first()).toHaveAttribute('title', 'Prompt');
});
