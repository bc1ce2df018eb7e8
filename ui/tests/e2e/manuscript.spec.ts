import AxeBuilder from '@axe-core/playwright';
import { backendCalls, expect, openApp, test } from './fixtures';
import type { Locator, Page } from '@playwright/test';

// The manuscript: projects, the binder (an ARIA tree, by mouse, keyboard and drag and drop), scenes and
// chapters in the editor, the scene inspector, the scene's history with the snapshot taken before AI
// text goes in, export and import.

const titles = (page: Page) => page.getByTestId('binder-title');
const item = (page: Page, title: string) => page.getByRole('treeitem', { name: new RegExp(`^${title},`) });
const row = (page: Page, title: string) => page.getByTestId('binder-row').filter({ has: page.getByTestId('binder-title').getByText(title, { exact: true }) });
const nodeId = async (page: Page, title: string) => Number(await item(page, title).getAttribute('data-node-id'));
const calls = async (page: Page, cmd: string) => (await backendCalls(page)).filter((c) => c.cmd === cmd);

/** No axe violations at all (WCAG 2 A and AA) inside `selector`. */
async function expectAxeClean(page: Page, selector: string) {
  const results = await new AxeBuilder({ page }).include(selector).withTags(['wcag2a', 'wcag2aa']).analyze();
  expect(results.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), selector).toEqual([]);
}

/** Types a title into the binder's in-place rename field and confirms it. */
async function nameIt(page: Page, title: string) {
  const input = page.getByTestId('binder-rename');
  await expect(input).toBeFocused();
  await input.fill(title);
  await input.press('Enter');
  await expect(item(page, title)).toBeFocused();
}

async function typeAtEnd(page: Page, editor: Locator, text: string) {
  await editor.click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type(text);
}

