import { afterEach, describe, expect, it } from 'vitest';
import { clearMocks } from '@tauri-apps/api/mocks';
import { AtelierError, cancel, generate, toAtelierError, watchModelStatus } from '../../src/lib/api';
import type { GenerationEvent, ModelStatus } from '../../src/lib/types';
import { installMockBackend, READY } from '../mock-backend';

afterEach(() => clearMocks());

describe('generate', () => {
  it('streams text events in order and resolves with the whole reply', async () => {
    const backend = installMockBackend({ reply: ['Hello', ',', ' writer', '.'], delayMs: 1 });
    const events: GenerationEvent[] = [];
    const run = generate({ prompt: 'Greet me', max_tokens: 16 }, (e) => events.push(e));
    const result = await run.done;

    expect(result.text).toBe('Hello, writer.');
    expect(events.map((e) => e.event)).toEqual(['started', 'text', 'text', 'text', 'text', 'finished']);
    const streamed = events.filter((e) => e.event === 'text').map((e) => (e.event === 'text' ? e.data.text : ''));
    expect(streamed.join('')).toBe(result.text);

    const call = backend.calls.find((c) => c.cmd === 'generate')!;
    expect(call.args.id).toBe(run.id);
    expect(call.args.params).toEqual({ prompt: 'Greet me', max_tokens: 16 });
  });

  it('gives every run its own id', () => {
    installMockBackend({ delayMs: 1 });
    const a = generate({ prompt: 'a' }, () => {});
    const b = generate({ prompt: 'b' }, () => {});
    expect(a.id).not.toBe(b.id);
    return Promise.all([a.done, b.done]);
  });

  it('stops a run on cancel and keeps what arrived', async () => {
    installMockBackend({ delayMs: 15 });
    let texts = 0;
    const run = generate({ prompt: 'go' }, (e) => {
      if (e.event === 'text' && ++texts === 2) void cancel(run.id);
    });
    const result = await run.done;
    expect(result.stop_reason).toBe('cancelled');
    expect(result.completion_tokens).toBeLessThan(5);
    expect(result.text.length).toBeGreaterThan(0);
  });

  it('turns backend errors into AtelierError with their kind', async () => {
    installMockBackend({ failWith: { kind: 'model_missing', message: 'model file not found: /x.gguf' } });
    const run = generate({ prompt: 'hi' }, () => {});
    await expect(run.done).rejects.toBeInstanceOf(AtelierError);
    await expect(run.done).rejects.toMatchObject({ kind: 'model_missing', message: 'model file not found: /x.gguf' });
  });
});

describe('watchModelStatus', () => {
  it('reports loading, then ready', async () => {
    installMockBackend({ loadMs: 5 });
    const seen: ModelStatus[] = [];
    await watchModelStatus((s) => seen.push(s));
    await new Promise((r) => setTimeout(r, 30));
    expect(seen.map((s) => s.state)).toEqual(['loading', 'ready']);
    expect(seen[1]).toEqual(READY);
  });
});

describe('toAtelierError', () => {
  it('keeps plain strings and hides unknown shapes behind a readable message', () => {
    expect(toAtelierError('boom').message).toBe('boom');
    expect(toAtelierError(42).message).toMatch(/went wrong/);
    expect(toAtelierError({ kind: 'x', message: 'y' })).toMatchObject({ kind: 'x', message: 'y' });
  });
});
