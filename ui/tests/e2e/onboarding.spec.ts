import AxeBuilder from '@axe-core/playwright';
import { backendCalls, expect, openApp, test } from './fixtures';
import type { Page } from '@playwright/test';

// "Mistral in one click": the first-run screen, the download that runs in the top bar while the writer
// writes and becomes the model when verified, the catalog in Models, and the model switch in the pill.

/** No axe violations at all (WCAG 2 A and AA) inside `selector`. */
async function expectAxeClean(page: Page, selector: string) {
  const results = await new AxeBuilder({ page }).include(selector).withTags(['wcag2a', 'wcag2aa']).analyze();
  expect(results.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), selector).toEqual([]);
}

const card = (page: Page, id: string) => page.locator(`[data-testid="catalog-card"][data-entry="${id}"]`);

test('a first launch offers Ministral 3 3B; "Start writing now" closes it for good', async ({ page }) => {
  await openApp(page, { onboarded: false });
  const dialog = page.getByTestId('onboarding');
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('Nothing you write leaves this computer');
  await expect(dialog).toContainText('Offline');
  await expect(page.getByTestId('onboarding-download')).toHaveText('Download Ministral 3 3B (2.1 GB)');
  await expect(page.getByTestId('onboarding-download')).toBeFocused();
  await expect(page.getByTestId('onboarding-fit')).toContainText('Runs well');
  await expect(page.getByTestId('onboarding-fit')).toContainText("needs about 3.1 GB of this machine's 8.6 GB");
  await expect(page.getByTestId('onboarding-time')).toContainText('The time left shows once it starts');
  await expectAxeClean(page, '[data-testid="onboarding"]');
  // The focus stays in the dialog.
  for (let i = 0; i < 4; i++) await page.keyboard.press('Tab');
  expect(await page.evaluate(() => !!document.activeElement?.closest('[data-testid="onboarding"]'))).toBe(true);

  await page.getByTestId('onboarding-start').click();
  await expect(dialog).toHaveCount(0);
  const sets = (await backendCalls(page)).filter((c) => c.cmd === 'set_setting' && c.args.key === 'first_run_done');
  expect(sets.map((c) => c.args.value)).toEqual([true]);
  expect((await backendCalls(page)).some((c) => c.cmd === 'start_catalog_download')).toBe(false);

  await page.reload();
  await expect(page.getByTestId('pill-model')).toContainText('SmolLM2-135M-Instruct');
  await page.waitForTimeout(200);
  await expect(page.getByTestId('onboarding')).toHaveCount(0);
});

test('Escape means "start writing now"', async ({ page }) => {
  await openApp(page, { onboarded: false });
  await expect(page.getByTestId('onboarding-download')).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('onboarding')).toHaveCount(0);
  const sets = (await backendCalls(page)).filter((c) => c.cmd === 'set_setting' && c.args.key === 'first_run_done');
  expect(sets).toHaveLength(1);
});

test('one click downloads Ministral 3 3B in the top bar, and it becomes the model', async ({ page }) => {
  await openApp(page, { onboarded: false, downloadMs: 1500, downloadSpeed: 10_000_000 });
  await expect(page.getByTestId('onboarding-time')).toContainText('about 4 min at the speed of your last one');
  await page.getByTestId('onboarding-download').click();
  await expect(page.getByTestId('onboarding')).toHaveCount(0);
  const starts = (await backendCalls(page)).filter((c) => c.cmd === 'start_catalog_download');
  expect(starts.map((c) => c.args)).toEqual([{ entryId: 'ministral-3-3b-q4_k_m', makeDefault: true }]);

  const chip = page.getByTestId('download-chip');
  await expect(chip).toBeVisible();
  await expect(chip).toContainText('Ministral 3 3B Instruct 2512 · Q4_K_M');
  const bar = page.getByRole('progressbar', { name: /Ministral 3 3B.*downloaded/ });
  await expect(bar).toHaveAttribute('aria-valuenow', /^[1-9]\d?$/);
  await expect(page.getByTestId('download-chip-text')).toContainText(/\d+% · (under a minute|\d+ min) left/);
  await expectAxeClean(page, '[data-testid="download-chip"]');
  // The writer keeps writing meanwhile on the built-in model.
  await expect(page.getByTestId('pill-model')).toContainText('SmolLM2-135M-Instruct');

  await expect(page.getByTestId('toast').filter({ hasText: 'Ministral 3 3B Instruct 2512 · Q4_K_M is ready and is now your model.' })).toBeVisible({ timeout: 5000 });
  await expect(chip).toHaveCount(0);
  await expect(page.getByTestId('pill-model')).toContainText('Ministral 3 3B Instruct 2512');

  // The switch lists both, the new one checked.
  await page.getByTestId('model-menu').click();
  const choices = page.getByTestId('model-choice');
  await expect(choices).toHaveCount(2);
  await expect(choices.filter({ hasText: 'Ministral 3 3B Instruct 2512' })).toHaveAttribute('aria-checked', 'true');
  await expect(choices.filter({ hasText: 'SmolLM2' })).toHaveAttribute('aria-checked', 'false');
});

