import AxeBuilder from '@axe-core/playwright';
import { backendCalls, expect, openApp, test } from './fixtures';
import type { Page } from '@playwright/test';

// The Context panel: what the next run reads, item by item with tokens; a dropped item stays out of
// the run (the write carries its key) and History shows what was sent; a chat turn is assembled by
// the backend (`chat`, not `generate`); Fusion shows what cloud members read beside the on-device model.

const calls = async (page: Page, cmd: string) => (await backendCalls(page)).filter((c) => c.cmd === cmd);

/** Straight to the (mock) backend, as another window would: a style guide and a character. */
async function seedBible(page: Page) {
  await page.evaluate(async () => {
    const invoke = (window as unknown as { __TAURI_INTERNALS__: { invoke: (cmd: string, args?: unknown) => Promise<unknown> } }).__TAURI_INTERNALS__.invoke;
    const projects = (await invoke('list_projects')) as { id: number; title: string }[];
    const project_id = projects.find((p) => p.title === 'The Salt Road')!.id;
    const entry = { project_id, aliases: [], fields: [], pinned: false };
    await invoke('create_bible_entry', { entry: { ...entry, kind: 'style_guide', name: 'House style', description: 'Past tense, close third person. No semicolons.', pinned: true } });
    await invoke('create_bible_entry', { entry: { ...entry, kind: 'character', name: 'Mara', aliases: ['Mara Quinn'], description: 'A harbour pilot’s daughter.', fields: [{ name: 'Eyes', value: 'grey' }] } });
  });
}

async function openContext(page: Page) {
  await page.getByTestId('tab-assist').click();
  const toggle = page.getByTestId('context-toggle');
  if (!(await toggle.evaluate((d) => (d as HTMLDetailsElement).open))) await toggle.locator('summary').click();
  await expect(page.getByTestId('context-panel')).toBeVisible();
}

test('the Context panel lists what Continue reads; a dropped item stays out of the run and History shows what was sent', async ({ page }) => {
  await openApp(page, { seed: 'novel', delayMs: 5 });
  await expect(page.getByTestId('editor').first()).toContainText('Mara counted the bollards');
  await seedBible(page);
  await openContext(page);

  const items = page.getByTestId('context-item');
  const style = items.filter({ hasText: 'House style' });
  const mara = items.filter({ hasText: 'Mara (character)' });
  const text = items.and(page.locator('[data-key="text"]'));
  await expect(style).toContainText('style guide');
  await expect(mara).toContainText('mentioned');
  await expect(mara).toContainText('on device only');
  await expect(text).toContainText(/\d+ tok/);
  await expect(items.and(page.locator('[data-key="instruction"]'))).toContainText('may go to cloud');
  await expect(page.getByTestId('context-total')).toContainText(/\d+ of 7872 tokens/);
  const totalBefore = Number((await page.getByTestId('context-total').locator('strong').textContent()) ?? 0);

  // An item opens to show its text.
  await text.getByTestId('context-label').click();
  await expect(text.getByTestId('context-label')).toHaveAttribute('aria-expanded', 'true');
  await expect(text.getByTestId('context-text')).toContainText('counted the bollards');

  // Pinning goes to the entry; the preview asks again and shows it pinned.
  await mara.getByTestId('context-pin').click();
  await expect(mara.getByTestId('context-pin')).toHaveText('Unpin');
  await expect(mara).toContainText('pinned');
  const pin = (await calls(page, 'update_bible_entry')).at(-1)!;
  expect(pin.args.patch).toMatchObject({ pinned: true, name: null, description: null });

  // Dropping an item marks it and takes its tokens off the total.
  const key = (await mara.getAttribute('data-key'))!;
  await mara.getByTestId('context-drop').click();
  await expect(mara).toHaveAttribute('data-state', 'dropped');
  await expect(mara.getByTestId('context-drop')).toHaveText('Put back');
  await expect(page.getByTestId('context-total').locator('strong')).not.toHaveText(String(totalBefore));
  const preview = (await calls(page, 'preview_context')).at(-1)!.args.target as { for: string; action: string; dropped: string[] };
  expect(preview).toMatchObject({ for: 'write', action: 'continue', dropped: [key] });

  // The preview follows the action it is for.
  await page.getByTestId('context-action').selectOption('brainstorm');
  await expect(items.and(page.locator('[data-key="instruction"]'))).toContainText('brainstorm');
  expect(((await calls(page, 'preview_context')).at(-1)!.args.target as { action: string }).action).toBe('brainstorm');
  await page.getByTestId('context-action').selectOption('auto');

  const results = await new AxeBuilder({ page }).include('[data-testid=context-panel]').withTags(['wcag2a', 'wcag2aa']).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);

  // The run carries the drop, so it reads what the panel showed.
  await page.getByTestId('action-continue').click();
  await expect(page.getByTestId('done')).toBeVisible();
  const write = (await calls(page, 'write')).at(-1)!.args.params as { action: string; dropped: string[] };
  expect(write).toMatchObject({ action: 'continue', dropped: [key] });

  // History: what the model read, without the dropped entry (listed apart, as left out).
  await page.getByTestId('nav-history').click();
  await page.getByTestId('run-item').first().click();
  const sent = page.getByTestId('run-context');
  await expect(sent).toContainText('What the model read');
  await expect(sent.locator('[data-testid="run-context-item"][data-key="text"]')).toHaveAttribute('data-state', 'included');
  await expect(sent.locator('[data-testid="run-context-item"][data-state="included"]').filter({ hasText: 'House style' })).toHaveCount(1);
  await expect(sent.locator(`[data-testid="run-context-item"][data-state="included"][data-key="${key}"]`)).toHaveCount(0);
  await expect(sent.locator(`[data-testid="run-context-item"][data-key="${key}"]`)).toHaveAttribute('data-state', 'dropped');
  await sent.locator('[data-testid="run-context-item"][data-key="text"] summary').click();
  await expect(sent.locator('[data-testid="run-context-item"][data-key="text"]')).toContainText('counted the bollards');
  await expect(sent.locator('.system summary')).toHaveText('System prompt');
  const history = await new AxeBuilder({ page }).include('[data-testid=run-context]').withTags(['wcag2a', 'wcag2aa']).analyze();
  expect(history.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
});

