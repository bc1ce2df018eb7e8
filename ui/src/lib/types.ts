// Mirrors of the Rust types that cross the IPC boundary (src-tauri/src/lib.rs, crates/engine).

export interface ModelInfo {
  path: string;
  name: string;
  architecture: string;
  quantization: string;
  file_size: number;
  parameters: number;
  context_length: number;
}

export type ModelState = 'loading' | 'ready' | 'error';

export interface ModelStatus {
  state: ModelState;
  info: ModelInfo | null;
  device: string | null;
  error: string | null;
}

export interface Timings {
  prompt_tokens_processed: number;
  prompt_ms: number;
  prompt_tokens_per_second: number;
  time_to_first_token_ms: number;
  decode_ms: number;
  decode_tokens_per_second: number;
  total_ms: number;
}

export type StopReason = 'end_of_turn' | 'stop_string' | 'max_tokens' | 'context_full' | 'cancelled';

export interface Generation {
  text: string;
  prompt_tokens: number;
  completion_tokens: number;
  stop_reason: StopReason;
  timings: Timings;
}

export interface GenerateParams {
  prompt: string;
  system?: string;
  max_tokens?: number;
  temperature?: number;
  seed?: number;
}

/** What the backend streams while a reply is generated. */
export type GenerationEvent =
  | { event: 'started'; data: { prompt_tokens: number } }
  | { event: 'text'; data: { text: string; completion_tokens: number; tokens_per_second: number; time_to_first_token_ms: number } }
  | { event: 'finished'; data: Generation };

export interface CommandError {
  kind: string;
  message: string;
}
