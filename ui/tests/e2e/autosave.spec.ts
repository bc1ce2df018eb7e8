import { expect, openApp, test } from './fixtures';
import type { Page } from '@playwright/test';

// Typing is never lost: the page's saves as the mock backend received them, with their arrival times.

const ORIGINAL = 'The keeper climbed the stairs at dusk.\n\nThe sea was restless that night.';

interface Call {
  cmd: string;
  args: Record<string, unknown>;
  at: number;
}

/** The index of the last call that matches (Array.prototype.findLastIndex is ES2023, past our lib target). */
function lastIndex(log: Call[], match: (c: Call, i: number) => boolean): number {
  for (let i = log.length - 1; i >= 0; i--) if (match(log[i], i)) return i;
  return -1;
}

const calls = (page: Page): Promise<Call[]> =>
  page.evaluate(() => (window as unknown as { __ATELIER_MOCK__: { calls: Call[] } }).__ATELIER_MOCK__.calls);
const saves = async (page: Page) => (await calls(page)).filter((c) => c.cmd === 'save_document');

/** Records when each key went down in the page, to show the typing never paused. */
async function recordKeys(page: Page) {
  await page.evaluate(() => {
    const w = window as unknown as { __keys: number[] };
    w.__keys = [];
    document.addEventListener('keydown', () => w.__keys.push(Date.now()), true);
  });
  return () => page.evaluate(() => (window as unknown as { __keys: number[] }).__keys);
}

async function typeAtEnd(page: Page, text: string, delay: number) {
  await page.getByTestId('editor').click();
  await page.keyboard.press('Control+End');
  const keys = await recordKeys(page);
  await page.keyboard.type(text, { delay });
  return keys();
}

// ~20 characters a second for a little over 5 s, never a 700 ms pause: the old debounce, restarted by
// every keystroke, saved none of it until the typing stopped.
const BURST =
  ' The lamp turned all night and the keeper counted ships, one by one, until the grey morning came.';

test('continuous typing reaches the library at least once a second while it goes on', async ({ page }) => {
  await openApp(page);
  await expect(page.getByTestId('doc-title')).toHaveValue('The Lighthouse');
  const keys = await typeAtEnd(page, BURST, 50);
  const [first, last] = [keys[0], keys[keys.length - 1]];
  const pauses = keys.slice(1).map((t, i) => t - keys[i]);
  expect(last - first, 'typing lasted').toBeGreaterThanOrEqual(4800);
  expect(Math.max(...pauses), 'longest pause between keys').toBeLessThan(700);

  const during = (await saves(page)).filter((s) => s.at > first && s.at <= last);
  console.log(`continuous typing: ${keys.length} keys over ${((last - first) / 1000).toFixed(1)} s, ${during.length} saves during it, at ${during.map((s) => s.at - first).join(', ')} ms`);
  expect(during.length).toBeGreaterThanOrEqual(4);
  // None came later than about a second after the one before (timers on a busy machine run late).
  const gaps = [during[0].at - first, ...during.slice(1).map((s, i) => s.at - during[i].at)];
  expect(Math.max(...gaps), 'longest wait for a save').toBeLessThan(1500);
  // Each save holds more of the burst than the one before.
  const bodies = during.map((s) => s.args.body as string);
  for (let i = 0; i < bodies.length; i++) {
    expect((ORIGINAL + BURST).startsWith(bodies[i])).toBe(true);
    if (i > 0) expect(bodies[i].length).toBeGreaterThan(bodies[i - 1].length);
  }

  // Once the typing stops, the last save holds all of it.
  await expect(page.getByTestId('save-state')).toHaveText('Saved');
  await expect.poll(async () => (await saves(page)).at(-1)?.args.body).toBe(ORIGINAL + BURST);
});

test('on a slow disk saves wait for each other and the last one carries all the text', async ({ page }) => {
  await openApp(page, { saveDelayMs: 1500 });
  await expect(page.getByTestId('doc-title')).toHaveValue('The Lighthouse');
  const text = ' Fog rolled in over the rocks and the bell rang twice.';
  const keys = await typeAtEnd(page, text, 60);
  await expect(page.getByTestId('save-state')).toHaveText('Saved', { timeout: 10_000 });
  const all = await saves(page);
  expect(all.filter((s) => s.at > keys[0] && s.at <= keys[keys.length - 1]).length).toBeGreaterThanOrEqual(2);
  expect(all.at(-1)!.args.body).toBe(ORIGINAL + text);
  expect(await page.evaluate(() => (window as unknown as { __ATELIER_MOCK__: { maxSavesInFlight: number } }).__ATELIER_MOCK__.maxSavesInFlight)).toBe(1);
});

test('switching scenes, leaving the editor and hiding the window save at once', async ({ page }) => {
  await openApp(page);
  await expect(page.getByTestId('doc-title')).toHaveValue('The Lighthouse');
  // Switching scenes: the save of the first comes before the second is read.
  await typeAtEnd(page, ' One.', 10);
  await page.getByTestId('binder-row').filter({ hasText: 'Notes' }).click();
  await expect(page.getByTestId('doc-title')).toHaveValue('Notes');
  const log = await calls(page);
  const opened = lastIndex(log, (c) => c.cmd === 'get_document' && c.args.id === 2);
  const saved = lastIndex(log, (c) => c.cmd === 'save_document' && c.args.id === 1);
  expect(saved).toBeGreaterThanOrEqual(0);
  expect(saved).toBeLessThan(opened);
  expect(log[saved].args.body).toBe(ORIGINAL + ' One.');

  // Blur and a hidden window save without waiting out the 700 ms.
  const before = (await saves(page)).length;
  await typeAtEnd(page, ' Two.', 10);
  const typedAt = await page.evaluate(() => Date.now());
  await page.getByTestId('binder-filter').focus();
  await expect.poll(async () => (await saves(page)).length).toBe(before + 1);
  const blurSave = (await saves(page)).at(-1)!;
  expect(blurSave.args.body).toMatch(/ Two\.$/);
  expect(blurSave.at - typedAt, 'blur save came after').toBeLessThan(650);

  await typeAtEnd(page, ' Three.', 10);
  const hiddenAt = await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
    return Date.now();
  });
  await expect.poll(async () => (await saves(page)).at(-1)?.args.body).toMatch(/ Three\.$/);
  expect((await saves(page)).at(-1)!.at - hiddenAt).toBeLessThan(650);
});

test('a model call sees the text saved first', async ({ page }) => {
  await openApp(page);
  await expect(page.getByTestId('doc-title')).toHaveValue('The Lighthouse');
  await typeAtEnd(page, ' Then', 10);
  await page.keyboard.press('Control+Enter');
  await expect(page.getByTestId('output')).toContainText('Once');
  const log = await calls(page);
  const generated = log.findIndex((c) => c.cmd === 'write');
  expect(generated).toBeGreaterThan(0);
  const saved = lastIndex(log, (c, i) => i < generated && c.cmd === 'save_document');
  expect(saved).toBeGreaterThanOrEqual(0);
  // (CodeMirror's Mod-Enter also opens a line; what matters is that the words typed are in.)
  expect((log[saved].args.body as string).trimEnd()).toBe(ORIGINAL + ' Then');
});
