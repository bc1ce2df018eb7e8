// When the editor's text is written to the library. Typing is never lost: a save starts at most
// `idleMs` after the last change and never later than `maxWaitMs` after the first change no save has
// taken yet, so a writer who never pauses is still saved about once a second. Saves never overlap: one
// asked for while another is in flight waits for it, and each save reads the text when it starts, so
// the last one always carries the latest text.

export type SaveState = 'saved' | 'dirty' | 'saving' | 'failed';

export interface AutosaveOptions {
  /** Writes what is on screen now. It must read the text before its first `await`. */
  save: (reason: string) => Promise<unknown>;
  /** Quiet time after the last change before a save starts. */
  idleMs?: number;
  /** Longest a change waits for a save to start, however fast the typing. */
  maxWaitMs?: number;
  /** Wait before retrying a save that failed. */
  retryMs?: number;
  onstate?: (state: SaveState) => void;
  onerror?: (error: unknown) => void;
}

export interface Autosave {
  /** The text changed: schedules a save. */
  changed(): void;
  /** Saves now if anything is unsaved (or waits for the save in flight). Resolves to whether what was
   *  typed before the call reached the library; never rejects. */
  flush(): Promise<boolean>;
  /** Saves now even if nothing changed (e.g. a revision the writer asked for). */
  save(reason?: string): Promise<boolean>;
  readonly state: SaveState;
  /** Stops the timers; a save in flight (or one started by `flush`) still completes. */
  dispose(): void;
}

export const AUTOSAVE_IDLE_MS = 700;
// 200 ms under the promise of one second, so the save itself has time to reach the disk.
export const AUTOSAVE_MAX_WAIT_MS = 800;
export const AUTOSAVE_RETRY_MS = 3000;

export function createAutosave(options: AutosaveOptions): Autosave {
  const idleMs = options.idleMs ?? AUTOSAVE_IDLE_MS;
  const maxWaitMs = options.maxWaitMs ?? AUTOSAVE_MAX_WAIT_MS;
  const retryMs = options.retryMs ?? AUTOSAVE_RETRY_MS;

  let dirty = false;
  /** When the oldest change that no started save has read was made. */
  let firstUnsaved: number | null = null;
  let reason: string | null = null;
  let failed = false;
  let disposed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: Promise<boolean> | null = null;
  let queued: Promise<boolean> | null = null;
  let shown: SaveState = 'saved';

  const state = (): SaveState => (failed ? 'failed' : dirty ? 'dirty' : inFlight ? 'saving' : 'saved');

  function emit() {
    const next = state();
    if (next !== shown) {
      shown = next;
      options.onstate?.(next);
    }
  }

  function clearTimer() {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  }

  function schedule(at: number) {
    clearTimer();
    if (disposed) return;
    timer = setTimeout(() => {
      timer = undefined;
      void run();
    }, Math.max(0, at - Date.now()));
  }

  /** Starts a save now, or right after the one in flight; asking again while one waits joins it. */
  function run(): Promise<boolean> {
    clearTimer();
    if (queued) return queued;
    if (inFlight) {
      const waiting = inFlight.then(() => {
        queued = null;
        return start();
      });
      queued = waiting;
      return waiting;
    }
    return start();
  }

  function start(): Promise<boolean> {
    if (!dirty) return Promise.resolve(!failed);
    const why = reason ?? 'autosave';
    dirty = false;
    firstUnsaved = null;
    reason = null;
    const attempt = (async () => {
      try {
        await options.save(why);
        failed = false;
        return true;
      } catch (e) {
        failed = true;
        dirty = true;
        firstUnsaved ??= Date.now();
        reason ??= why;
        options.onerror?.(e);
        if (timer === undefined && !queued) schedule(Date.now() + retryMs);
        return false;
      }
    })();
    inFlight = attempt;
    emit();
    // Registered before anything can chain on `attempt`, so a queued save sees nothing in flight.
    void attempt.then(() => {
      if (inFlight === attempt) inFlight = null;
      emit();
    });
    return attempt;
  }

  return {
    changed() {
      const now = Date.now();
      dirty = true;
      firstUnsaved ??= now;
      schedule(Math.min(now + idleMs, firstUnsaved + maxWaitMs));
      emit();
    },
    flush() {
      if (dirty) return run();
      return queued ?? inFlight ?? Promise.resolve(!failed);
    },
    save(why = 'manual') {
      dirty = true;
      firstUnsaved ??= Date.now();
      reason = why;
      return run();
    },
    get state() {
      return state();
    },
    dispose() {
      disposed = true;
      clearTimer();
    },
  };
}
