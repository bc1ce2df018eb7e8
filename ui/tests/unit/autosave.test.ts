import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAutosave, type SaveState } from '../../src/lib/autosave';

/** A fake library: records what each save read when it started, resolves when the test says so. */
function harness(opts: { idleMs?: number; maxWaitMs?: number; retryMs?: number; manual?: boolean } = {}) {
  let text = '';
  const saves: { at: number; text: string; reason: string }[] = [];
  const pending: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const states: SaveState[] = [];
  const errors: unknown[] = [];
  const autosave = createAutosave({
    idleMs: opts.idleMs ?? 700,
    maxWaitMs: opts.maxWaitMs ?? 1000,
    retryMs: opts.retryMs ?? 3000,
    onstate: (s) => states.push(s),
    onerror: (e) => errors.push(e),
    save: (reason) => {
      saves.push({ at: Date.now(), text, reason });
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const done = new Promise<void>((resolve, reject) => {
        if (opts.manual) pending.push({ resolve, reject });
        else resolve();
      });
      return done.finally(() => (inFlight -= 1));
    },
  });
  return {
    autosave,
    saves,
    pending,
    states,
    errors,
    get maxInFlight() {
      return maxInFlight;
    },
    type(s: string) {
      text += s;
      autosave.changed();
    },
    get text() {
      return text;
    },
  };
}

describe('autosave', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('saves 700 ms after the last keystroke of a short burst', async () => {
    const h = harness();
    h.type('a');
    await vi.advanceTimersByTimeAsync(300);
    h.type('b');
    await vi.advanceTimersByTimeAsync(699);
    expect(h.saves).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.saves).toEqual([{ at: 1000, text: 'ab', reason: 'autosave' }]);
    expect(h.autosave.state).toBe('saved');
  });

  it('saves at least once a second while the typing never pauses', async () => {
    const h = harness();
    // 20 keystrokes a second for 5 s: the old restarting debounce never fired once.
    for (let i = 0; i < 100; i++) {
      h.type(String.fromCharCode(97 + (i % 26)));
      await vi.advanceTimersByTimeAsync(50);
    }
    const during = h.saves.filter((s) => s.at <= 5000);
    expect(during.length).toBeGreaterThanOrEqual(4);
    expect(during[0].at).toBeLessThanOrEqual(1000);
    for (let i = 1; i < during.length; i++) expect(during[i].at - during[i - 1].at).toBeLessThanOrEqual(1000);
    // Each save holds more than the one before.
    for (let i = 1; i < during.length; i++) expect(during[i].text.startsWith(during[i - 1].text)).toBe(true);
    await vi.advanceTimersByTimeAsync(700);
    expect(h.saves.at(-1)!.text).toBe(h.text);
    expect(h.autosave.state).toBe('saved');
  });

  it('counts the second from the first keystroke no save has read', async () => {
    const h = harness({ maxWaitMs: 1000 });
    h.type('a'); // t=0
    for (let t = 100; t < 1000; t += 100) {
      await vi.advanceTimersByTimeAsync(100);
      h.type('x');
    }
    await vi.advanceTimersByTimeAsync(100); // t=1000
    expect(h.saves.map((s) => s.at)).toEqual([1000]);
    // Nothing typed since: no new save is pending.
    await vi.advanceTimersByTimeAsync(5000);
    expect(h.saves).toHaveLength(1);
  });

  it('never has two saves in flight; the one that waited carries the latest text', async () => {
    const h = harness({ manual: true });
    h.type('one');
    await vi.advanceTimersByTimeAsync(700);
    expect(h.saves).toHaveLength(1);
    expect(h.autosave.state).toBe('saving');
    // The library is slow: more typing, two more deadlines pass while the first save is in flight.
    h.type(' two');
    await vi.advanceTimersByTimeAsync(1000);
    h.type(' three');
    const flushed = h.autosave.flush();
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.saves).toHaveLength(1);
    expect(h.autosave.state).toBe('dirty');
    h.pending.shift()!.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(h.saves).toHaveLength(2);
    expect(h.saves[1].text).toBe('one two three');
    h.pending.shift()!.resolve();
    expect(await flushed).toBe(true);
    expect(h.maxInFlight).toBe(1);
    expect(h.autosave.state).toBe('saved');
    await vi.advanceTimersByTimeAsync(5000);
    expect(h.saves).toHaveLength(2);
  });

  it('flush saves at once, and only when something is unsaved', async () => {
    const h = harness();
    expect(await h.autosave.flush()).toBe(true);
    expect(h.saves).toHaveLength(0);
    h.type('before the model call');
    await vi.advanceTimersByTimeAsync(10);
    expect(await h.autosave.flush()).toBe(true);
    expect(h.saves).toEqual([{ at: 10, text: 'before the model call', reason: 'autosave' }]);
    // The pending timer was cancelled with it.
    await vi.advanceTimersByTimeAsync(5000);
    expect(h.saves).toHaveLength(1);
  });

  it('flush waits for the save in flight', async () => {
    const h = harness({ manual: true });
    h.type('a');
    await vi.advanceTimersByTimeAsync(700);
    let done = false;
    void h.autosave.flush().then(() => (done = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toBe(false);
    h.pending.shift()!.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toBe(true);
    expect(h.saves).toHaveLength(1);
  });

  it('a manual save writes even when nothing changed, with its reason', async () => {
    const h = harness();
    h.type('a');
    await h.autosave.save('manual');
    await h.autosave.save('manual');
    expect(h.saves.map((s) => s.reason)).toEqual(['manual', 'manual']);
  });

  it('a failed save keeps the text unsaved, reports it, and retries', async () => {
    const h = harness({ manual: true, retryMs: 3000 });
    h.type('keep me');
    await vi.advanceTimersByTimeAsync(700);
    h.pending.shift()!.reject(new Error('disk full'));
    await vi.advanceTimersByTimeAsync(0);
    expect(h.errors).toHaveLength(1);
    expect(h.autosave.state).toBe('failed');
    await vi.advanceTimersByTimeAsync(2999);
    expect(h.saves).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.saves).toHaveLength(2);
    expect(h.saves[1].text).toBe('keep me');
    h.pending.shift()!.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(h.autosave.state).toBe('saved');
    expect(h.states).toEqual(['dirty', 'saving', 'failed', 'saved']);
  });

  it('flush reports a failure instead of throwing', async () => {
    const h = harness({ manual: true });
    h.type('a');
    const flushed = h.autosave.flush();
    h.pending.shift()!.reject(new Error('locked'));
    expect(await flushed).toBe(false);
    expect(h.autosave.state).toBe('failed');
  });

  it('after dispose no timer fires, but a flush still saves', async () => {
    const h = harness();
    h.type('a');
    h.autosave.dispose();
    await vi.advanceTimersByTimeAsync(5000);
    expect(h.saves).toHaveLength(0);
    expect(await h.autosave.flush()).toBe(true);
    expect(h.saves).toHaveLength(1);
  });
});