test('on a machine too small the first run offers no download and says why', async ({ page }) => {
  await openApp(page, { onboarded: false, machine: 'small' });
  await expect(page.getByTestId('onboarding-too-big')).toContainText('Ministral 3 3B does not fit this machine: needs about 3.1 GB; this machine has 2.1 GB in all');
  await expect(page.getByTestId('onboarding-too-big')).toContainText('built-in model');
  await expect(page.getByTestId('onboarding-download')).toHaveCount(0);
  await expect(page.getByTestId('onboarding-start')).toBeFocused();
  await expectAxeClean(page, '[data-testid="onboarding"]');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('onboarding')).toHaveCount(0);
});

test('Models lists the catalog for this machine; Download, Pause and Resume work there', async ({ page }) => {
  await openApp(page, { downloadMs: 3000 });
  await expect(page.getByTestId('onboarding')).toHaveCount(0);
  await page.getByTestId('nav-models').click();
  await expect(page.getByTestId('catalog-card')).toHaveCount(6);
  await expect(page.getByTestId('machine-summary')).toContainText('Memory: 8.6 GB, 5.2 GB free');
  await expect(page.getByTestId('machine-summary')).toContainText('OpenVINO 2026.4.1-20836-e31fdb0bb5b: CPU');
  await expect(page.getByTestId('machine-summary')).toContainText('2 threads, avx512-vnni kernels');
  await expect(page.getByTestId('machine-summary')).toContainText('NPU: no NPU found');
  await expect(page.getByTestId('machine-summary')).toContainText('Disk: 120.0 GB free for models');

  const q4 = card(page, 'ministral-3-3b-q4_k_m');
  await expect(q4.getByTestId('fit-badge')).toHaveText('Runs well');
  await expect(q4.getByTestId('recommended')).toHaveText('Recommended here');
  await expect(q4.getByTestId('catalog-size')).toHaveText('2.1 GB to download');
  await expect(q4.getByTestId('catalog-needs')).toHaveText('needs about 3.1 GB of memory');
  await expect(card(page, 'ministral-3-3b-q8_0').getByTestId('fit-badge')).toHaveText('Tight');
  await expect(card(page, 'ministral-3-3b-q8_0').getByTestId('recommended')).toHaveCount(0);
  await expect(card(page, 'ministral-3-8b-q4_k_m').getByTestId('fit-reason')).toContainText('close other programs first');
  const big = card(page, 'mistral-small-3.2-24b-q4_k_m');
  await expect(big.getByTestId('fit-badge')).toHaveText('Too big for this machine');
  await expect(big.getByTestId('catalog-download')).toBeDisabled();
  // The OpenVINO folder is judged on OpenVINO's best device here (the Intel GPU) and fetched whole, not as one file.
  const openvino = card(page, 'mistral-7b-instruct-v0.1-int4-ov');
  await expect(openvino.getByTestId('catalog-folder')).toContainText(
    'huggingface-cli download OpenVINO/mistral-7b-instruct-v0.1-int4-ov --local-dir mistral-7b-instruct-v0.1-int4-ov',
  );
  await expect(openvino.getByTestId('catalog-download')).toHaveCount(0);
  await expect(openvino.getByTestId('fit-badge')).not.toHaveText('Needs OpenVINO');
  const smol = card(page, 'smollm2-135m-q4_1');
  await expect(smol.getByTestId('catalog-installed')).toBeVisible();
  await expect(smol).toContainText('in use');
  // The memory breakdown opens from the keyboard.
  await q4.getByTestId('catalog-needs').focus();
  await page.keyboard.press('Enter');
  await expect(q4.locator('details')).toContainText('for 4,096 tokens of context');
  await expectAxeClean(page, '[data-testid="catalog"]');

  const q8 = card(page, 'ministral-3-3b-q8_0');
  await q8.getByTestId('catalog-download').click();
  await expect(q8.getByTestId('catalog-state')).toContainText(/Downloading \d+%/);
  await expect(page.getByTestId('download-chip')).toBeVisible();
  await q8.getByTestId('catalog-pause').click();
  await expect(q8.getByTestId('catalog-state')).toContainText(/Paused at \d+%/);
  await expect(page.getByTestId('download-chip')).toHaveAttribute('data-status', 'paused');
  await expect(page.getByTestId('download-chip-text')).toContainText('paused at');
  const paused = Number(await page.getByTestId('download-progress').getAttribute('aria-valuenow'));
  // Resume from the chip this time: it goes on from where it stopped.
  await page.getByTestId('download-resume').click();
  await expect(page.getByTestId('download-chip')).toHaveAttribute('data-status', 'receiving');
  expect(Number(await page.getByTestId('download-progress').getAttribute('aria-valuenow'))).toBeGreaterThanOrEqual(paused);
  const starts = (await backendCalls(page)).filter((c) => c.cmd === 'start_catalog_download').map((c) => c.args);
  expect(starts).toEqual([{ entryId: 'ministral-3-3b-q8_0', makeDefault: false }, { entryId: 'ministral-3-3b-q8_0', makeDefault: false }]);

  // Done: the toast offers it, the card says Installed with Use, the library lists it.
  const toast = page.getByTestId('toast').filter({ hasText: 'Ministral 3 3B Instruct 2512 · Q8_0 is ready.' });
  await expect(toast).toBeVisible({ timeout: 6000 });
  await expect(q8.getByTestId('catalog-installed')).toBeVisible();
  await expect(page.getByTestId('model-row')).toHaveCount(2);
  await expect(page.getByTestId('pill-model')).toContainText('SmolLM2');
  await q8.getByTestId('catalog-use').click();
  await expect(page.getByTestId('pill-model')).toContainText('Ministral 3 3B Instruct 2512');
  await expect(q8).toContainText('in use');
});