test('a first project: chapters and scenes by button and keyboard, dragged, reordered and nested', async ({ page }) => {
  await openApp(page, { seed: 'empty' });
  await expect(page.getByTestId('welcome')).toContainText('Start a project');
  await expectAxeClean(page, '[data-testid="welcome"]');
  await page.getByTestId('project-title').fill('The Salt Road');
  await page.getByTestId('project-kind').selectOption('novel');
  await page.getByTestId('project-author').fill('Mara Quinn');
  await page.getByTestId('project-goal').fill('80,000');
  await page.getByTestId('project-submit').click();
  await expect(page.getByTestId('project-name')).toHaveText('The Salt Road');
  await expect(page.getByTestId('binder-empty')).toBeVisible();
  expect((await calls(page, 'create_project'))[0].args.project).toEqual({ title: 'The Salt Road', kind: 'novel', author: 'Mara Quinn', word_goal: 80000 });

  // By the buttons: a chapter, named in place, and a scene in it.
  await page.getByTestId('binder-add-chapter').click();
  await expect(page.getByTestId('binder-rename')).toHaveValue('Chapter 1');
  await nameIt(page, 'Arrival');
  await page.getByTestId('binder-add-scene').click();
  await nameIt(page, 'The quay');
  await expect(page.getByTestId('doc-title')).toHaveValue('The quay');

  // By the keyboard: a scene after the focused one, then a chapter after this one, with a scene.
  await page.keyboard.press('Control+Shift+N');
  await nameIt(page, 'The ledger');
  await page.keyboard.press('Control+Shift+H');
  await nameIt(page, 'The Crossing');
  await page.getByTestId('binder-add-scene').click();
  await nameIt(page, 'Open water');
  await expect(titles(page)).toHaveText(['Arrival', 'The quay', 'The ledger', 'The Crossing', 'Open water']);
  await expect(item(page, 'The ledger')).toHaveAttribute('aria-level', '2');
  await expect(item(page, 'The ledger')).toHaveAttribute('aria-posinset', '2');
  await expect(item(page, 'The ledger')).toHaveAttribute('aria-setsize', '2');
  await expect(item(page, 'Arrival')).toHaveAttribute('aria-expanded', 'true');
  await expect(item(page, 'Open water')).toHaveAttribute('aria-selected', 'true');

  // The tree's keys: up and down move the focus (one item in the Tab order), left folds and goes up.
  await page.keyboard.press('ArrowUp');
  await expect(item(page, 'The Crossing')).toBeFocused();
  await page.keyboard.press('ArrowLeft');
  await expect(item(page, 'The Crossing')).toHaveAttribute('aria-expanded', 'false');
  await expect(titles(page)).toHaveText(['Arrival', 'The quay', 'The ledger', 'The Crossing']);
  await page.keyboard.press('ArrowRight');
  await expect(item(page, 'The Crossing')).toHaveAttribute('aria-expanded', 'true');
  await page.keyboard.press('Home');
  await expect(item(page, 'Arrival')).toBeFocused();
  await expect(page.locator('[role="treeitem"][tabindex="0"]')).toHaveCount(1);
  await page.keyboard.press('End');
  await expect(item(page, 'Open water')).toBeFocused();

  // Drag "The ledger" onto the middle of "The Crossing": it goes inside, last.
  const [ledger, crossing] = [await nodeId(page, 'The ledger'), await nodeId(page, 'The Crossing')];
  const target = row(page, 'The Crossing');
  const box = (await target.boundingBox())!;
  await row(page, 'The ledger').dragTo(target, { targetPosition: { x: 60, y: box.height / 2 } });
  await expect(titles(page)).toHaveText(['Arrival', 'The quay', 'The Crossing', 'Open water', 'The ledger']);
  await expect(item(page, 'The ledger')).toHaveAttribute('aria-posinset', '2');
  expect((await calls(page, 'move_node')).at(-1)!.args).toEqual({ id: ledger, parentId: crossing, index: 1 });

  // A scene cannot go inside a scene: dropping on a scene's middle places it beside it instead.
  const open = row(page, 'Open water');
  const openBox = (await open.boundingBox())!;
  await row(page, 'The quay').dragTo(open, { targetPosition: { x: 60, y: openBox.height * 0.3 } });
  await expect(titles(page)).toHaveText(['Arrival', 'The Crossing', 'The quay', 'Open water', 'The ledger']);
  expect((await calls(page, 'move_node')).at(-1)!.args).toEqual({ id: await nodeId(page, 'The quay'), parentId: crossing, index: 0 });

  // Alt+Down reorders; the focus stays on the item.
  await row(page, 'Open water').click();
  await expect(item(page, 'Open water')).toBeFocused();
  await page.keyboard.press('Alt+ArrowDown');
  await expect(titles(page)).toHaveText(['Arrival', 'The Crossing', 'The quay', 'The ledger', 'Open water']);
  await expect(item(page, 'Open water')).toBeFocused();
  expect((await calls(page, 'move_node')).at(-1)!.args).toEqual({ id: await nodeId(page, 'Open water'), parentId: crossing, index: 2 });

  // Alt+Left takes it out of the chapter; Alt+Right puts it back into the chapter before it.
  await page.keyboard.press('Alt+ArrowLeft');
  await expect(item(page, 'Open water')).toHaveAttribute('aria-level', '1');
  await expect(item(page, 'Open water')).toBeFocused();
  await page.keyboard.press('Alt+ArrowRight');
  await expect(item(page, 'Open water')).toHaveAttribute('aria-level', '2');
  await expect(titles(page)).toHaveText(['Arrival', 'The Crossing', 'The quay', 'The ledger', 'Open water']);

  // F2 renames in place; Delete trashes, with Undo.
  await page.keyboard.press('F2');
  await nameIt(page, 'Open sea');
  await page.keyboard.press('Delete');
  await expect(page.getByTestId('toast').filter({ hasText: '“Open sea” moved to the trash' })).toBeVisible();
  await expect(titles(page)).toHaveText(['Arrival', 'The Crossing', 'The quay', 'The ledger']);
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(titles(page)).toHaveText(['Arrival', 'The Crossing', 'The quay', 'The ledger', 'Open sea']);

  // Type-ahead, the filter, and the binder's accessibility.
  await page.keyboard.press('Home');
  await page.keyboard.press('t');
  await expect(item(page, 'The Crossing')).toBeFocused();
  await expectAxeClean(page, '[data-testid="binder"]');
  await page.getByTestId('binder-filter').fill('ledger');
  await expect(titles(page)).toHaveText(['The Crossing', 'The ledger']);
  await page.getByTestId('binder-filter').fill('');
  await page.keyboard.press('Control+Shift+B');
  await expect(page.locator('[role="treeitem"]:focus')).toHaveCount(1);
});

