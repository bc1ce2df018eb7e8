import AxeBuilder from '@axe-core/playwright';
import { backendCalls, expect, fuseOnce, openApp, test } from './fixtures';
import type { Page } from '@playwright/test';

const editor = (page: Page) => page.getByTestId('editor');

async function selectAllInEditor(page: Page) {
  await editor(page).click();
  await page.keyboard.press('Control+A');
}

test('write → rewrite a selection → replace it in the document, autosaved', async ({ page }) => {
  await openApp(page, { reply: ['The', ' keeper', ' ascended', ' at', ' twilight', '.'] });
  await expect(page.getByTestId('doc-title')).toHaveValue('The Lighthouse');
  await selectAllInEditor(page);
  await page.getByTestId('tone').selectOption('formal');
  await page.getByTestId('action-rewrite').click();
  await expect(page.getByTestId('output')).toContainText('The keeper');
  await expect(page.getByTestId('output')).toHaveText('The keeper ascended at twilight.');
  await expect(page.getByTestId('tok-s')).toHaveText('42.5 tok/s');
  // The first run computes its whole prompt: the cache hit says so.
  await expect(page.getByTestId('cache-hit')).toHaveText('reused 0 of 12');
  await page.getByTestId('replace').click();
  await expect(editor(page)).toHaveText('The keeper ascended at twilight.');
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
  await expect(page.getByTestId('word-count')).toHaveText('5 words');
  // The UI sends the action and its inputs; the backend builds the prompt.
  const writes = (await backendCalls(page)).filter((c) => c.cmd === 'write');
  expect(writes).toHaveLength(1);
  expect(writes[0].args.params).toMatchObject({ action: 'rewrite', tone: 'formal', selection: expect.stringContaining('The keeper climbed the stairs at dusk.'), document_id: 1 });
  expect((await backendCalls(page)).some((c) => c.cmd === 'generate')).toBe(false);
});

test('history: Re-run of a writing action runs the same action again in Write', async ({ page }) => {
  await openApp(page, { delayMs: 5, reply: ['A', ' grey', ' dawn', '.'] });
  await selectAllInEditor(page);
  await page.getByTestId('action-shorten').click();
  await expect(page.getByTestId('done')).toBeVisible();
  await page.getByTestId('nav-history').click();
  await page.getByTestId('run-item').first().click();
  await expect(page.getByTestId('run-item').first()).toContainText('shorten');
  await page.getByTestId('rerun').click();
  await expect(page.getByTestId('doc-title')).toHaveValue('The Lighthouse');
  await expect(page.getByTestId('output')).toHaveText('A grey dawn.');
  await expect(page.getByTestId('replace')).toBeVisible();
  // The re-run found its prompt's start in the model's cache.
  await expect(page.getByTestId('cache-hit')).toHaveText('reused 8 of 12');
  const calls = await backendCalls(page);
  const opened = calls.filter((c) => c.cmd === 'get_run').at(-1)?.args.id;
  expect(calls.find((c) => c.cmd === 'rerun')?.args.runId).toBe(opened);
  expect(calls.filter((c) => c.cmd === 'write')).toHaveLength(1);
});

test('a notification never covers the buttons that take a result', async ({ page }) => {
  await openApp(page, { reply: ['A', ' grey', ' dawn', '.'] });
  await editor(page).click();
  await page.keyboard.press('Control+End');
  await page.getByTestId('action-continue').click();
  await expect(page.getByTestId('done')).toBeVisible();
  // Shorten with nothing selected says so in a notification, and keeps the result.
  await page.getByTestId('action-shorten').click();
  await expect(page.getByTestId('toast')).toContainText('Select some text to shorten.');
  await expect(page.getByTestId('insert')).toBeVisible();
  for (const id of ['insert', 'replace', 'retry', 'copy']) {
    const onTop = await page.getByTestId(id).evaluate((button) => {
      const r = button.getBoundingClientRect();
      const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
      return hit !== null && button.contains(hit);
    });
    expect(onTop, `${id} is under a notification`).toBe(true);
  }
});

test('continue streams, can be stopped, and keeps what arrived', async ({ page }) => {
  await openApp(page, { delayMs: 120 });
  await editor(page).click();
  await page.keyboard.press('Control+End');
  await page.keyboard.press('Control+Enter');
  await expect(page.getByTestId('output')).toContainText('Once');
  await page.getByTestId('stop').click();
  await expect(page.getByTestId('done')).toContainText('Stopped.');
  await expect(page.getByTestId('output')).not.toContainText('wrote.');
  await page.getByTestId('insert').click();
  await expect(editor(page)).toContainText('The sea was restless that night.');
  await expect(editor(page)).toContainText('Once');
});

