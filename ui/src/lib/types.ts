// The types that cross IPC are generated from the Rust ones (bindings.ts, checked in CI); this module
// re-exports them under the names the UI uses, and adds the few that exist only here.
import type { ChatMessage, DownloadProgress, Value } from './bindings';

export type * from './bindings';

export type ChatTurn = ChatMessage;
export type DownloadEvent = DownloadProgress;
export type Settings = { [key: string]: Value };

// TEMPORARY: the catalog's types, as the lead specified them, until bindings.ts is regenerated (the
// generated ones then replace these; a local export shadows the `export type *` above).
import type { ModelRecord } from './bindings';
export type ModelShape = { weight_bytes: number; layers: number; kv_heads: number; head_dim: number; rope_dim: number; train_context: number };
export type CatalogEntry = { id: string; family: string; name: string; quantization: string; publisher: string; licence: string; summary: string; parameters: number; context_length: number; size_bytes: number; url: string; page: string; sha256?: string | null; builtin?: boolean; first_run?: boolean; shape: ModelShape };
export type MemoryEstimate = { context_length: number; weights: number; kv_cache: number; rope_tables: number; working: number; total: number };
export type FitVerdict = 'runs_well' | 'tight' | 'too_big';
export type Fit = { verdict: FitVerdict; reason: string; runs_on: string; free_disk: number | null; disk_ok: boolean };
export type Cpu = { name: string | null; threads: number; kernels: string; features: string[] };
export type Gpu = { backend: string; name: string; memory: number | null };
export type Npu = { present: boolean; name: string | null; used: boolean; note: string };
export type Machine = { os: string; cpu: Cpu; total_memory: number | null; available_memory: number | null; gpus: Gpu[]; gpu_note: string | null; npu: Npu };
export type CatalogItem = { entry: CatalogEntry; estimate: MemoryEstimate; fit: Fit; recommended: boolean; installed: ModelRecord | null };
export type CatalogView = { version: number; machine: Machine; items: CatalogItem[]; first_run: string | null; download_speed: number | null };
export type DownloadStatus = 'receiving' | 'verifying' | 'paused' | 'failed' | 'done';
export type DownloadState = { entry_id: string; name: string; status: DownloadStatus; downloaded: number; total: number | null; bytes_per_second: number | null; eta_seconds: number | null; message: string | null; model_id: number | null; make_default: boolean };