test('AI text goes in after a snapshot; the history shows it side by side and restores it', async ({ page }) => {
  await openApp(page, { reply: ['The', ' keeper', ' ascended', ' at', ' twilight', '.'] });
  await expect(page.getByTestId('doc-title')).toHaveValue('The Lighthouse');
  const editor = page.getByTestId('editor');
  await typeAtEnd(page, editor, ' Gulls circled the lamp.');
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
  const written = 'The keeper climbed the stairs at dusk.\n\nThe sea was restless that night. Gulls circled the lamp.';

  // Rewrite everything and replace it.
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.getByTestId('action-rewrite').click();
  await expect(page.getByTestId('output')).toHaveText('The keeper ascended at twilight.');
  await page.getByTestId('replace').click();
  await expect(editor).toHaveText('The keeper ascended at twilight.');
  await expect(page.getByTestId('save-state')).toHaveText('Saved');

  // The text as it was went to the library, as a revision, before the AI text went in.
  const saves = await calls(page, 'save_document');
  const snapshot = saves.findIndex((c) => c.args.reason === 'before AI: rewrite');
  expect(snapshot).toBeGreaterThanOrEqual(0);
  expect(saves[snapshot].args.body).toBe(written);
  expect(saves.slice(snapshot + 1).some((c) => c.args.body === 'The keeper ascended at twilight.')).toBe(true);

  // Scene history: the snapshot, compared side by side with the text now.
  await page.getByTestId('tab-revisions').click();
  const revision = page.getByTestId('revision').filter({ hasText: 'Before AI · rewrite' });
  await expect(revision).toHaveCount(1);
  await revision.click();
  const diff = page.getByTestId('diff-view');
  await expect(diff).toBeVisible();
  const changed = diff.locator('[data-change="changed"]');
  await expect(changed).toHaveCount(1);
  await expect(changed.locator('del')).toContainText(['climbed the stairs']);
  await expect(changed.locator('ins')).toContainText(['ascended']);
  await expect(diff.locator('[data-change="removed"]')).toContainText('The sea was restless that night.');
  await expect(page.getByTestId('diff-summary')).toContainText('1 changed, 1 removed, 0 added');
  await expectAxeClean(page, '[data-testid="diff-view"]');
  await expectAxeClean(page, '[data-testid="revisions"]');

  // Restore: the AI text is gone, the writer's is back, in the editor and the library.
  await page.getByTestId('restore-revision').click();
  await expect(diff).toBeHidden();
  await expect(editor).toContainText('The keeper climbed the stairs at dusk.');
  await expect(editor).toContainText('Gulls circled the lamp.');
  await expect(editor).not.toContainText('ascended');
  expect(await calls(page, 'restore_revision')).toHaveLength(1);
  await expect(page.getByTestId('word-count')).toHaveText('17 words');
});

test('a chapter opens as one scrolling text and each scene in it saves on its own', async ({ page }) => {
  await openApp(page, { seed: 'novel' });
  await expect(page.getByTestId('project-name')).toHaveText('The Salt Road');
  await row(page, 'The Harbour Master').click();
  await expect(page.getByTestId('chapter-title')).toHaveText('The Harbour Master');
  const blocks = page.getByTestId('scene-block');
  await expect(blocks).toHaveCount(2);
  await expect(blocks.nth(0).getByTestId('block-title')).toHaveValue('Fog at the quay');
  await expect(blocks.nth(1).getByTestId('block-title')).toHaveValue('The ledger');
  const before = Number((await page.getByTestId('word-count').textContent())!.split(' ')[0]);

  await typeAtEnd(page, blocks.nth(0).getByTestId('editor'), ' Mara waited.');
  await typeAtEnd(page, blocks.nth(1).getByTestId('editor'), ' The pen scratched.');
  await expect(page.getByTestId('save-state')).toHaveText('All saved');
  await expect(page.getByTestId('word-count')).toHaveText(`${before + 5} words`);

  const [fog, ledger] = [Number(await blocks.nth(0).getAttribute('data-document-id')), Number(await blocks.nth(1).getAttribute('data-document-id'))];
  const saves = await calls(page, 'save_document');
  const last = (id: number) => saves.filter((c) => c.args.id === id).at(-1)!.args;
  expect(last(fog).body).toMatch(/slept either\. Mara waited\.$/);
  expect(last(fog).title).toBe('Fog at the quay');
  expect(last(ledger).body).toMatch(/her name anyway\. The pen scratched\.$/);
  expect(last(ledger).body).not.toContain('Mara waited');
  // The binder follows: the chapter's total is its scenes' words.
  await expect(item(page, 'The Harbour Master')).toHaveAccessibleName(`The Harbour Master, chapter, ${before + 5} words`);

  // A new scene after the one the writer is in joins the chapter on the page, title ready to type.
  await page.keyboard.press('Control+n');
  await expect(blocks).toHaveCount(3);
  await expect(blocks.nth(2).getByTestId('block-title')).toBeFocused();
  await page.keyboard.type('The harbour at noon');
  await blocks.nth(2).getByTestId('editor').click();
  await page.keyboard.type('Noon, and still no ships.');
  await expect(page.getByTestId('save-state')).toHaveText('All saved');
  await expect(titles(page)).toContainText(['Fog at the quay', 'The ledger', 'The harbour at noon', 'Salt and Iron']);

  // The scene the writer is in opens on its own, and back.
  await blocks.nth(1).getByTestId('editor').click();
  await page.keyboard.press('Control+Shift+D');
  await expect(page.getByTestId('doc-title')).toHaveValue('The ledger');
  await expect(page.getByTestId('editor')).toContainText('The pen scratched.');
  await page.getByTestId('toggle-chapter-view').click();
  await expect(page.getByTestId('chapter-view')).toBeVisible();
});

