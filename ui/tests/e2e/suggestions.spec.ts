// "Ask the panel" from the Assist panel: a fused revision arrives in the editor as suggestions, taken
// or left one by one or all at once, undone with Ctrl+Z, after a snapshot of the text.
import AxeBuilder from '@axe-core/playwright';
import { backendCalls, expect, openApp, test } from './fixtures';
import type { Page } from '@playwright/test';

const ORIGINAL = 'The keeper climbed the stairs at dusk.\n\nThe sea was restless that night.';
const editor = (page: Page) => page.getByTestId('editor');
const inText = (page: Page) => editor(page).getByTestId('suggestion');

/** The text as the editor holds it: its lines, without the suggestions drawn over them. */
function docText(page: Page): Promise<string> {
  return editor(page).evaluate((content) => {
    const copy = content.cloneNode(true) as HTMLElement;
    copy.querySelectorAll('.cm-suggestion').forEach((n) => n.remove());
    return [...copy.querySelectorAll('.cm-line')].map((line) => line.textContent ?? '').join('\n');
  });
}

async function saves(page: Page) {
  return (await backendCalls(page)).filter((c) => c.cmd === 'save_document').map((c) => ({ reason: c.args.reason, body: c.args.body }));
}

test('a rewrite asked of the panel arrives as suggestions: accept, reject, undo, accept all, after a snapshot', async ({ page }) => {
  await openApp(page, { delayMs: 20 });
  await editor(page).click();
  await page.keyboard.press('Control+A');
  await page.getByTestId('target-panel').click();
  // The default panel is one member: offline or not, that is self-fusion of the on-device model.
  await expect(page.getByTestId('panel-summary')).toContainText('Self-fusion: 3 on-device samples');
  await expect(page.getByTestId('panel-estimate')).toContainText('Rewrite: at most $0 · about 38 s on this computer');
  await page.getByTestId('action-rewrite').click();
  await expect(page.getByTestId('panel-seat')).toHaveCount(3);
  await expect(inText(page)).toHaveCount(2);

  // The snapshot was taken before anything was applied: the text as it stood.
  const snapshot = (await saves(page)).find((s) => s.reason === 'before AI: panel rewrite');
  expect(snapshot?.body).toBe(ORIGINAL);
  const run = (await backendCalls(page)).find((c) => c.cmd === 'run_fusion');
  expect(run?.args.params).toMatchObject({ action: 'rewrite', self_fusion: 3, selection: ORIGINAL, prompt: '' });
  expect(await docText(page)).toBe(ORIGINAL);
  await expect(page.getByTestId('suggestion-count')).toHaveText('2 suggestions in the text');
  await expect(page.getByTestId('suggestion-source').first()).toHaveText('From A · local:SmolLM2-135M-Instruct');
  await expect(page.getByTestId('suggestion-source').nth(1)).toHaveText('Written by the judge');
  await page.screenshot({ path: '../artifacts/screenshots/suggestions.png' });
  const axe = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
  const serious = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);

  // One by one: accept the first in the text, reject the second from the list.
  await inText(page).first().getByTestId('suggestion-accept').click();
  expect(await docText(page)).toBe(`At dawn, ${ORIGINAL}`);
  await expect(inText(page)).toHaveCount(1);
  await page.getByTestId('item-reject').click();
  await expect(inText(page)).toHaveCount(0);
  await expect(page.getByTestId('suggestions-done')).toBeVisible();
  expect(await docText(page)).toBe(`At dawn, ${ORIGINAL}`);

  // Ctrl+Z takes back the reject (the suggestion returns), then the accept (the text returns).
  await editor(page).focus();
  await page.keyboard.press('Control+Z');
  await expect(inText(page)).toHaveCount(1);
  expect(await docText(page)).toBe(`At dawn, ${ORIGINAL}`);
  await page.keyboard.press('Control+Z');
  await expect(inText(page)).toHaveCount(2);
  expect(await docText(page)).toBe(ORIGINAL);

  // All at once, in one undo step; redo puts it back.
  await page.getByTestId('accept-all').click();
  const revised = `At dawn, ${ORIGINAL.replace(/night\.$/, 'sea.')}`;
  expect(await docText(page)).toBe(revised);
  await expect(inText(page)).toHaveCount(0);
  await editor(page).focus();
  await page.keyboard.press('Control+Z');
  expect(await docText(page)).toBe(ORIGINAL);
  await expect(inText(page)).toHaveCount(2);
  await page.keyboard.press('Control+Shift+Z');
  expect(await docText(page)).toBe(revised);
  await expect(inText(page)).toHaveCount(0);

  // The accepted text is what the library keeps.
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
  expect((await saves(page)).at(-1)?.body).toBe(revised);

  // The members' whole answers stay one click away.
  await page.getByTestId('panel-answers-open').click();
  await expect(page.getByTestId('answer-column')).toHaveCount(3);
  await expect(page.getByTestId('answer-column').first()).toContainText('The sea woke grey');
  // Two alternatives, picked blind: the named columns hide until the pick is made.
  await page.getByTestId('blind-start').click();
  await expect(page.getByTestId('answer-column')).toHaveCount(0);
  await page.getByTestId('blind-left').click();
  await expect(page.getByTestId('blind-name')).toHaveCount(2);
  await expect(page.getByTestId('answer-column')).toHaveCount(3);
  expect((await backendCalls(page)).filter((c) => c.cmd === 'record_pick')).toHaveLength(1);
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('panel-answers')).toHaveCount(0);
});

