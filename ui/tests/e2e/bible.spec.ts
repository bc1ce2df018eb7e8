import AxeBuilder from '@axe-core/playwright';
import { backendCalls, expect, openApp, test } from './fixtures';
import type { Page } from '@playwright/test';

// The story bible: an entry added in the Bible tab is underlined where the scene names it and opens
// from there; the Context panel lists what the next run reads and a dropped item stays out of it; the
// continuity check lists the scene's contradiction of the bible and jumps to the entry; the project's
// cloud switch is off until the writer turns it on.

const calls = async (page: Page, cmd: string) => (await backendCalls(page)).filter((c) => c.cmd === cmd);

async function addMara(page: Page) {
  await page.getByTestId('tab-bible').click();
  await page.getByTestId('bible-new').click();
  await page.getByTestId('entry-name').fill('Mara');
  await page.getByTestId('entry-aliases').fill('Mara Quinn, the pilot');
  await page.getByTestId('entry-description').fill('A harbour pilot’s daughter.');
  await page.getByRole('button', { name: 'Add a field' }).click();
  await page.getByLabel('Field 1 name').fill('Eyes');
  await page.getByLabel('Field 1 value').fill('grey');
  await page.getByTestId('entry-save').click();
  await expect(page.getByTestId('bible-entry').filter({ hasText: 'Mara' })).toBeVisible();
}

test('a character is underlined where the scene names it, opens from there and lists its scenes', async ({ page }) => {
  await openApp(page, { seed: 'novel', delayMs: 5 });
  await expect(page.getByTestId('editor').first()).toContainText('Mara counted the bollards');
  await addMara(page);
  await expect(page.getByTestId('mention').first()).toHaveText('Mara');
  await expect(page.getByTestId('entry-scenes')).toContainText('Fog at the quay');
  expect((await calls(page, 'find_mentions')).length).toBeGreaterThan(0);

  // Typing a new name is underlined too.
  await page.getByTestId('editor').first().click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type(' The pilot smiled.');
  await expect(page.getByTestId('mention').filter({ hasText: 'pilot' })).toBeVisible();

  // A click on the name opens its entry.
  await page.getByRole('button', { name: 'Close' }).click();
  await page.getByTestId('tab-assist').click();
  await page.getByTestId('mention').first().click();
  await expect(page.getByTestId('entry-name')).toHaveValue('Mara');
  const results = await new AxeBuilder({ page }).include('[data-testid=bible-panel]').withTags(['wcag2a', 'wcag2aa']).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
});

test('the Context panel shows what Continue will read, and a dropped item stays out of the run', async ({ page }) => {
  await openApp(page, { seed: 'novel', delayMs: 5 });
  await expect(page.getByTestId('editor').first()).toContainText('Mara counted the bollards');
  await addMara(page);
  await page.getByTestId('tab-assist').click();
  await page.getByTestId('context-toggle').locator('summary').click();
  const mara = page.getByTestId('context-item').filter({ hasText: 'Mara (character)' });
  await expect(mara).toContainText('mentioned');
  await expect(mara).toContainText('on device only');
  await expect(page.getByTestId('context-item').filter({ hasText: 'Text so far' })).toContainText(/\d+ tok/);
  await expect(page.getByTestId('context-total')).toContainText('tokens');
  await mara.getByTestId('context-drop').click();
  await expect(mara).toHaveAttribute('data-state', 'dropped');
  const key = await mara.getAttribute('data-key');
  await page.getByTestId('action-continue').click();
  await expect(page.getByTestId('done')).toBeVisible();
  const write = (await calls(page, 'write')).at(-1)!;
  expect((write.args.params as { dropped: string[] }).dropped).toEqual([key]);
  const previews = await calls(page, 'preview_context');
  expect((previews.at(-1)!.args.target as { dropped: string[] }).dropped).toEqual([key]);
  // History shows what the run read: the dropped entry marked so, the text included.
  await page.getByTestId('nav-history').click();
  await page.getByTestId('run-item').first().click();
  await expect(page.getByTestId('run-context-item').and(page.locator(`[data-key="${key}"]`))).toHaveAttribute('data-state', 'dropped');
  await expect(page.getByTestId('run-context-item').and(page.locator('[data-key="text"]'))).toHaveAttribute('data-state', 'included');
});

test('the continuity check lists the planted contradiction and jumps to the entry; the cloud switch is off by default', async ({ page }) => {
  await openApp(page, { seed: 'novel', delayMs: 5 });
  await expect(page.getByTestId('editor').first()).toContainText('Mara counted the bollards');
  await addMara(page);
  await page.getByTestId('editor').first().click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type(' Her green eyes were on the water.');
  await page.getByTestId('tab-bible').click();
  await page.getByTestId('continuity-check').click();
  const issue = page.getByTestId('continuity-issue');
  await expect(issue).toHaveCount(1);
  await expect(issue).toContainText('green eyes');
  await expect(issue).toContainText("Mara's eyes are grey");
  await page.getByRole('button', { name: 'Close' }).click();
  await issue.getByTestId('continuity-citation').click();
  await expect(page.getByTestId('entry-name')).toHaveValue('Mara');

  const cloud = page.getByTestId('cloud-context');
  await expect(cloud).not.toBeChecked();
  await cloud.check();
  await page.getByTestId('tab-assist').click();
  await page.getByTestId('tab-bible').click();
  await expect(page.getByTestId('cloud-context')).toBeChecked();
  const update = (await calls(page, 'update_project')).at(-1)!;
  expect((update.args.patch as { cloud_context: boolean }).cloud_context).toBe(true);
});