test('a chat turn is assembled by the backend: `chat` with the question, the earlier turns and the scene', async ({ page }) => {
  await openApp(page, { seed: 'novel', delayMs: 5, reply: ['She', ' is', ' patient', '.'] });
  await expect(page.getByTestId('editor').first()).toContainText('Mara counted the bollards');
  await page.getByTestId('tab-chat').click();
  await page.getByTestId('chat-input').fill('Is Mara patient?');
  await page.getByTestId('chat-input').press('Enter');
  await expect(page.getByTestId('chat-message')).toHaveCount(2);
  await expect(page.getByTestId('chat-message').last()).toContainText('She is patient.');
  await page.getByTestId('chat-input').fill('And the harbour master?');
  await page.getByTestId('chat-send').click();
  await expect(page.getByTestId('chat-message')).toHaveCount(4);

  expect(await calls(page, 'generate')).toHaveLength(0);
  const chats = (await calls(page, 'chat')).map((c) => c.args.params as { question: string; history: { role: string; content: string }[]; document_id: number; dropped: string[]; selection: string });
  expect(chats).toHaveLength(2);
  expect(chats[0]).toMatchObject({ question: 'Is Mara patient?', history: [], dropped: [], selection: '' });
  expect(chats[0].document_id).toEqual(expect.any(Number));
  expect(chats[1].history).toEqual([{ role: 'user', content: 'Is Mara patient?' }, { role: 'assistant', content: 'She is patient.' }]);
  // The conversation is kept as before.
  expect((await calls(page, 'add_message')).map((c) => c.args.role)).toEqual(['user', 'assistant', 'user', 'assistant']);

  // History keeps what the chat read.
  await page.getByTestId('nav-history').click();
  await page.getByTestId('run-item').first().click();
  await expect(page.getByTestId('run-context').locator('[data-testid="run-context-item"][data-key="text"]')).toBeVisible();
});

