// Mirrors of the Rust types that cross the IPC boundary (src-tauri/src, crates/*).

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
  backend?: string | null;
  error: string | null;
  load_ms?: number | null;
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

export interface ChatTurn {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface GenerateParams {
  prompt: string;
  system?: string;
  history?: ChatTurn[];
  document_id?: number | null;
  action?: string;
  max_tokens?: number;
  temperature?: number;
  seed?: number;
}

export type WritingAction = 'continue' | 'rewrite' | 'shorten' | 'expand' | 'brainstorm' | 'critique' | 'custom';
export type Tone = 'plainer' | 'vivid' | 'formal' | 'playful';

/** A writing action and its inputs; the backend builds the prompt. */
export interface WriteParams {
  action: WritingAction;
  tone?: Tone | null;
  instruction?: string | null;
  selection: string;
  before: string;
  document: string;
  document_id: number | null;
  seed?: number | null;
}

/** What the backend streams while a reply is generated. */
export type GenerationEvent =
  | { event: 'started'; data: { run_id: number | null } }
  | { event: 'text'; data: { text: string; completion_tokens: number; tokens_per_second: number; time_to_first_token_ms: number } }
  | { event: 'finished'; data: Generation };

export interface CommandError {
  kind: string;
  message: string;
}

export interface Document {
  id: number;
  title: string;
  body: string;
  created_at: number;
  updated_at: number;
}

export interface DocumentSummary {
  id: number;
  title: string;
  updated_at: number;
  words: number;
  preview: string;
}

export interface Revision {
  id: number;
  document_id: number;
  title: string;
  body: string;
  reason: string;
  created_at: number;
}

export interface Conversation {
  id: number;
  document_id: number | null;
  title: string;
  created_at: number;
  updated_at: number;
}

export interface Message {
  id: number;
  conversation_id: number;
  role: 'system' | 'user' | 'assistant';
  content: string;
  run_id: number | null;
  created_at: number;
}

export type RunStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted';

export interface Run {
  id: number;
  kind: 'generate' | 'fusion';
  document_id: number | null;
  action: string | null;
  prompt: string;
  mode: string | null;
  judge: string | null;
  seed: number | null;
  status: RunStatus;
  final_text: string | null;
  analysis: string | null;
  error: string | null;
  settings: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
  started_at: number;
  finished_at: number | null;
}

export interface RunMember {
  id: number;
  run_id: number;
  position: number;
  label: string;
  role: 'member' | 'judge';
  round: number;
  provider: string;
  model: string;
  output: string;
  status: RunStatus;
  error: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  cost_usd: number | null;
  latency_ms: number | null;
  first_token_ms: number | null;
}

export interface RunWithMembers extends Run {
  members: RunMember[];
}

export interface RunFilter {
  document_id?: number | null;
  kind?: string | null;
  mode?: string | null;
  model?: string | null;
  since?: number | null;
  until?: number | null;
}

export interface SearchHit {
  kind: 'document' | 'message' | 'run' | 'run_output';
  id: number;
  open_id: number;
  title: string;
  snippet: string;
  at: number;
  rank: number;
}

export interface ModelRecord {
  id: number;
  path: string;
  name: string;
  architecture: string;
  quantization: string;
  size_bytes: number;
  parameters: number;
  sha256: string | null;
  source_url: string | null;
  is_default: boolean;
  added_at: number;
  loaded: boolean;
  missing: boolean;
}

export interface DeviceOption {
  id: string;
  label: string;
  available: boolean;
  note: string | null;
}

export interface DeviceOptions {
  devices: DeviceOption[];
  cpu_threads: number;
  cpu_kernels: string;
}

export type DownloadEvent =
  | { event: 'receiving'; data: { downloaded: number; total: number | null; bytes_per_second: number; eta_seconds: number | null } }
  | { event: 'verifying'; data?: null };

export interface ProviderModel {
  id: string;
  input_per_mtok?: number | null;
  output_per_mtok?: number | null;
}

export interface ProviderRecord {
  id: string;
  name: string;
  kind: string;
  base_url: string;
  models: ProviderModel[];
  enabled: boolean;
  created_at: number;
  updated_at: number;
  key_set: boolean;
  requires_key: boolean;
  /** `https://api.openai.com:443`: the address a key is bound to (a key never goes anywhere else). */
  origin: string | null;
}

export interface ProviderPreset {
  id: string;
  name: string | null;
  base_url: string;
  requires_key: boolean;
}

export interface ProvidersView {
  providers: ProviderRecord[];
  presets: ProviderPreset[];
}

export interface ProviderInput {
  id: string;
  name: string;
  base_url: string;
  models: ProviderModel[];
  enabled: boolean;
}

export interface CostEstimate {
  total_usd: number;
  per_member_usd: number[];
  judge_usd: number;
  unpriced: string[];
}

export interface FusionParams {
  prompt: string;
  document_id?: number | null;
  members: string[];
  judge?: string | null;
  mode: string;
  rounds?: number | null;
  budget_usd?: number | null;
  max_tokens?: number | null;
  self_fusion?: number | null;
  seed?: number | null;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number | null;
}

export interface Insight {
  response: string;
  insight: string;
}

export interface Verdict {
  consensus: string[];
  contradictions: string[];
  unique_insights: Insight[];
  blind_spots: string[];
  scores: Record<string, number>;
  best: string | null;
  minority_report: string | null;
}

export interface MemberInfo {
  index: number;
  provider: string;
  model: string;
  cloud: boolean;
}

export type FusionEvent =
  | { type: 'run_started'; mode: string; rounds: number; members: MemberInfo[]; judge: MemberInfo; estimate: CostEstimate; seed: number }
  | { type: 'member_started'; member: number; round: number }
  | { type: 'member_delta'; member: number; round: number; text: string }
  | { type: 'member_retrying'; member: number; round: number; attempt: number; delay_ms: number; reason: string }
  | { type: 'member_finished'; member: number; round: number; usage: Usage; latency_ms: number; first_token_ms: number | null }
  | { type: 'member_failed'; member: number; round: number; kind: string; error: string; tokens: number }
  | { type: 'judge_started'; pass: number; order: number[] }
  | { type: 'judge_delta'; pass: number; text: string }
  | { type: 'judge_failed'; pass: number; error: string }
  | { type: 'analysis'; verdict: Verdict }
  | { type: 'final'; text: string; source: string }
  | { type: 'usage'; prompt_tokens: number; completion_tokens: number; cost_usd: number }
  | { type: 'finished'; status: string; error: string | null };

export interface MemberOutcome {
  index: number;
  round: number;
  provider: string;
  model: string;
  text: string;
  usage: Usage;
  latency_ms: number;
  first_token_ms: number | null;
  attempts: number;
  error: string | null;
  error_kind: string | null;
}

export interface FusionResult {
  run_id: number;
  status: 'completed' | 'judge_failed' | 'failed' | 'cancelled';
  error: string | null;
  final_text: string | null;
  final_source: string | null;
  verdict: Verdict | null;
  members: MemberOutcome[];
  judge_passes: MemberOutcome[];
  cost_usd: number;
  prompt_tokens: number;
  completion_tokens: number;
  judges_disagreed: boolean;
  tie: boolean;
}

export interface PrivacyStatus {
  offline: boolean;
  cloud_models: number;
  cloud_providers: string[];
}

export interface LedgerEntry {
  id: number;
  at: number;
  provider: string;
  model: string;
  endpoint: string;
  run_id: number | null;
  bytes_sent: number;
  bytes_received: number;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  cost_usd: number | null;
  status: string;
}

export interface LedgerTotals {
  requests: number;
  bytes_sent: number;
  bytes_received: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
}

export type Settings = Record<string, unknown>;
