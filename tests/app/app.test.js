// The real app, end to end: the window opens, a prompt streams text from the embedded on-device model.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { artifacts, launchApp } from './harness.js';

let app;

before(async () => {
  app = await launchApp();
});

after(async () => {
  await app?.close();
});

test('the window opens on-device with the embedded model', async () => {
  const { browser } = app;
  assert.equal(await browser.getTitle(), 'Atelier');
  const pill = await browser.$('[data-testid="privacy-pill"]');
  await pill.waitForExist({ timeout: 10_000 });
  await browser.waitUntil(async () => /SmolLM2-135M-Instruct/.test(await pill.getText()), {
    timeout: 60_000,
    timeoutMsg: 'the embedded model did not finish loading',
  });
  assert.match(await pill.getText(), /On-device/);
});

test('a prompt streams text from the real model', async () => {
  const { browser } = app;
  const prompt = await browser.$('[data-testid="prompt"]');
  await prompt.setValue('Write one sentence about a lighthouse.');
  await (await browser.$('[data-testid="generate"]')).click();

  const output = await browser.$('[data-testid="output"]');
  await output.waitForExist({ timeout: 60_000 });
  // Streaming: text grows while the Stop button is still there.
  const early = await output.getText();
  await browser.waitUntil(async () => (await browser.$('[data-testid="done"]').isExisting()), {
    timeout: 120_000,
    timeoutMsg: 'generation did not finish',
  });
  const text = await output.getText();
  assert.ok(text.trim().length > 10, `reply too short: ${JSON.stringify(text)}`);
  assert.ok(text.startsWith(early.trim().slice(0, 5)));
  assert.match(await (await browser.$('[data-testid="tok-s"]')).getText(), /tok\/s/);

  const screenshot = path.join(artifacts, 'app-generate.png');
  await browser.saveScreenshot(screenshot);
  console.log(`screenshot: ${screenshot}`);
});