test('Fusion shows what the cloud members read beside the on-device model and sends the selection and drops', async ({ page }) => {
  await openApp(page, { seed: 'novel', delayMs: 5 });
  const editor = page.getByTestId('editor').first();
  await expect(editor).toContainText('Mara counted the bollards');
  await seedBible(page);
  // Select "Fog came" and take it to Fusion.
  await editor.click();
  await page.keyboard.press('Control+Home');
  for (let i = 0; i < 8; i++) await page.keyboard.press('Shift+ArrowRight');
  await page.getByTestId('nav-fusion').click();
  await expect(page.getByTestId('fusion-selection')).toContainText('Fog came');
  await page.getByTestId('fusion-prompt').fill('Make the opening line stranger.');
  await page.getByTestId('member-openrouter:mistralai/ministral-8b').check();

  const context = page.getByTestId('fusion-context');
  const item = (key: string) => context.locator(`[data-testid="context-item"][data-key="${key}"]`);
  await expect(item('text').getByTestId('context-local')).toHaveText('reads');
  await expect(item('text').getByTestId('context-cloud')).toHaveText('stays here');
  await expect(item('selection').getByTestId('context-cloud')).toHaveText('reads');
  await expect(item('instruction').getByTestId('context-cloud')).toHaveText('reads');
  await expect(page.getByTestId('fusion-leaving')).toHaveText('2 items leave this device');
  await expect(page.getByTestId('fusion-cloud-summary')).toContainText('the bible and the scene stay with the on-device model');

  const style = context.getByTestId('context-item').filter({ hasText: 'House style' });
  const key = (await style.getAttribute('data-key'))!;
  await style.getByTestId('context-drop').click();
  await expect(style).toHaveAttribute('data-state', 'dropped');
  await expect(style.getByTestId('context-local')).toHaveText('no');
  const preview = (await calls(page, 'preview_fusion_context')).at(-1)!.args.params as { selection: string; dropped: string[] };
  expect(preview).toMatchObject({ selection: 'Fog came', dropped: [key] });

  const results = await new AxeBuilder({ page }).include('[data-testid=fusion-context]').withTags(['wcag2a', 'wcag2aa']).analyze();
  expect(results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);

  await page.getByTestId('fusion-run').click();
  await expect(page.getByTestId('final-text')).toBeVisible();
  const run = (await calls(page, 'run_fusion')).at(-1)!.args.params as { prompt: string; selection: string; dropped: string[]; document_id: number };
  expect(run).toMatchObject({ prompt: 'Make the opening line stranger.', selection: 'Fog came', dropped: [key], document_id: expect.any(Number) });

  // History shows what the fusion read.
  await page.getByTestId('nav-history').click();
  await page.getByTestId('run-item').first().click();
  await expect(page.getByTestId('run-context').locator('[data-testid="run-context-item"][data-key="selection"]')).toHaveAttribute('data-state', 'included');
  await expect(page.getByTestId('run-context').locator(`[data-testid="run-context-item"][data-key="${key}"]`)).toHaveAttribute('data-state', 'dropped');
});

test('a selection and a half-typed question are read ahead once the writer pauses, never while a run is in progress', async ({ page }) => {
  // Each streamed token takes 300 ms: the run outlasts the pause after which the panel reads ahead.
  await openApp(page, { seed: 'novel', delayMs: 300, reply: ['Fog', ' rolled', ' in', '.'] });
  const editor = page.getByTestId('editor').first();
  await expect(editor).toContainText('Mara counted the bollards');
  await page.getByTestId('tab-assist').click();
  await editor.click();
  await page.keyboard.press('Control+Home');
  for (let i = 0; i < 8; i++) await page.keyboard.press('Shift+ArrowRight');
  // The run the buttons would start (a selection suggests Rewrite) is asked for, once, and shown read.
  await expect(page.getByTestId('read-ahead')).toBeVisible();
  const targets = async () => (await calls(page, 'prepare_context')).map((c) => ({ at: c.at, ...(c.args.target as { for: string; action?: string; selection?: string; tone?: string; question?: string }) }));
  expect((await targets()).at(-1)).toMatchObject({ for: 'write', action: 'rewrite', selection: 'Fog came', tone: 'vivid' });
  expect((await targets()).filter((t) => t.selection === 'Fog came' && t.tone === 'vivid')).toHaveLength(1);

  // A run in progress is never joined by a preparation, and the indicator is hidden meanwhile.
  await page.getByTestId('action-rewrite').click();
  await expect(page.getByTestId('read-ahead')).toHaveCount(0);
  await expect(page.getByTestId('done')).toBeVisible();
  const started = (await calls(page, 'write')).at(-1)!.at;
  const finished = await page.evaluate(() => Date.now());
  expect((await targets()).filter((t) => t.at > started && t.at < finished - 600)).toEqual([]);
  // Afterwards the next run is read ahead again.
  await expect(page.getByTestId('read-ahead')).toBeVisible();

  // The chat reads the question as it is typed, after a pause, with the scene.
  await page.getByTestId('tab-chat').click();
  await page.getByTestId('chat-input').pressSequentially('Why does Mara count', { delay: 20 });
  await expect.poll(async () => (await targets()).filter((t) => t.for === 'chat').map((t) => t.question)).toEqual(['Why does Mara count']);
});