test('the scene inspector keeps synopsis, point of view, status and target; the project shows its days', async ({ page }) => {
  await openApp(page, { seed: 'novel' });
  await expect(page.getByTestId('doc-title')).toHaveValue('Fog at the quay');
  await page.getByTestId('tab-scene').click();
  await expect(page.getByTestId('inspector-synopsis')).toHaveValue('Mara arrives before dawn; the harbour master is already awake.');
  await expect(page.getByTestId('inspector-pov')).toHaveValue('Mara');
  const id = await nodeId(page, 'Fog at the quay');

  await page.getByTestId('inspector-synopsis').fill('Mara arrives in the fog.');
  await page.getByTestId('inspector-pov').click();
  await expect.poll(async () => (await calls(page, 'update_node')).at(-1)?.args).toEqual({ id, patch: { synopsis: 'Mara arrives in the fog.' } });
  await page.getByTestId('inspector-pov').fill('The harbour master');
  await page.getByTestId('inspector-pov').press('Tab');
  await expect.poll(async () => (await calls(page, 'update_node')).at(-1)?.args).toEqual({ id, patch: { pov: 'The harbour master' } });

  await page.getByTestId('status-final').check();
  await expect(page.getByRole('radio', { name: 'Final' })).toBeChecked();
  await expect(item(page, 'Fog at the quay')).toHaveAccessibleName('Fog at the quay, 40 words, final');
  await page.getByTestId('inspector-target').fill('500');
  await page.getByTestId('inspector-target').press('Enter');
  await expect(page.getByTestId('scene-target-meter')).toHaveAttribute('aria-valuenow', '8');
  await expect(page.getByTestId('target-progress')).toContainText('8% of 500');
  await page.getByTestId('inspector-target').fill('');
  await page.getByTestId('inspector-target').press('Enter');
  await expect.poll(async () => (await calls(page, 'update_node')).at(-1)?.args).toEqual({ id, patch: { target_words: null } });
  await expect(page.getByTestId('scene-target-meter')).toHaveCount(0);

  // The project's goal and its last 30 days.
  await expect(page.getByTestId('project-goal-meter')).toHaveAttribute('aria-valuetext', /of 80,000 words/);
  await expect(page.getByTestId('progress-chart').locator('svg[role="img"]')).toHaveAccessibleName('Words written per day over the last 30 days');
  await expect(page.getByTestId('progress-summary')).toContainText('words written in the last 30 days');
  expect((await calls(page, 'project_progress')).at(-1)!.args).toMatchObject({ days: 30 });
  await expectAxeClean(page, '[data-testid="inspector"]');
});

