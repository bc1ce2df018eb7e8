// A scripted stand-in for the Rust backend, built on @tauri-apps/api/mocks. Used by the Vitest unit
// tests and, bundled, by the Playwright page tests. The real backend is exercised by the e2e tests.
import { mockIPC, mockWindows } from '@tauri-apps/api/mocks';
import type { Generation, GenerationEvent, ModelStatus } from '../src/lib/types';

export interface MockOptions {
  /** Words the fake model streams back. */
  reply?: string[];
  /** Milliseconds between streamed words. */
  delayMs?: number;
  /** Milliseconds the fake model takes to "load". */
  loadMs?: number;
  /** Make every command fail with this error. */
  failWith?: { kind: string; message: string };
}

interface ChannelLike {
  id: number;
}

export interface MockBackend {
  calls: { cmd: string; args: Record<string, unknown> }[];
}

export const READY: ModelStatus = {
  state: 'ready',
  info: {
    path: '/models/SmolLM2-135M-Instruct.Q4_1.gguf',
    name: 'SmolLM2-135M-Instruct',
    architecture: 'llama',
    quantization: 'Q4_1',
    file_size: 98_362_432,
    parameters: 134_515_008,
    context_length: 8192,
  },
  device: 'CPU (2 threads)',
  error: null,
};

function sendTo(channel: ChannelLike, index: number, message: unknown) {
  const internals = (window as unknown as { __TAURI_INTERNALS__: { runCallback: (id: number, data: unknown) => void } })
    .__TAURI_INTERNALS__;
  internals.runCallback(channel.id, { index, message });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function installMockBackend(options: MockOptions = {}): MockBackend {
  const reply = options.reply ?? ['Once', ' upon', ' a', ' time', ',', ' a', ' lighthouse', ' keeper', ' wrote', '.'];
  const delayMs = options.delayMs ?? 20;
  const cancelled = new Set<string>();
  const backend: MockBackend = { calls: [] };
  mockWindows('main');
  mockIPC(async (cmd, payload) => {
    const args = (payload ?? {}) as Record<string, unknown>;
    backend.calls.push({ cmd, args });
    if (options.failWith) throw options.failWith;
    switch (cmd) {
      case 'watch_model_status': {
        const channel = args.onStatus as ChannelLike;
        sendTo(channel, 0, { ...READY, state: 'loading', info: null, device: null });
        setTimeout(() => sendTo(channel, 1, READY), options.loadMs ?? 10);
        return null;
      }
      case 'generate': {
        const channel = args.onEvent as ChannelLike;
        const id = args.id as string;
        let index = 0;
        const send = (event: GenerationEvent) => sendTo(channel, index++, event);
        send({ event: 'started', data: { prompt_tokens: 12 } });
        let text = '';
        let tokens = 0;
        for (const word of reply) {
          await sleep(delayMs);
          if (cancelled.has(id)) break;
          text += word;
          tokens += 1;
          send({ event: 'text', data: { text: word, completion_tokens: tokens, tokens_per_second: 42.5, time_to_first_token_ms: 35 } });
        }
        const generation: Generation = {
          text,
          prompt_tokens: 12,
          completion_tokens: tokens,
          stop_reason: cancelled.has(id) ? 'cancelled' : 'end_of_turn',
          timings: {
            prompt_tokens_processed: 12,
            prompt_ms: 30,
            prompt_tokens_per_second: 400,
            time_to_first_token_ms: 35,
            decode_ms: tokens * delayMs,
            decode_tokens_per_second: 42.5,
            total_ms: 35 + tokens * delayMs,
          },
        };
        send({ event: 'finished', data: generation });
        return generation;
      }
      case 'cancel':
        cancelled.add(args.id as string);
        return null;
      default:
        throw { kind: 'unknown_command', message: `no mock for ${cmd}` };
    }
  });
  return backend;
}