test('a failed download says why in the top bar, and Retry finishes it', async ({ page }) => {
  await openApp(page, { downloadMs: 800, downloadFailsWith: 'the server closed the connection; what arrived is kept' });
  await page.getByTestId('nav-models').click();
  await card(page, 'ministral-3-3b-q4_k_m').getByTestId('catalog-download').click();
  await expect(page.getByTestId('download-error')).toHaveText('the server closed the connection; what arrived is kept');
  await expect(page.getByTestId('toast').filter({ hasText: 'the server closed the connection' })).toBeVisible();
  await expect(card(page, 'ministral-3-3b-q4_k_m').getByTestId('catalog-retry')).toBeVisible();
  await page.getByTestId('download-retry').click();
  await expect(page.getByTestId('toast').filter({ hasText: 'Q4_K_M is ready.' })).toBeVisible({ timeout: 5000 });
  await expect(page.getByTestId('download-chip')).toHaveCount(0);
});

test('the model switch in the pill loads another library model in one click, by mouse or keyboard', async ({ page }) => {
  await openApp(page, { dialogPath: '/home/writer/models/Ministral-3-3B-Instruct-2512-Q4_K_M.gguf' });
  // A second model in the library: imported through the backend's file dialog.
  await page.getByTestId('nav-models').click();
  await page.getByTestId('import-model').click();
  await expect(page.getByTestId('model-row')).toHaveCount(2);
  await page.getByTestId('nav-write').click();

  await expect(page.getByTestId('pill-model')).toContainText('SmolLM2-135M-Instruct');
  await page.getByTestId('model-menu').click();
  await expect(page.getByRole('menu')).toBeVisible();
  await expect(page.getByTestId('model-choice').filter({ hasText: 'SmolLM2' })).toHaveAttribute('aria-checked', 'true');
  await page.getByTestId('model-choice').filter({ hasText: 'Ministral-3-3B-Instruct-2512-Q4_K_M' }).click();
  await expect(page.getByTestId('pill-model')).toContainText('Ministral-3-3B-Instruct-2512-Q4_K_M');
  const loads = (await backendCalls(page)).filter((c) => c.cmd === 'load_model');
  expect(loads).toHaveLength(1);

  // Back by keyboard: Enter opens on the first item (SmolLM2), Enter chooses it.
  await page.getByTestId('model-menu').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('model-choice').first()).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('pill-model')).toContainText('SmolLM2-135M-Instruct');
  await expect(page.getByTestId('model-menu')).toBeFocused();

  // "Get more models…" goes to the catalog.
  await page.getByTestId('model-menu').click();
  await page.getByTestId('model-menu-more').click();
  await expect(page.getByTestId('catalog')).toBeVisible();
});
