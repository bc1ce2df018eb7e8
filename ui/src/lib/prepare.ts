// Reading ahead: while the writer pauses on a selection or a half-typed question, the backend computes
// the run they are setting up into the model's cache, so that pressing the button only computes what
// changed since. Each new target replaces the last; the backend stops a preparation the moment a real
// run starts, so asking costs the writer nothing.

import type { ContextFor, Prepared } from './types';

export interface Preparer {
  /** The run the writer is setting up now (`null`: none, e.g. a run is in progress). */
  schedule(target: ContextFor | null): void;
  /** Forgets a pending ask (the panel closes, a run starts). */
  cancel(): void;
}

export interface PreparerOptions {
  prepare: (target: ContextFor) => Promise<Prepared | null>;
  /** Quiet time after the last change before the backend is asked. */
  delayMs?: number;
  /** Told what the model read ahead, once it has (not for a preparation a run stopped). */
  onprepared?: (prepared: Prepared, target: ContextFor) => void;
}

export const PREPARE_DELAY_MS = 500;

export function createPreparer({ prepare, delayMs = PREPARE_DELAY_MS, onprepared }: PreparerOptions): Preparer {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lastAsked = '';
  // Bumped whenever the target changes: a reply reports only if nothing newer was set up since it was
  // asked (an older target's preparation finishing late says nothing about the current one).
  let asks = 0;
  return {
    schedule(target) {
      const key = target ? JSON.stringify(target) : '';
      if (target && key === lastAsked) return;
      clearTimeout(timer);
      asks++;
      if (!target) return;
      timer = setTimeout(async () => {
        lastAsked = key;
        const ask = ++asks;
        try {
          const prepared = await prepare(target);
          if (ask !== asks) return;
          if (!prepared || prepared.cancelled) {
            // Not done: the same target may be asked again.
            lastAsked = '';
            return;
          }
          onprepared?.(prepared, target);
        } catch {
          // Only a head start: the run itself reports any problem with its request.
          if (ask === asks) lastAsked = '';
        }
      }, delayMs);
    },
    cancel() {
      clearTimeout(timer);
      asks++;
      lastAsked = '';
    },
  };
}
