// The only module that talks to the Rust backend. Components import these functions, never `invoke`.
import { Channel, invoke } from '@tauri-apps/api/core';
import type {
  CommandError,
  Conversation,
  CostEstimate,
  DeviceOptions,
  Document,
  DocumentSummary,
  DownloadEvent,
  FusionEvent,
  FusionParams,
  FusionResult,
  GenerateParams,
  Generation,
  GenerationEvent,
  WriteParams,
  LedgerEntry,
  LedgerTotals,
  Message,
  ModelRecord,
  ModelStatus,
  PrivacyStatus,
  ProviderInput,
  ProviderRecord,
  ProvidersView,
  Revision,
  Run,
  RunFilter,
  RunWithMembers,
  SearchHit,
  Settings,
} from './types';

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

let nextId = 0;
function newId(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${(nextId++).toString(36)}`;
}

export interface Running<T> {
  id: string;
  /** Resolves when the operation ends (also when stopped). */
  done: Promise<T>;
}

/** Stops a running generation, fusion or download; what arrived so far is kept. */
export function cancel(id: string): Promise<boolean> {
  return call<boolean>('cancel', { id });
}

// --- the on-device model ------------------------------------------------------------------------

/** Calls `onStatus` now and whenever the on-device model changes state. */
export async function watchModelStatus(onStatus: (status: ModelStatus) => void): Promise<void> {
  const channel = new Channel<ModelStatus>();
  channel.onmessage = onStatus;
  await call<void>('watch_model_status', { onStatus: channel });
}

/** Starts a reply from the on-device model; `onEvent` receives its text as it streams. */
export function generate(params: GenerateParams, onEvent: (event: GenerationEvent) => void): Running<Generation> {
  const id = newId('gen');
  const channel = new Channel<GenerationEvent>();
  channel.onmessage = onEvent;
  return { id, done: call<Generation>('generate', { id, params, onEvent: channel }) };
}

/** Runs a writing action (Continue, Rewrite…) on the writer's text; the backend builds the prompt. */
export function write(params: WriteParams, onEvent: (event: GenerationEvent) => void): Running<Generation> {
  const id = newId('write');
  const channel = new Channel<GenerationEvent>();
  channel.onmessage = onEvent;
  return { id, done: call<Generation>('write', { id, params, onEvent: channel }) };
}

/** Runs a recorded generation again: the same action, inputs, sampling and seed. */
export function rerun(runId: number, onEvent: (event: GenerationEvent) => void): Running<Generation> {
  const id = newId('rerun');
  const channel = new Channel<GenerationEvent>();
  channel.onmessage = onEvent;
  return { id, done: call<Generation>('rerun', { id, runId, onEvent: channel }) };
}

/** Files dragged over the window (`hover`) and dropped on it (`drop`, their paths). Returns the
 * unsubscribe function; outside the real app (page tests) nothing is ever dropped. */
export async function onFileDrop(handlers: { hover: (over: boolean) => void; drop: (paths: string[]) => void }): Promise<() => void> {
  try {
    const { getCurrentWebview } = await import('@tauri-apps/api/webview');
    return await getCurrentWebview().onDragDropEvent((event) => {
      const payload = event.payload;
      if (payload.type === 'enter' || payload.type === 'over') handlers.hover(true);
      else if (payload.type === 'leave') handlers.hover(false);
      else if (payload.type === 'drop') {
        handlers.hover(false);
        handlers.drop(payload.paths);
      }
    });
  } catch {
    return () => {};
  }
}

/** Tells the backend the first screen is up (it logs the cold-start time); returns ms since launch. */
export const uiReady = () => call<number>('ui_ready');
export const listModels = () => call<ModelRecord[]>('list_models');
/** Imports a GGUF: a file dropped on the window (`path`), or — without one — a file the user picks in a
 * dialog the backend opens; `null` if they cancel. The backend accepts no other path. */
export const importModel = (path?: string) => call<ModelRecord | null>('import_model', { path: path ?? null });
export const setDefaultModel = (id: number) => call<void>('set_default_model', { id });
export const loadModel = (id: number) => call<void>('load_model', { id });
export const deleteModel = (id: number, deleteFile: boolean) => call<void>('delete_model', { id, deleteFile });
export const deviceOptions = () => call<DeviceOptions>('device_options');

export function downloadModel(url: string, sha256: string | null, onEvent: (e: DownloadEvent) => void): Running<ModelRecord> {
  const id = newId('dl');
  const channel = new Channel<DownloadEvent>();
  channel.onmessage = onEvent;
  return { id, done: call<ModelRecord>('download_model', { id, url, sha256, onEvent: channel }) };
}

// --- documents and chats ------------------------------------------------------------------------

export const listDocuments = () => call<DocumentSummary[]>('list_documents');
export const createDocument = (title: string, body = '') => call<Document>('create_document', { title, body });
export const getDocument = (id: number) => call<Document>('get_document', { id });
export const saveDocument = (id: number, title: string, body: string, reason = 'autosave') =>
  call<Document>('save_document', { id, title, body, reason });
export const deleteDocument = (id: number) => call<void>('delete_document', { id });
export const restoreDocument = (id: number) => call<Document>('restore_document', { id });
export const listRevisions = (documentId: number) => call<Revision[]>('list_revisions', { documentId });
export const restoreRevision = (revisionId: number) => call<Document>('restore_revision', { revisionId });

export const listConversations = (documentId: number | null) => call<Conversation[]>('list_conversations', { documentId });
export const createConversation = (documentId: number | null, title: string) =>
  call<Conversation>('create_conversation', { documentId, title });
export const listMessages = (conversationId: number) => call<Message[]>('list_messages', { conversationId });
export const addMessage = (conversationId: number, role: string, content: string, runId: number | null = null) =>
  call<Message>('add_message', { conversationId, role, content, runId });

// --- history ------------------------------------------------------------------------------------

export const listRuns = (filter: RunFilter = {}, limit = 50, offset = 0) => call<Run[]>('list_runs', { filter, limit, offset });
export const getRun = (id: number) => call<RunWithMembers>('get_run', { id });
export const deleteRun = (id: number) => call<void>('delete_run', { id });
export const search = (query: string, limit = 30, offset = 0) => call<SearchHit[]>('search', { query, limit, offset });
export const exportText = (what: string, id: number, format: 'md' | 'json') => call<string>('export_text', { what, id, format });
/** Saves an export where the user chooses in the backend's save dialog; the path, or `null` if cancelled. */
export const exportToFile = (what: string, id: number, format: 'md' | 'json') =>
  call<string | null>('export_to_file', { what, id, format });
export const backupLibrary = () => call<string | null>('backup_library');

// --- providers, keys, fusion --------------------------------------------------------------------

export const listProviders = () => call<ProvidersView>('list_providers');
export const saveProvider = (provider: ProviderInput) => call<ProviderRecord>('save_provider', { provider });
export const deleteProvider = (id: string) => call<void>('delete_provider', { id });
/** Sends the key to the OS keychain. Nothing ever reads it back into the UI. */
export const setKey = (provider: string, key: string) => call<boolean>('set_key', { provider, key });
export const deleteKey = (provider: string) => call<boolean>('delete_key', { provider });
export const keyStatus = (provider: string) => call<boolean>('key_status', { provider });
export const testProvider = (provider: string, model: string) => call<string>('test_provider', { provider, model });
export const fetchPrices = (provider: string) => call<number>('fetch_prices', { provider });
export const estimateFusion = (params: FusionParams) => call<CostEstimate>('estimate_fusion', { params });

export function runFusion(params: FusionParams, onEvent: (e: FusionEvent) => void): Running<FusionResult> {
  const id = newId('fusion');
  const channel = new Channel<FusionEvent>();
  channel.onmessage = onEvent;
  return { id, done: call<FusionResult>('run_fusion', { id, params, onEvent: channel }) };
}

// --- privacy and settings -----------------------------------------------------------------------

export const privacyStatus = () => call<PrivacyStatus>('privacy_status');
export const setOffline = (offline: boolean) => call<PrivacyStatus>('set_offline', { offline });
export const ledger = (limit = 100, offset = 0) => call<LedgerEntry[]>('ledger', { limit, offset });
export const ledgerTotals = (since: number | null = null) => call<LedgerTotals>('ledger_totals', { since });
export const getSettings = () => call<Settings>('get_settings');
export const setSetting = (key: string, value: unknown) => call<void>('set_setting', { key, value });