test('a new scene, renamed, is listed in the binder and saved', async ({ page }) => {
  await openApp(page);
  await expect(page.getByTestId('doc-title')).toHaveValue('The Lighthouse');
  await page.keyboard.press('Control+n');
  await expect(page.getByTestId('doc-title')).toHaveValue('Untitled scene');
  await expect(page.getByTestId('doc-title')).toBeFocused();
  await page.getByTestId('doc-title').fill('Chapter Two');
  await editor(page).click();
  await page.keyboard.type('Rain again.');
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
  // It went right after the scene that was open.
  await expect(page.getByTestId('binder-title')).toHaveText(['The Lighthouse', 'Chapter Two', 'Notes']);
  // Delete with undo.
  await page.getByTestId('binder-delete').click();
  await expect(page.getByTestId('toast')).toContainText('moved to the trash');
  await expect(page.getByTestId('binder-title')).toHaveText(['The Lighthouse', 'Notes']);
  await page.getByRole('button', { name: 'Undo' }).click();
  await expect(page.getByTestId('binder-title')).toHaveText(['The Lighthouse', 'Chapter Two', 'Notes']);
  await expect(page.getByTestId('doc-title')).toHaveValue('Chapter Two');
  await expect(editor(page)).toHaveText('Rain again.');
});

test('a fusion run with a failing member still fuses, shows the analysis, and inserts the answer', async ({ page }) => {
  await openApp(page, { delayMs: 40 });
  await page.getByTestId('nav-fusion').click();
  await page.getByTestId('fusion-prompt').fill('Open the chapter at dawn.');
  await page.getByTestId('member-openrouter:mistralai/ministral-8b').check();
  await page.getByTestId('member-openrouter:broken/model').check();
  await expect(page.getByTestId('fusion-estimate')).toContainText('$0.0020');
  await page.getByTestId('fusion-run').click();
  await expect(page.getByTestId('member-column')).toHaveCount(3);
  await expect(page.getByTestId('member-error')).toHaveText('401 invalid key: openrouter refused the API key');
  await expect(page.getByTestId('analysis')).toContainText('Both open at dawn by the sea.');
  await expect(page.getByTestId('analysis')).toContainText('Night would be more haunting.');
  await expect(page.getByTestId('final-text')).toContainText('the gulls spoke first');
  await page.getByTestId('final-insert').click();
  await expect(page.getByTestId('doc-title')).toBeVisible();
  await expect(editor(page)).toContainText('the gulls spoke first');
});

test('after a run the writer picks blind between two answers; names show only after the pick, and the leaderboard counts it', async ({ page }) => {
  await openApp(page, { delayMs: 5 });
  await page.getByTestId('nav-fusion').click();
  await page.getByTestId('fusion-prompt').fill('Open the chapter at dawn.');
  await page.getByTestId('member-openrouter:mistralai/ministral-8b').check();
  await page.getByTestId('fusion-run').click();
  await expect(page.getByTestId('final-text')).toContainText('the gulls spoke first');
  await page.getByTestId('blind-start').click();
  await expect(page.getByTestId('blind-answer')).toHaveCount(2);
  await expect(page.getByTestId('blind-name')).toHaveCount(0);
  await page.getByPlaceholder(/Why \(optional\)/).fill('less throat-clearing');
  await page.getByTestId('blind-left').click();
  await expect(page.getByTestId('blind-name')).toHaveCount(2);
  await expect(page.getByTestId('taste-row')).toHaveCount(2);
  await expect(page.getByTestId('taste-board')).toContainText('1 pick');
  const picks = (await backendCalls(page)).filter((c) => c.cmd === 'record_pick').map((c) => c.args.pick as { left_name: string; right_name: string; outcome: string; reason: string | null; left_text: string });
  expect(picks).toHaveLength(1);
  expect(picks[0].outcome).toBe('left');
  expect(picks[0].reason).toBe('less throat-clearing');
  expect(picks[0].left_name).not.toBe(picks[0].right_name);
  expect(picks[0].left_text.length).toBeGreaterThan(0);
  // The named answers were out of sight during the pick and are back after it.
  await page.getByRole('button', { name: 'Done' }).click();
  await expect(page.getByTestId('member-column')).toHaveCount(2);
  // The keyboard picks too, and the leaderboard follows.
  await page.getByTestId('blind-start').click();
  await expect(page.getByTestId('member-column')).toHaveCount(0);
  await expect(page.getByTestId('final-text')).toHaveCount(0);
  await expect(page.getByTestId('blind-name')).toHaveCount(0);
  await page.keyboard.press('2');
  await expect(page.getByTestId('taste-board')).toContainText('2 picks');
  const accessibility = await new AxeBuilder({ page }).include('[data-testid="blind-pick"]').analyze();
  expect(accessibility.violations).toEqual([]);
});

