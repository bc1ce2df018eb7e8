// The only module that talks to the Rust backend. Components import these functions, never `invoke`;
// they call the command wrappers generated from the Rust commands (bindings.ts).
import { Channel } from '@tauri-apps/api/core';
import { commands } from './bindings';
import type {
  ChatParams,
  CommandError,
  ContextFor,
  ContinuityParams,
  ContinuityReport,
  EntryKind,
  EntryPatch,
  NewEntry,
  DownloadEvent,
  DownloadState,
  FusionEvent,
  FusionParams,
  FusionResult,
  Format,
  GenerateParams,
  Generation,
  GenerationEvent,
  WriteParams,
  ModelRecord,
  ModelStatus,
  NewNode,
  NewPick,
  NewProject,
  NodePatch,
  PanelChoice,
  ProjectKind,
  ProjectPatch,
  ProviderInput,
  RunFilter,
  Value,
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

/** Runs a generated command wrapper, turning a rejection into an AtelierError. */
async function call<T>(command: Promise<T>): Promise<T> {
  try {
    return await command;
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
  return call(commands.cancel(id));
}

// --- the on-device model ------------------------------------------------------------------------

/** Calls `onStatus` now and whenever the on-device model changes state. */
export async function watchModelStatus(onStatus: (status: ModelStatus) => void): Promise<void> {
  const channel = new Channel<ModelStatus>();
  channel.onmessage = onStatus;
  await call(commands.watchModelStatus(channel));
}

/** Starts a reply from the on-device model; `onEvent` receives its text as it streams. */
export function generate(params: GenerateParams, onEvent: (event: GenerationEvent) => void): Running<Generation> {
  const id = newId('gen');
  const channel = new Channel<GenerationEvent>();
  channel.onmessage = onEvent;
  return { id, done: call(commands.generate(id, params, channel)) };
}

/** Runs a writing action (Continue, Rewrite…) on the writer's text; the backend builds the prompt. */
export function write(params: WriteParams, onEvent: (event: GenerationEvent) => void): Running<Generation> {
  const id = newId('write');
  const channel = new Channel<GenerationEvent>();
  channel.onmessage = onEvent;
  return { id, done: call(commands.write(id, params, channel)) };
}

/** Runs a recorded generation again: the same action, inputs, sampling and seed. */
export function rerun(runId: number, onEvent: (event: GenerationEvent) => void): Running<Generation> {
  const id = newId('rerun');
  const channel = new Channel<GenerationEvent>();
  channel.onmessage = onEvent;
  return { id, done: call(commands.rerun(id, runId, channel)) };
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
export const uiReady = () => call(commands.uiReady());
export const listModels = () => call(commands.listModels());
/** Imports a GGUF: a file dropped on the window (`path`), or — without one — a file the user picks in a
 * dialog the backend opens; `null` if they cancel. The backend accepts no other path. */
export const importModel = (path?: string) => call(commands.importModel(path ?? null));
export const setDefaultModel = (id: number) => call(commands.setDefaultModel(id));
export const loadModel = (id: number) => call(commands.loadModel(id));
export const deleteModel = (id: number, deleteFile: boolean) => call(commands.deleteModel(id, deleteFile));
export const deviceOptions = () => call(commands.deviceOptions());

export function downloadModel(url: string, sha256: string | null, onEvent: (e: DownloadEvent) => void): Running<ModelRecord> {
  const id = newId('dl');
  const channel = new Channel<DownloadEvent>();
  channel.onmessage = onEvent;
  return { id, done: call(commands.downloadModel(id, url, sha256, channel)) };
}

// --- the model catalog and its background downloads ---------------------------------------------

/** The catalog judged for this machine: what fits, what is installed, what the first run offers. */
export const modelCatalog = () => call(commands.modelCatalog());
/** Starts (or resumes) a catalog download in the background; `makeDefault`: load it once verified. */
export const startCatalogDownload = (entryId: string, makeDefault: boolean) => call(commands.startCatalogDownload(entryId, makeDefault));
/** Pauses it; what arrived stays for a resume. `false` if it was not running. */
export const pauseCatalogDownload = (entryId: string) => call(commands.pauseCatalogDownload(entryId));

/** Calls `onChange` with every catalog download now and whenever one changes. */
export async function watchDownloads(onChange: (downloads: DownloadState[]) => void): Promise<void> {
  const channel = new Channel<DownloadState[]>();
  channel.onmessage = onChange;
  await call(commands.watchDownloads(channel));
}

// --- documents and chats ------------------------------------------------------------------------

export const listDocuments = () => call(commands.listDocuments());
export const createDocument = (title: string, body = '') => call(commands.createDocument(title, body));
export const getDocument = (id: number) => call(commands.getDocument(id));
export const saveDocument = (id: number, title: string, body: string, reason = 'autosave') =>
  call(commands.saveDocument(id, title, body, reason));
export const deleteDocument = (id: number) => call(commands.deleteDocument(id));
export const restoreDocument = (id: number) => call(commands.restoreDocument(id));
export const listRevisions = (documentId: number) => call(commands.listRevisions(documentId));
export const restoreRevision = (revisionId: number) => call(commands.restoreRevision(revisionId));

export const listConversations = (documentId: number | null) => call(commands.listConversations(documentId));
export const createConversation = (documentId: number | null, title: string) =>
  call(commands.createConversation(documentId, title));
export const listMessages = (conversationId: number) => call(commands.listMessages(conversationId));
export const addMessage = (conversationId: number, role: string, content: string, runId: number | null = null) =>
  call(commands.addMessage(conversationId, role, content, runId));

// --- projects, the binder, export and import ---------------------------------------------------

export const listProjects = () => call(commands.listProjects());
export const createProject = (project: NewProject) => call(commands.createProject(project));
/** Omitted fields stay as they are; `word_goal: null` clears the goal. */
export const updateProject = (id: number, patch: ProjectPatch) => call(commands.updateProject(id, patch));
/** Moves the project and its scenes to the trash; `restoreProject` is the undo. */
export const deleteProject = (id: number) => call(commands.deleteProject(id));
export const restoreProject = (id: number) => call(commands.restoreProject(id));
/** The project and its binder, depth-first (parents before children, siblings in order), no text. */
export const projectTree = (id: number) => call(commands.projectTree(id));
/** The last `days` days that saw writing, oldest first. */
export const projectProgress = (id: number, days: number | null = 30) => call(commands.projectProgress(id, days));
export const addNode = (node: NewNode) => call(commands.addNode(node));
/** Omitted fields stay as they are; `target_words: null` clears the target. */
export const updateNode = (id: number, patch: NodePatch) => call(commands.updateNode(id, patch));
/** Moves (or reorders) an item under `parentId` (`null`: the top level) at `index` among its new
 *  siblings, counted without it. The backend refuses what cannot nest there. */
export const moveNode = (id: number, parentId: number | null, index: number) => call(commands.moveNode(id, parentId, index));
/** Moves an item and what is under it to the trash; `restoreNode` within the undo window puts it back. */
export const deleteNode = (id: number) => call(commands.deleteNode(id));
export const restoreNode = (id: number) => call(commands.restoreNode(id));
/** The scenes under a chapter or part in reading order, each with its text. */
export const chapterScenes = (id: number) => call(commands.chapterScenes(id));
/** Exports the project (or the part or chapter `nodeId`) to a file picked in the backend's save
 *  dialog; the path, or `null` if cancelled. */
export const exportProject = (projectId: number, nodeId: number | null, format: Format) =>
  call(commands.exportProject(projectId, nodeId, format));
/** Reads a manuscript into a preview: a file dropped on the window (`path`), or — without one — a file
 *  picked in the backend's open dialog; `null` if cancelled. Nothing is written until accepted. */
export const importManuscript = (path: string | null = null) => call(commands.importManuscript(path));
/** Creates the project a preview showed (with the title and kind the writer chose). */
export const acceptImport = (token: string, title: string | null = null, kind: ProjectKind | null = null) =>
  call(commands.acceptImport(token, title, kind));
/** A revision beside the scene's text now: rows of the two columns. */
export const revisionDiff = (revisionId: number) => call(commands.revisionDiff(revisionId));

// --- history ------------------------------------------------------------------------------------

export const listRuns = (filter: RunFilter = {}, limit = 50, offset = 0) => call(commands.listRuns(filter, limit, offset));
export const getRun = (id: number) => call(commands.getRun(id));
export const deleteRun = (id: number) => call(commands.deleteRun(id));
export const search = (query: string, limit = 30, offset = 0) => call(commands.search(query, limit, offset));
export const exportText = (what: string, id: number, format: 'md' | 'json') => call(commands.exportText(what, id, format));
/** Saves an export where the user chooses in the backend's save dialog; the path, or `null` if cancelled. */
export const exportToFile = (what: string, id: number, format: 'md' | 'json') =>
  call(commands.exportToFile(what, id, format));
export const backupLibrary = () => call(commands.backupLibrary());

// --- providers, keys, fusion --------------------------------------------------------------------

export const listProviders = () => call(commands.listProviders());
export const saveProvider = (provider: ProviderInput) => call(commands.saveProvider(provider));
export const deleteProvider = (id: string) => call(commands.deleteProvider(id));
/** Sends the key to the OS keychain. Nothing ever reads it back into the UI. */
export const setKey = (provider: string, key: string) => call(commands.setKey(provider, key));
export const deleteKey = (provider: string) => call(commands.deleteKey(provider));
export const keyStatus = (provider: string) => call(commands.keyStatus(provider));
export const testProvider = (provider: string, model: string) => call(commands.testProvider(provider, model));
export const fetchPrices = (provider: string) => call(commands.fetchPrices(provider));
export const estimateFusion = (params: FusionParams) => call(commands.estimateFusion(params));
/** The panel the writer last set up (members, judge, mode, self-fusion samples and personas). */
export const panelChoice = () => call(commands.panelChoice());
export const savePanelChoice = (choice: PanelChoice) => call(commands.savePanelChoice(choice));

export function runFusion(params: FusionParams, onEvent: (e: FusionEvent) => void): Running<FusionResult> {
  const id = newId('fusion');
  const channel = new Channel<FusionEvent>();
  channel.onmessage = onEvent;
  return { id, done: call(commands.runFusion(id, params, channel)) };
}

// --- privacy and settings -----------------------------------------------------------------------

export const privacyStatus = () => call(commands.privacyStatus());
export const setOffline = (offline: boolean) => call(commands.setOffline(offline));
export const ledger = (limit = 100, offset = 0) => call(commands.ledger(limit, offset));
export const ledgerTotals = (since: number | null = null) => call(commands.ledgerTotals(since));
export const getSettings = () => call(commands.getSettings());
export const setSetting = (key: string, value: Value) => call(commands.setSetting(key, value));

// --- the author's taste -------------------------------------------------------------------------

export const recordPick = (pick: NewPick) => call(commands.recordPick(pick));
export const tasteLeaderboard = (projectId: number | null) => call(commands.tasteLeaderboard(projectId));

// --- the story bible, context and continuity ----------------------------------------------------

export const listBible = (projectId: number) => call(commands.listBible(projectId));
export const createBibleEntry = (entry: NewEntry) => call(commands.createBibleEntry(entry));
export const updateBibleEntry = (id: number, patch: EntryPatch) => call(commands.updateBibleEntry(id, patch));
export const deleteBibleEntry = (id: number) => call(commands.deleteBibleEntry(id));
export const restoreBibleEntry = (id: number) => call(commands.restoreBibleEntry(id));
/** A new entry's form, filled from the selected text by the backend. */
export const draftBibleEntry = (projectId: number, selection: string, kind: EntryKind | null = null) => call(commands.draftBibleEntry(projectId, selection, kind));
/** The bible's names in `text`, UTF-16 offsets (what CodeMirror counts in). */
export const findMentions = (projectId: number, text: string) => call(commands.findMentions(projectId, text));
export const entryScenes = (projectId: number, entryId: number) => call(commands.entryScenes(projectId, entryId));
/** What the model will read for a writing action or chat turn, item by item with token counts. */
export const previewContext = (target: ContextFor) => call(commands.previewContext(target));
/** Computes that run into the model's cache ahead of the click; `null` where nothing was done. */
export const prepareContext = (target: ContextFor) => call(commands.prepareContext(target));
export const previewFusionContext = (params: FusionParams) => call(commands.previewFusionContext(params));

/** A chat turn about the open scene; the backend assembles its context (bible, scene text, selection). */
export function chat(params: ChatParams, onEvent: (event: GenerationEvent) => void): Running<Generation> {
  const id = newId('chat');
  const channel = new Channel<GenerationEvent>();
  channel.onmessage = onEvent;
  return { id, done: call(commands.chat(id, params, channel)) };
}

/** Checks a scene against the bible and earlier synopses (on-device, or a panel when members are given). */
export function checkContinuity(
  params: ContinuityParams,
  onEvent: (event: GenerationEvent) => void = () => {},
  onFusion: (event: FusionEvent) => void = () => {},
): Running<ContinuityReport> {
  const id = newId('continuity');
  const channel = new Channel<GenerationEvent>();
  channel.onmessage = onEvent;
  const fusion = new Channel<FusionEvent>();
  fusion.onmessage = onFusion;
  return { id, done: call(commands.checkContinuity(id, params, channel, fusion)) };
}
