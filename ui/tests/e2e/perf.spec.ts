import { expect, openApp, test } from './fixtures';

// 200 tokens a second streaming into the assistant panel must not drop frames: count animation frames
// while it streams (from the first token on: the click that saves the scene and starts the run is not
// streaming), and keep a Chromium performance trace as an artifact.
test('the UI keeps ~60 fps while 200 tok/s stream in', async ({ page, browser }) => {
  const words = Array.from({ length: 1000 }, (_, i) => ` word${i}`);
  await openApp(page, { reply: words, delayMs: 5 });
  await page.getByTestId('editor').click();
  await browser.startTracing(page, { path: '../artifacts/perf-trace-streaming.json', screenshots: false });
  await page.getByTestId('action-continue').click();
  await expect(page.getByTestId('output')).toContainText('word1', { timeout: 10_000 });
  await page.evaluate(() => {
    const w = window as unknown as { __frames: number[] };
    w.__frames = [];
    const tick = (t: number) => {
      w.__frames.push(t);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  await expect(page.getByTestId('output')).toContainText('word400', { timeout: 10_000 });
  await page.waitForTimeout(1000);
  await browser.stopTracing();
  const frames: number[] = await page.evaluate(() => (window as unknown as { __frames: number[] }).__frames);
  const gaps = frames.slice(1).map((t, i) => t - frames[i]);
  const seconds = (frames[frames.length - 1] - frames[0]) / 1000;
  const fps = gaps.length / seconds;
  const longest = Math.max(...gaps);
  const at = frames[gaps.indexOf(longest)] - frames[0];
  console.log(`streaming: ${fps.toFixed(1)} fps over ${seconds.toFixed(1)} s, longest frame ${longest.toFixed(1)} ms (${at.toFixed(0)} ms in)`);
  expect(fps).toBeGreaterThanOrEqual(55);
  expect(longest).toBeLessThan(100);
});
