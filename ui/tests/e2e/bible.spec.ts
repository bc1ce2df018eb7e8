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

test('Ctrl+Shift+B drafts an entry from the selection; aliases are a list; a deleted entry comes back with Undo', async ({ page }) => {
  await openApp(page, { seed: 'novel', delayMs: 5 });
  const editor = page.getByTestId('editor').first();
  await expect(editor).toContainText('Mara counted the bollards');
  // Select "Fog" (the scene's first word) in the Assist tab and press the shortcut.
  await editor.click();
  await page.keyboard.press('Control+Home');
  for (let i = 0; i < 3; i++) await page.keyboard.press('Shift+ArrowRight');
  await page.keyboard.press('Control+Shift+B');
  await expect(page.getByTestId('tab-bible')).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('entry-name')).toHaveValue('Fog');
  expect((await calls(page, 'draft_bible_entry')).at(-1)!.args.selection).toBe('Fog');
  await page.getByTestId('entry-kind').selectOption('lore');
  await page.getByTestId('entry-aliases').fill('the mist');
  await page.getByTestId('entry-aliases').press('Enter');
  await expect(page.getByTestId('entry-alias')).toHaveText([/the mist/]);
  await expect(page.getByTestId('entry-form')).toBeVisible();
  await page.getByTestId('entry-aliases').fill('haar');
  await page.getByTestId('entry-save').click();
  await expect(page.getByTestId('bible-entry').filter({ hasText: 'Fog' })).toContainText('the mist, haar');
  const created = (await calls(page, 'create_bible_entry')).at(-1)!.args.entry as { kind: string; aliases: string[] };
  expect(created).toMatchObject({ kind: 'lore', aliases: ['the mist', 'haar'] });
  await expect(page.getByRole('heading', { name: 'Lore' })).toBeVisible();

  // The filter narrows the list; Delete offers Undo.
  await page.getByTestId('bible-filter').fill('zzz');
  await expect(page.getByTestId('bible-entry')).toHaveCount(0);
  await page.getByTestId('bible-filter').fill('mist');
  await expect(page.getByTestId('bible-entry')).toHaveCount(1);
  await page.getByTestId('entry-delete').click();
  await expect(page.getByTestId('bible-entry')).toHaveCount(0);
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(page.getByTestId('bible-entry')).toHaveCount(1);
  await expect(page.getByTestId('entry-name')).toHaveValue('Fog');
  expect((await calls(page, 'restore_bible_entry')).length).toBe(1);

  // Without a selection the shortcut still goes to the binder; Ctrl+Shift+L brings the Bible tab back.
  await page.getByTestId('tab-assist').click();
  await page.getByTestId('binder').locator('[role="treeitem"]').first().click();
  await page.keyboard.press('Control+Shift+B');
  await expect(page.locator('[role="treeitem"]:focus')).toHaveCount(1);
  await expect(page.getByTestId('tab-assist')).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('Control+Shift+L');
  await expect(page.getByTestId('bible-filter')).toBeFocused();
});

test('a bible description contradicted by the scene is listed with its quote; the citation opens the entry', async ({ page }) => {
  await openApp(page, { seed: 'novel', delayMs: 5 });
  const editor = page.getByTestId('editor').first();
  await expect(editor).toContainText('Mara counted the bollards');
  await page.getByTestId('tab-bible').click();
  await page.getByTestId('bible-new').click();
  await page.getByTestId('entry-name').fill('Mara Vell');
  await page.getByTestId('entry-aliases').fill('Mara');
  await page.getByTestId('entry-description').fill('Mara has grey eyes and a pilot’s hands.');
  await page.getByTestId('entry-save').click();
  await editor.click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type(' She turned her green eyes to the water.');
  await page.getByTestId('continuity-check').click();
  const issue = page.getByTestId('continuity-issue');
  await expect(issue).toHaveCount(1);
  await expect(issue.getByTestId('continuity-quote')).toHaveText('“her green eyes”');
  await expect(issue).toContainText("Mara Vell's eyes are grey in the bible");
  const check = (await calls(page, 'check_continuity')).at(-1)!.args.params as Record<string, unknown>;
  expect(check).toMatchObject({ members: [], judge: null, seed: null });

  // The quote selects its words in the scene; the citation opens the entry.
  await issue.getByTestId('continuity-quote').click();
  expect(await page.evaluate(() => window.getSelection()?.toString() ?? '')).toBe('her green eyes');
  await page.getByTestId('entry-close').click();
  await expect(page.getByTestId('entry-form')).toHaveCount(0);
  await issue.getByTestId('continuity-citation').click();
  await expect(page.getByTestId('entry-name')).toHaveValue('Mara Vell');
  const results = await new AxeBuilder({ page }).include('[data-testid=bible-panel]').withTags(['wcag2a', 'wcag2aa']).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
});

test('the privacy switch in Project settings is off by default, explains itself and stays on once saved', async ({ page }) => {
  await openApp(page, { seed: 'novel', delayMs: 5 });
  await expect(page.getByTestId('editor').first()).toContainText('Mara counted the bollards');
  const openSettings = async () => {
    await page.getByTestId('project-switcher').click();
    await page.getByTestId('project-settings').click();
    await expect(page.getByRole('dialog', { name: 'Project settings' })).toBeVisible();
  };
  await openSettings();
  const cloud = page.getByRole('switch', { name: "Cloud models may read this project's story bible and manuscript" });
  await expect(cloud).not.toBeChecked();
  await expect(page.getByTestId('project-form')).toContainText('cloud models get only your selection and the instruction');
  await cloud.check();
  await page.getByTestId('project-submit').click();
  await expect(page.getByRole('dialog', { name: 'Project settings' })).toBeHidden();
  const update = (await calls(page, 'update_project')).at(-1)!;
  expect((update.args.patch as { cloud_context: boolean }).cloud_context).toBe(true);

  await openSettings();
  await expect(page.getByTestId('project-cloud-context')).toBeChecked();
  const results = await new AxeBuilder({ page }).include('[data-testid=project-form]').withTags(['wcag2a', 'wcag2aa']).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
  await page.getByRole('button', { name: 'Cancel' }).click();
  // The Bible tab shows the same switch, on.
  await page.getByTestId('tab-bible').click();
  await expect(page.getByTestId('cloud-context')).toBeChecked();
});
