import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPreparer } from '../../src/lib/prepare';
import type { ContextFor, Prepared } from '../../src/lib/types';

const write = (selection: string): ContextFor => ({ for: 'write', action: 'rewrite', tone: 'vivid', instruction: null, selection, before: 'It was late.', document: 'It was late.', document_id: 1, dropped: [], seed: null });
const done = (prompt_tokens: number, cancelled = false): Prepared => ({ prompt_tokens, cached_tokens: 0, computed_tokens: prompt_tokens - 1, ms: 5, cancelled });

describe('reading ahead', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('asks once the writer pauses, for the latest target only, and reports what was read', async () => {
    const asked: ContextFor[] = [];
    const reported: number[] = [];
    const preparer = createPreparer({ delayMs: 500, prepare: async (t) => (asked.push(t), done(100)), onprepared: (p) => reported.push(p.prompt_tokens) });
    preparer.schedule(write('The'));
    await vi.advanceTimersByTimeAsync(300);
    preparer.schedule(write('The rain'));
    await vi.advanceTimersByTimeAsync(499);
    expect(asked).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(asked).toEqual([write('The rain')]);
    expect(reported).toEqual([100]);
    // The same target again is not asked twice; a different one is.
    preparer.schedule(write('The rain'));
    await vi.advanceTimersByTimeAsync(1000);
    expect(asked.length).toBe(1);
    preparer.schedule(write('The rain fell.'));
    await vi.advanceTimersByTimeAsync(500);
    expect(asked.length).toBe(2);
  });

  it('asks nothing for no target or after cancel, and drops a reply that a newer ask overtook', async () => {
    let release: (p: Prepared) => void = () => {};
    const asked: ContextFor[] = [];
    const reported: string[] = [];
    const preparer = createPreparer({
      delayMs: 100,
      prepare: (t) => (asked.push(t), new Promise<Prepared>((resolve) => (release = resolve))),
      onprepared: (_, t) => reported.push(t.for === 'write' ? (t.selection ?? '') : ''),
    });
    preparer.schedule(write('A'));
    preparer.schedule(null);
    await vi.advanceTimersByTimeAsync(500);
    preparer.schedule(write('B'));
    preparer.cancel();
    await vi.advanceTimersByTimeAsync(500);
    expect(asked).toEqual([]);

    preparer.schedule(write('C'));
    await vi.advanceTimersByTimeAsync(100);
    const first = release;
    preparer.schedule(write('D'));
    await vi.advanceTimersByTimeAsync(100);
    release(done(10));
    first(done(10));
    await vi.advanceTimersByTimeAsync(0);
    expect(reported).toEqual(['D']);

    // E is in flight when the writer sets up F: E's reply, arriving before F is even asked, is dropped.
    preparer.schedule(write('E'));
    await vi.advanceTimersByTimeAsync(100);
    const e = release;
    preparer.schedule(write('F'));
    e(done(10));
    await vi.advanceTimersByTimeAsync(0);
    expect(reported).toEqual(['D']);
    await vi.advanceTimersByTimeAsync(100);
    release(done(10));
    await vi.advanceTimersByTimeAsync(0);
    expect(reported).toEqual(['D', 'F']);
  });

  it('asks again for a target whose preparation a run stopped or that failed', async () => {
    const replies: (Prepared | Error)[] = [done(50, true), new Error('Select some text to rewrite.'), done(50)];
    let asked = 0;
    const reported: number[] = [];
    const preparer = createPreparer({
      delayMs: 10,
      prepare: async () => {
        const reply = replies[asked++];
        if (reply instanceof Error) throw reply;
        return reply;
      },
      onprepared: (p) => reported.push(p.prompt_tokens),
    });
    for (let i = 0; i < 3; i++) {
      preparer.schedule(write('Same'));
      await vi.advanceTimersByTimeAsync(10);
    }
    expect(asked).toBe(3);
    expect(reported).toEqual([50]);
  });
});