test('export the project to DOCX and a chapter to Markdown; import a manuscript after its preview', async ({ page }) => {
  await openApp(page, { seed: 'novel' });
  await expect(page.getByTestId('project-name')).toHaveText('The Salt Road');
  const project = (await calls(page, 'project_tree')).at(-1)!.args.id;

  await page.getByTestId('export-menu').click();
  await expect(page.getByRole('menu')).toBeVisible();
  await expect(page.getByRole('menuitem').first()).toBeFocused();
  await page.getByTestId('export-project-docx').click();
  await expect(page.getByTestId('toast').first()).toContainText('Exported to /home/writer/Documents/The Salt Road.docx');
  expect((await calls(page, 'export_project')).at(-1)!.args).toEqual({ projectId: project, nodeId: null, format: 'docx' });

  // The open scene's chapter, from the keyboard.
  await page.getByTestId('editor').click();
  await page.keyboard.press('Control+Shift+E');
  await expect(page.getByRole('menuitem').first()).toBeFocused();
  await page.getByTestId('export-chapter-md').click();
  expect((await calls(page, 'export_project')).at(-1)!.args).toEqual({ projectId: project, nodeId: await nodeId(page, 'The Harbour Master'), format: 'md' });

  // Import: the preview first, in a dialog that keeps the focus and closes on Esc.
  await page.getByTestId('project-switcher').click();
  await page.getByTestId('import-manuscript').click();
  const dialog = page.getByRole('dialog', { name: 'Import a manuscript' });
  await expect(dialog).toBeVisible();
  await expect(page.getByTestId('import-title')).toBeFocused();
  await expect(page.getByTestId('import-title')).toHaveValue('Harbour Lights');
  await expect(dialog).toContainText('From Harbour Lights.docx');
  await expect(page.getByTestId('import-chapter')).toHaveCount(2);
  await expect(page.getByTestId('import-scene')).toHaveCount(3);
  await expect(page.getByTestId('import-scene').first()).toContainText('The ferry left before the fog lifted.');
  await expectAxeClean(page, '[data-testid="import-dialog"]');
  for (let i = 0; i < 8; i++) await page.keyboard.press('Tab');
  expect(await page.evaluate(() => !!document.activeElement?.closest('dialog'))).toBe(true);
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  expect(await calls(page, 'accept_import')).toHaveLength(0);

  await page.keyboard.press('Control+o');
  await expect(dialog).toBeVisible();
  await page.getByTestId('import-title').fill('Harbour Lights (draft)');
  await page.getByTestId('import-kind').selectOption('short_fiction');
  await page.getByTestId('import-accept').click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('project-name')).toHaveText('Harbour Lights (draft)');
  await expect(titles(page)).toHaveText(['Part One', 'The Crossing', 'Departure', 'At sea', 'Landfall', 'The island']);
  await expect(page.getByTestId('doc-title')).toHaveValue('Departure');
  const accepted = (await calls(page, 'accept_import')).at(-1)!.args;
  expect(accepted).toMatchObject({ title: 'Harbour Lights (draft)', kind: 'short_fiction' });
  expect(String(accepted.token)).toMatch(/^import-/);
});

test('projects: switch, change settings, trash with undo, and reopen where the writer left off', async ({ page }) => {
  await openApp(page, { seed: 'novel' });
  await expect(page.getByTestId('project-name')).toHaveText('The Salt Road');
  await page.getByTestId('project-switcher').click();
  await expect(page.getByTestId('project-option')).toHaveCount(2);
  await page.getByTestId('project-option').filter({ hasText: 'My writing' }).click();
  await expect(page.getByTestId('project-name')).toHaveText('My writing');
  await row(page, 'Notes').click();
  await expect(page.getByTestId('doc-title')).toHaveValue('Notes');

  // The last project and scene are remembered.
  await page.reload();
  await expect(page.getByTestId('project-name')).toHaveText('My writing');
  await expect(page.getByTestId('doc-title')).toHaveValue('Notes');

  // Settings: a screenplay has acts and sequences.
  await page.getByTestId('project-switcher').click();
  await page.getByTestId('project-settings').click();
  const settings = page.getByRole('dialog', { name: 'Project settings' });
  await expect(settings).toBeVisible();
  await page.getByTestId('project-title').fill('Harbour (screenplay)');
  await page.getByTestId('project-kind').selectOption('screenplay');
  await page.getByTestId('project-submit').click();
  await expect(settings).toBeHidden();
  await expect(page.getByTestId('project-name')).toHaveText('Harbour (screenplay)');
  await expect(page.getByTestId('binder-add-chapter')).toHaveText('+ Sequence');
  await expect(page.getByTestId('binder-add-part')).toHaveText('+ Act');
  await page.getByTestId('export-menu').click();
  await expect(page.getByRole('menuitem').first()).toHaveText(/Fountain/);
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('export-menu')).toBeFocused();

  // Trash with undo.
  await page.getByTestId('project-switcher').click();
  await page.getByTestId('delete-project').click();
  await expect(page.getByTestId('toast').first()).toContainText('“Harbour (screenplay)” moved to the trash');
  await expect(page.getByTestId('project-name')).toHaveText('The Salt Road');
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(page.getByTestId('project-name')).toHaveText('Harbour (screenplay)');
});

for (const scheme of ['light', 'dark'] as const) {
  test(`the manuscript screen passes axe and is captured (${scheme})`, async ({ page }) => {
    await page.emulateMedia({ colorScheme: scheme });
    await openApp(page, { seed: 'novel' });
    await expect(page.getByTestId('doc-title')).toHaveValue('Fog at the quay');
    await page.getByTestId('tab-scene').click();
    await expect(page.getByTestId('progress-chart')).toBeVisible();
    await item(page, 'Fog at the quay').focus();
    await page.waitForTimeout(250);
    const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
    expect(results.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
    await page.screenshot({ path: `../artifacts/screenshots/manuscript-${scheme}.png` });
  });
}