test('history: search finds a run and reopens it exactly', async ({ page }) => {
  await openApp(page, { delayMs: 5 });
  await fuseOnce(page);
  await page.getByTestId('nav-history').click();
  await expect(page.getByTestId('run-item')).toHaveCount(1);
  await page.getByTestId('history-search').fill('gulls');
  await expect(page.getByTestId('search-hit').first()).toContainText('gulls');
  await expect(page.getByTestId('search-hit').first().locator('mark').first()).toHaveText('gulls');
  await page.getByTestId('search-hit').first().click();
  await expect(page.getByTestId('run-prompt')).toHaveText('Describe the harbour.');
  await expect(page.getByTestId('run-final')).toContainText('Mara began to count');
  await expect(page.getByTestId('run-member-output').first()).toContainText('The sea woke grey');
});

test('history: Re-run of a fusion sets the recorded panel up again in Fusion', async ({ page }) => {
  await openApp(page, { delayMs: 5 });
  await fuseOnce(page, 'A line about fog.');
  await page.getByTestId('nav-history').click();
  await page.getByTestId('run-item').first().click();
  await page.getByTestId('rerun').click();
  await expect(page.getByTestId('fusion-prompt')).toHaveValue('A line about fog.');
  await expect(page.getByTestId('member-openrouter:mistralai/ministral-8b')).toBeChecked();
  await page.getByTestId('fusion-run').click();
  await expect(page.getByTestId('final-text')).toBeVisible();
  const runs = (await backendCalls(page)).filter((c) => c.cmd === 'run_fusion').map((c) => c.args.params as { members: string[]; seed?: number | null });
  expect(runs).toHaveLength(2);
  expect(runs[1].members).toEqual(runs[0].members);
});

test('importing a file that is not a model shows the reason', async ({ page }) => {
  await openApp(page, { dialogPath: '/home/writer/Downloads/notes.zip' });
  await page.getByTestId('nav-models').click();
  await expect(page.getByTestId('model-row')).toHaveCount(1);
  await page.getByTestId('import-model').click();
  await expect(page.getByTestId('import-error')).toContainText('is not a GGUF model file');
  await expect(page.getByTestId('model-row')).toHaveCount(1);
  await expect(page.getByTestId('npu-note')).toContainText('NPU: no NPU found');
});

test('the compact context memory is saved with the other load settings and the model reloads', async ({ page }) => {
  await openApp(page);
  await page.getByTestId('nav-models').click();
  await expect(page.getByTestId('kv-cache')).toHaveValue('f32');
  await page.getByTestId('kv-cache').selectOption('f16');
  await page.getByRole('button', { name: 'Apply and reload' }).click();
  await expect(page.getByTestId('toast')).toContainText('the model was reloaded');
  const calls = await backendCalls(page);
  expect(calls.find((c) => c.cmd === 'set_setting' && c.args.key === 'kv_cache')?.args.value).toBe('f16');
  const saved = calls.findIndex((c) => c.cmd === 'set_setting' && c.args.key === 'kv_cache');
  expect(calls.findIndex((c, i) => i > saved && c.cmd === 'load_model')).toBeGreaterThan(saved);
  // Shown again as saved when the view opens next.
  await page.getByTestId('nav-write').click();
  await page.getByTestId('nav-models').click();
  await expect(page.getByTestId('kv-cache')).toHaveValue('f16');
});

test('reading ahead is on by default and turning it off is saved at once, without a reload', async ({ page }) => {
  await openApp(page);
  await page.getByTestId('nav-models').click();
  const setting = page.getByTestId('read-ahead-setting');
  await expect(setting).toBeChecked();
  await setting.uncheck();
  await expect.poll(async () => (await backendCalls(page)).find((c) => c.cmd === 'set_setting' && c.args.key === 'prepare_ahead')?.args.value).toBe(false);
  expect((await backendCalls(page)).filter((c) => c.cmd === 'load_model')).toHaveLength(0);
  await page.getByTestId('nav-write').click();
  await page.getByTestId('nav-models').click();
  await expect(page.getByTestId('read-ahead-setting')).not.toBeChecked();
});

test('an OpenVINO folder imports through its openvino_model.xml and is listed as format OpenVINO', async ({ page }) => {
  await openApp(page, { dialogPath: '/home/writer/models/mistral-7b-instruct-v0.3-int4-ov/openvino_model.xml' });
  await page.getByTestId('nav-models').click();
  await page.getByTestId('import-model').click();
  const row = page.getByTestId('model-row').filter({ hasText: 'mistral-7b-instruct-v0.3-int4-ov' });
  await expect(row).toBeVisible();
  await expect(row.getByTestId('model-format')).toHaveText('OpenVINO');
  await expect(row).toContainText('INT4');
  await expect(page.getByTestId('model-row').first().getByTestId('model-format')).toHaveText('GGUF');
});

