// The only module that talks to the Rust backend. Components import these functions, never `invoke`.
import { Channel, invoke } from '@tauri-apps/api/core';
import type { CommandError, GenerateParams, Generation, GenerationEvent, ModelStatus } from './types';

/** An error from the backend, with a machine-readable kind and a message meant for the user. */
export class AtelierError extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
    this.name = 'AtelierError';
  }
}

export function toAtelierError(raw: unknown): AtelierError {
  if (raw instanceof AtelierError) return raw;
  if (raw && typeof raw === 'object' && 'message' in raw) {
    const e = raw as Partial<CommandError>;
    return new AtelierError(e.kind ?? 'unknown', String(e.message));
  }
  return new AtelierError('unknown', typeof raw === 'string' ? raw : 'Something went wrong in the backend.');
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (raw) {
    throw toAtelierError(raw);
  }
}

/** Calls `onStatus` now and whenever the on-device model changes state. */
export async function watchModelStatus(onStatus: (status: ModelStatus) => void): Promise<void> {
  const channel = new Channel<ModelStatus>();
  channel.onmessage = onStatus;
  await call<void>('watch_model_status', { onStatus: channel });
}

let nextId = 0;

export interface RunningGeneration {
  id: string;
  /** Resolves with the whole reply once generation ends (also when stopped). */
  done: Promise<Generation>;
}

/** Starts a reply from the on-device model; `onEvent` receives its text as it streams. */
export function generate(params: GenerateParams, onEvent: (event: GenerationEvent) => void): RunningGeneration {
  const id = `gen-${Date.now().toString(36)}-${(nextId++).toString(36)}`;
  const channel = new Channel<GenerationEvent>();
  channel.onmessage = onEvent;
  const done = call<Generation>('generate', { id, params, onEvent: channel });
  return { id, done };
}

/** Stops a running generation; what was generated so far is kept. */
export function cancel(id: string): Promise<void> {
  return call<void>('cancel', { id });
}