test('rejecting everything leaves the text as it was, and typing elsewhere while the panel works does not lose the passage', async ({ page }) => {
  await openApp(page, { delayMs: 150 });
  await editor(page).click();
  await page.keyboard.press('Control+Home');
  // The first sentence (Shift+End would stop where the line wraps).
  for (let i = 0; i < 'The keeper climbed the stairs at dusk.'.length; i++) await page.keyboard.press('Shift+ArrowRight');
  await page.getByTestId('target-panel').click();
  await page.getByTestId('action-shorten').click();
  // The writer goes on writing at the end of the scene while the panel answers.
  await editor(page).click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type(' The lamp went out.');
  await expect(inText(page)).toHaveCount(2);
  const typed = `${ORIGINAL} The lamp went out.`;
  expect(await docText(page)).toBe(typed);
  await page.getByTestId('accept-all').click();
  expect(await docText(page)).toBe(`At dawn, The keeper climbed the stairs at sea.\n\nThe sea was restless that night. The lamp went out.`);
  await editor(page).focus();
  await page.keyboard.press('Control+Z');
  await page.getByTestId('reject-all').click();
  await expect(inText(page)).toHaveCount(0);
  expect(await docText(page)).toBe(typed);
});

test('a Continue asked of the panel is one suggested paragraph at the cursor, credited to its member', async ({ page }) => {
  await openApp(page, { delayMs: 10 });
  await editor(page).click();
  await page.keyboard.press('Control+End');
  await page.getByTestId('target-panel').click();
  await page.getByTestId('action-continue').click();
  await expect(inText(page)).toHaveCount(1);
  await expect(page.getByTestId('suggestion-source')).toHaveText('From A · local:SmolLM2-135M-Instruct');
  await inText(page).getByTestId('suggestion-accept').click();
  expect(await docText(page)).toBe(`${ORIGINAL}\n\nThe gulls spoke first.`);
});

test('the panel set up in Fusion is the one Ask the panel runs, with its cost before the run', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await openApp(page, { delayMs: 10 });
  await page.getByTestId('nav-fusion').click();
  await page.getByTestId('member-openrouter:mistralai/ministral-8b').check();
  await expect.poll(async () => (await backendCalls(page)).filter((c) => c.cmd === 'save_panel_choice').length).toBeGreaterThan(0);
  await page.getByTestId('nav-write').click();
  await editor(page).click();
  await page.keyboard.press('Control+A');
  await page.getByTestId('target-panel').click();
  await expect(page.getByTestId('panel-summary')).toContainText('on-device, openrouter · mistralai/ministral-8b · judge on-device · merge');
  await expect(page.getByTestId('panel-estimate')).toContainText('at most $0.0012');
  await page.getByTestId('action-critique').click();
  // A critique is no revision: it stays in the panel, to insert by hand.
  await expect(page.getByTestId('output')).toContainText('the gulls spoke first');
  await expect(inText(page)).toHaveCount(0);
  const run = (await backendCalls(page)).filter((c) => c.cmd === 'run_fusion').at(-1);
  expect(run?.args.params).toMatchObject({ action: 'critique', members: ['local', 'openrouter:mistralai/ministral-8b'], self_fusion: null });
  await expect(page.getByTestId('insert')).toBeVisible();
  // Back on this computer, the actions run on-device again.
  await page.getByTestId('target-device').click();
  await expect(page.getByTestId('panel-summary')).toHaveCount(0);

  // Offline, the cloud member is greyed out; changing the panel then does not forget it.
  await page.getByTestId('offline-switch').click();
  await page.getByTestId('nav-fusion').click();
  await expect(page.getByTestId('member-openrouter:mistralai/ministral-8b')).toBeDisabled();
  await page.getByTestId('self-fusion-samples').fill('4');
  await expect.poll(async () => (await backendCalls(page)).filter((c) => c.cmd === 'save_panel_choice').at(-1)?.args.choice).toMatchObject({ samples: 4, members: ['local', 'openrouter:mistralai/ministral-8b'] });
  expect(errors).toEqual([]);
});