test('a key goes to the keychain and is never shown again', async ({ page }) => {
  const secret = 'sk-mistral-SECRET-123456';
  await openApp(page);
  await page.getByTestId('nav-settings').click();
  await page.getByTestId('preset-mistral').click();
  await page.getByTestId('provider-model').fill('mistral-small-latest');
  await page.getByTestId('provider-add-model').click();
  await page.getByTestId('key-input').fill(secret);
  await page.getByTestId('provider-save').click();
  await expect(page.getByTestId('toast').first()).toContainText('Provider saved');
  await page.getByTestId('provider-item').filter({ hasText: 'Mistral' }).click();
  await expect(page.getByTestId('key-status')).toContainText('Key set');
  await expect(page.getByTestId('key-input')).toHaveValue('');
  expect(await page.content()).not.toContain(secret);
  const calls = await page.evaluate(() => (window as unknown as { __ATELIER_MOCK__: { calls: { cmd: string }[] } }).__ATELIER_MOCK__.calls.map((c) => c.cmd));
  expect(calls.filter((c) => c === 'set_key')).toHaveLength(1);
  // The pill counts the new cloud model.
  await expect(page.getByTestId('pill-text')).toHaveText('Cloud on: 3 models');
});

test('the offline switch blocks cloud members and self-fusion still runs', async ({ page }) => {
  await openApp(page, { delayMs: 5 });
  await expect(page.getByTestId('pill-text')).toHaveText('Cloud on: 2 models');
  await page.getByTestId('offline-switch').check();
  await expect(page.getByTestId('pill-text')).toHaveText('On-device');
  await page.getByTestId('nav-fusion').click();
  await expect(page.getByTestId('member-openrouter:mistralai/ministral-8b')).toBeDisabled();
  await page.getByTestId('fusion-prompt').fill('A line about fog.');
  // Offline, one click runs self-fusion; its samples, voices and on-device time are shown first.
  await expect(page.getByTestId('fusion-run')).toHaveCount(0);
  await expect(page.getByTestId('self-fusion')).toHaveText('Run self-fusion (3 on-device samples)');
  await expect(page.getByTestId('fusion-latency')).toHaveText(' · on this computer about 38 s');
  await page.getByTestId('self-fusion-samples').fill('2');
  await page.getByTestId('self-fusion-personas').fill('0.2 a careful proofreader\na wild surrealist');
  await expect(page.getByTestId('fusion-latency')).toHaveText(' · on this computer about 28 s');
  await page.getByTestId('self-fusion').click();
  await expect(page.getByTestId('member-column')).toHaveCount(2);
  await expect(page.getByTestId('final-text')).toBeVisible();
  const run = (await backendCalls(page)).filter((c) => c.cmd === 'run_fusion').map((c) => c.args.params as { self_fusion: number; personas: { temperature: number; description: string }[] })[0];
  expect(run.self_fusion).toBe(2);
  expect(run.personas).toEqual([{ temperature: 0.2, description: 'a careful proofreader' }, { temperature: 0.7, description: 'a wild surrealist' }]);
  await page.getByTestId('nav-privacy').click();
  await expect(page.getByTestId('ledger-empty')).toHaveText('Nothing has left this computer.');
});

test('the command palette runs commands from the keyboard', async ({ page }) => {
  await openApp(page);
  await page.keyboard.press('Control+k');
  await expect(page.getByTestId('palette')).toBeVisible();
  await page.getByTestId('palette-input').fill('history');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('history-view')).toBeVisible();
  await page.keyboard.press('Control+4');
  await expect(page.getByTestId('models-view')).toBeVisible();
});

const VIEWS = ['write', 'fusion', 'history', 'models', 'settings', 'privacy'] as const;

for (const scheme of ['light', 'dark'] as const) {
  test(`every screen passes axe and is captured (${scheme})`, async ({ page }) => {
    await page.emulateMedia({ colorScheme: scheme });
    await openApp(page);
    await expect(page.getByTestId('pill-text')).toBeVisible();
    for (const view of VIEWS) {
      await page.getByTestId(`nav-${view}`).click();
      await page.waitForTimeout(250);
      const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
      const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`), `${view} (${scheme})`).toEqual([]);
      await page.screenshot({ path: `../artifacts/screenshots/${view}-${scheme}.png` });
    }
  });
}
