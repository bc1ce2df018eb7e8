// A scripted, in-memory stand-in for the Rust backend, built on @tauri-apps/api/mocks. Used by the Vitest
// unit tests and, bundled, by the Playwright page tests. The real backend is covered by the Rust tests and
// the real-app end-to-end tests.
import { mockIPC, mockWindows } from '@tauri-apps/api/mocks';
import type {
  BibleEntry,
  Document,
  FusionEvent,
  FusionParams,
  NewPick,
  PanelChoice,
  Suggestion,
  Generation,
  GenerationEvent,
  LedgerEntry,
  Message,
  ModelRecord,
  ModelStatus,
  ProviderView,
  Revision,
  RunMember,
  RunWithMembers,
  WriteParams,
} from '../src/lib/types';
import { createManuscriptMock, NOT_MINE, wordCount } from './mock-manuscript';
import { createStoryMock } from './mock-story';
import { createContextMock } from './mock-context';
import { createCatalogMock } from './mock-catalog';

/** `https://api.openai.com:443`, as the Rust side spells an origin. */
function originOf(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.hostname}:${u.port || (u.protocol === 'https:' ? '443' : '80')}`;
}

const keyAccount = (p: { id: string; base_url: string }) => `${p.id}@${originOf(p.base_url)}`;

export interface MockOptions {
  /** Words the fake model streams back. */
  reply?: string[];
  /** Milliseconds between streamed words. */
  delayMs?: number;
  /** Milliseconds the fake model takes to "load". */
  loadMs?: number;
  /** Make every command fail with this error. */
  failWith?: { kind: string; message: string };
  /** Start with this library: nothing (the first run); two documents in the default project "My
   *  writing" and a provider (`demo`, the default); or that and a novel in progress (`novel`). */
  seed?: 'empty' | 'demo' | 'novel';
  /** What the file dialog the backend opens returns (`null`: the user cancels; unset: model dialogs
   *  cancel, manuscript dialogs pick a plausible file). */
  dialogPath?: string | null;
  /** Milliseconds a document save takes (a slow disk). */
  saveDelayMs?: number;
  /** The first-run screen was done (the default, so other specs never see it); `false`: a first
   *  launch, whose choice is kept in sessionStorage so that it survives a reload. */
  onboarded?: boolean;
  /** The machine the catalog is judged for: an 8 GB laptop (the default) or 2 GB, where nothing fits. */
  machine?: 'laptop' | 'small';
  /** Milliseconds a whole catalog download takes. */
  downloadMs?: number;
  /** The first try of each catalog download fails half-way with this message. */
  downloadFailsWith?: string;
  /** The speed an earlier download measured (bytes/s). */
  downloadSpeed?: number | null;
}

interface ChannelLike {
  id: number;
}

export interface MockBackend {
  /** Every command, with when it arrived (Date.now()). */
  calls: { cmd: string; args: Record<string, unknown>; at: number }[];
  /** The most document saves that were ever in flight at once. */
  maxSavesInFlight: number;
  /** Every key the UI handed over, for the test to check it never comes back. */
  /** Keys by `provider@origin`, as the keychain files them. */
  keys: Map<string, string>;
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
  device: 'CPU (2 threads, avx512-vnni)',
  backend: 'atelier-cpu',
  error: null,
  load_ms: 120,
};

function sendTo(channel: ChannelLike, index: number, message: unknown) {
  const internals = (window as unknown as { __TAURI_INTERNALS__: { runCallback: (id: number, data: unknown) => void } }).__TAURI_INTERNALS__;
  internals.runCallback(channel.id, { index, message });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => Date.now();

function fail(kind: string, message: string): never {
  throw { kind, message };
}

export function installMockBackend(options: MockOptions = {}): MockBackend {
  const reply = options.reply ?? ['Once', ' upon', ' a', ' time', ',', ' a', ' lighthouse', ' keeper', ' wrote', '.'];
  const delayMs = options.delayMs ?? 20;
  const cancelled = new Set<string>();
  const backend: MockBackend = { calls: [], keys: new Map(), maxSavesInFlight: 0 };
  let savesInFlight = 0;
  let nextId = 100;
  const documents = new Map<number, Document & { deleted?: boolean }>();
  const revisions: Revision[] = [];
  const conversations: { id: number; document_id: number | null; title: string; created_at: number; updated_at: number }[] = [];
  const messages: Message[] = [];
  const runs = new Map<number, RunWithMembers>();
  const ledger: LedgerEntry[] = [];
  const settings: Record<string, unknown> = {};
  let offline = false;
  const providers: ProviderView[] = [];
  const manuscript = createManuscriptMock({ documents, revisions, id: () => nextId++, now, dialogPath: options.dialogPath });
  const story = createStoryMock({
    documents,
    id: () => nextId++,
    now,
    sceneOf: (id) => manuscript.sceneOf(id),
    cloudContext: (projectId) => ((manuscript.handle('project_tree', { id: projectId }) as { project: { cloud_context: boolean } }).project.cloud_context),
  });
  // Context previews, chat turns and what a write records (mock-context.ts).
  const contextMock = createContextMock({
    documents,
    sceneOf: (id) => manuscript.sceneOf(id),
    project: (projectId) => {
      const tree = manuscript.handle('project_tree', { id: projectId }) as { project: { cloud_context: boolean }; nodes: { id: number; kind: string; title: string; synopsis: string; document_id: number | null }[] };
      return { cloud_context: tree.project.cloud_context, nodes: tree.nodes };
    },
    bible: (projectId) => story.handle('list_bible', { projectId }) as BibleEntry[],
    generate: (args, run) => generate(args, run),
  });
  const models: ModelRecord[] = [
    { id: 1, path: READY.info!.path, name: 'SmolLM2-135M-Instruct', architecture: 'llama', quantization: 'Q4_1', size_bytes: 98_362_432, parameters: 134_515_008, sha256: null, source_url: null, is_default: true, added_at: now() },
  ];
  // Every watch_model_status channel, with the index its next message gets.
  const statusWatchers: { channel: ChannelLike; index: number }[] = [];
  let status: ModelStatus = READY;
  const pushStatus = (next: ModelStatus) => {
    status = next;
    for (const w of statusWatchers) sendTo(w.channel, w.index++, next);
  };
  /** Loads a library model as the backend does: loading, then ready with its name. */
  function loadRecord(m: ModelRecord) {
    pushStatus({ ...READY, state: 'loading', info: null, device: null });
    const info = m.path === READY.info!.path ? READY.info! : { path: m.path, name: m.name, architecture: m.architecture, quantization: m.quantization, file_size: m.size_bytes, parameters: m.parameters, context_length: 4096 };
    setTimeout(() => pushStatus({ ...READY, info }), options.loadMs ?? 10);
  }
  const catalog = createCatalogMock({
    models, id: () => nextId++, now, send: sendTo, offline: () => offline, load: loadRecord,
    machine: options.machine, downloadMs: options.downloadMs, downloadFailsWith: options.downloadFailsWith, downloadSpeed: options.downloadSpeed,
  });
  // The first-run choice outlives a reload of the page (the real one is in the library).
  const FIRST_RUN_KEY = 'atelier-mock-first-run-done';
  const firstRunDone = () => options.onboarded !== false || (typeof sessionStorage !== 'undefined' && sessionStorage.getItem(FIRST_RUN_KEY) === 'true');

  if (options.seed !== 'empty') {
    const t = now() - 3600_000;
    documents.set(1, { id: 1, title: 'The Lighthouse', body: 'The keeper climbed the stairs at dusk.\n\nThe sea was restless that night.', created_at: t, updated_at: t });
    documents.set(2, { id: 2, title: 'Notes', body: 'Characters: Mara, the keeper. Ezra, the boatman.', created_at: t - 1000, updated_at: t - 1000 });
    providers.push({
      id: 'openrouter', name: 'OpenRouter', kind: 'openai_compatible', base_url: 'https://openrouter.ai/api/v1',
      models: [{ id: 'mistralai/ministral-8b', input_per_mtok: 0.1, output_per_mtok: 0.1 }, { id: 'broken/model', input_per_mtok: 1, output_per_mtok: 2 }],
      enabled: true, created_at: t, updated_at: t, key_set: true, requires_key: true, origin: originOf('https://openrouter.ai/api/v1'),
    });
    manuscript.seed(options.seed ?? 'demo');
  }

  const cloudCount = () => (offline ? 0 : providers.filter((p) => p.enabled && (!p.requires_key || p.key_set)).reduce((n, p) => n + p.models.length, 0));
  const privacy = () => ({ offline, cloud_models: cloudCount(), cloud_providers: providers.filter((p) => p.enabled && p.key_set).map((p) => p.name) });

  function addRun(run: Omit<RunWithMembers, 'id'>): RunWithMembers {
    const id = nextId++;
    const full = { ...run, id };
    runs.set(id, full);
    return full;
  }

  /** Runs generated so far: the first computes its whole prompt. */
  let generations = 0;
  /** Streams the scripted reply on the command's channel and keeps the run, as the backend does. */
  async function generate(args: Record<string, unknown>, run: Pick<RunWithMembers, 'prompt' | 'document_id' | 'action' | 'settings'>): Promise<Generation> {
    // The backend records which project and scene a run on a scene's document belongs to.
    const scene = manuscript.sceneOf(run.document_id);
    const channel = args.onEvent as ChannelLike;
    const id = args.id as string;
    let index = 0;
    const send = (event: GenerationEvent) => sendTo(channel, index++, event);
    const record = addRun({
      kind: 'generate', ...run, ...scene, mode: null, judge: null, seed: 7,
      status: 'running', final_text: null, analysis: null, error: null, prompt_tokens: 12, completion_tokens: 0, cost_usd: 0,
      started_at: now(), finished_at: null, members: [],
    });
    send({ event: 'started', data: { run_id: record.id } });
    // Like the engine's cache: the first run computes its whole prompt, later ones reuse its shared start.
    const cached = generations++ === 0 ? 0 : 8;
    let text = '';
    let tokens = 0;
    for (const word of reply) {
      await sleep(delayMs);
      if (cancelled.has(id)) break;
      text += word;
      tokens += 1;
      send({ event: 'text', data: { text: word, completion_tokens: tokens, tokens_per_second: 42.5, time_to_first_token_ms: 35, prompt_tokens: 12, cached_tokens: cached } });
    }
    const generation: Generation = {
      text, prompt_tokens: 12, completion_tokens: tokens, stop_reason: cancelled.has(id) ? 'cancelled' : 'end_of_turn',
      timings: { prompt_tokens_processed: 12 - cached, prompt_ms: 30, prompt_tokens_per_second: 400, time_to_first_token_ms: 35, decode_ms: tokens * delayMs, decode_tokens_per_second: 42.5, total_ms: 35 + tokens * delayMs },
    };
    Object.assign(record, { status: cancelled.has(id) ? 'cancelled' : 'completed', final_text: text, completion_tokens: tokens, finished_at: now() });
    record.members = [{ id: nextId++, run_id: record.id, position: 0, label: 'A', role: 'member', round: 0, provider: 'local', model: 'SmolLM2-135M-Instruct', output: text, status: 'completed', error: null, prompt_tokens: 12, completion_tokens: tokens, cost_usd: 0, latency_ms: 400, first_token_ms: 35, cached_tokens: cached }];
    send({ event: 'finished', data: generation });
    return generation;
  }

  mockWindows('main');
  mockIPC(async (cmd, payload) => {
    const args = (payload ?? {}) as Record<string, unknown>;
    backend.calls.push({ cmd, args, at: now() });
    if (options.failWith) throw options.failWith;
    switch (cmd) {
      case 'watch_model_status': {
        const w = { channel: args.onStatus as ChannelLike, index: 0 };
        statusWatchers.push(w);
        sendTo(w.channel, w.index++, { ...READY, state: 'loading', info: null, device: null });
        setTimeout(() => sendTo(w.channel, w.index++, status), options.loadMs ?? 10);
        return null;
      }
      case 'generate': {
        const params = args.params as { prompt: string; document_id?: number | null; action?: string | null };
        return generate(args, { prompt: params.prompt, document_id: params.document_id ?? null, action: params.action ?? null, settings: null });
      }
      case 'write': {
        // The backend builds the prompt; the mock records the action and its inputs as the real one does.
        const params = args.params as WriteParams;
        const label = params.action === 'rewrite' ? `rewrite:${params.tone ?? 'plainer'}` : params.action;
        const passage = (params.selection ?? '').trim() || params.before || params.document || '';
        const context = contextMock.view({ ...params, for: 'write' }).items;
        const settings = JSON.stringify({ action: { action: params.action, tone: params.tone ?? undefined, instruction: params.instruction ?? undefined, selection: passage }, seed: params.seed ?? 7, system: 'You are Atelier, a writing partner.', prompt: `${params.action}: ${passage}`, context });
        return generate(args, { prompt: `${params.action}: ${passage}`, document_id: params.document_id ?? null, action: label, settings });
      }
      case 'rerun': {
        const recorded = runs.get(args.runId as number);
        if (!recorded || recorded.kind !== 'generate') fail('invalid', 'Only on-device generations can be re-run here; open a fusion run in Fusion.');
        return generate(args, { prompt: recorded.prompt, document_id: recorded.document_id, action: recorded.action, settings: recorded.settings });
      }
      case 'cancel':
        cancelled.add(args.id as string);
        return true;

      case 'list_documents':
        return [...documents.values()].filter((d) => !d.deleted).sort((a, b) => b.updated_at - a.updated_at).map((d) => ({ id: d.id, title: d.title, updated_at: d.updated_at, words: d.body.trim() ? d.body.trim().split(/\s+/).length : 0, preview: d.body.slice(0, 160) }));
      case 'create_document': {
        const id = nextId++;
        const doc = { id, title: String(args.title), body: String(args.body ?? ''), created_at: now(), updated_at: now() };
        documents.set(id, doc);
        return doc;
      }
      case 'get_document': {
        const doc = documents.get(args.id as number);
        if (!doc || doc.deleted) fail('not_found', `document ${args.id} does not exist`);
        return doc;
      }
      case 'save_document': {
        savesInFlight += 1;
        backend.maxSavesInFlight = Math.max(backend.maxSavesInFlight, savesInFlight);
        try {
          if (options.saveDelayMs) await sleep(options.saveDelayMs);
        } finally {
          savesInFlight -= 1;
        }
        const doc = documents.get(args.id as number);
        if (!doc) fail('not_found', 'no such document');
        const before = wordCount(doc.body);
        Object.assign(doc, { title: args.title, body: args.body, updated_at: now() });
        manuscript.recordProgress(doc.id, before, wordCount(doc.body));
        revisions.unshift({ id: nextId++, document_id: doc.id, title: doc.title, body: doc.body, reason: String(args.reason ?? 'autosave'), created_at: now() });
        return { ...doc };
      }
      case 'delete_document':
        documents.get(args.id as number)!.deleted = true;
        return null;
      case 'restore_document': {
        const doc = documents.get(args.id as number)!;
        doc.deleted = false;
        return doc;
      }
      case 'list_revisions':
        return revisions.filter((r) => r.document_id === args.documentId);
      case 'restore_revision': {
        const r = revisions.find((x) => x.id === args.revisionId)!;
        const doc = documents.get(r.document_id)!;
        Object.assign(doc, { title: r.title, body: r.body, updated_at: now() });
        return { ...doc };
      }
      case 'list_conversations':
        return conversations.filter((c) => c.document_id === args.documentId);
      case 'create_conversation': {
        const c = { id: nextId++, document_id: (args.documentId as number) ?? null, title: String(args.title), created_at: now(), updated_at: now() };
        conversations.unshift(c);
        return c;
      }
      case 'list_messages':
        return messages.filter((m) => m.conversation_id === args.conversationId);
      case 'add_message': {
        const m: Message = { id: nextId++, conversation_id: args.conversationId as number, role: args.role as Message['role'], content: String(args.content), run_id: null, created_at: now() };
        messages.push(m);
        return m;
      }

      case 'list_runs': {
        const filter = (args.filter ?? {}) as { kind?: string | null; mode?: string | null };
        return [...runs.values()].filter((r) => (!filter.kind || r.kind === filter.kind) && (!filter.mode || r.mode === filter.mode)).sort((a, b) => b.id - a.id);
      }
      case 'get_run': {
        const run = runs.get(args.id as number);
        if (!run) fail('not_found', 'no such run');
        return run;
      }
      case 'delete_run':
        runs.delete(args.id as number);
        return null;
      case 'search': {
        const q = String(args.query).toLowerCase().trim();
        const hits = [];
        for (const d of documents.values()) {
          if (!d.deleted && (d.title + ' ' + d.body).toLowerCase().includes(q)) {
            hits.push({ kind: 'document', id: d.id, open_id: d.id, title: d.title, snippet: d.body.replace(new RegExp(q, 'ig'), (m) => `\uE000${m}\uE001`).slice(0, 120), at: d.updated_at, rank: -1 });
          }
        }
        for (const r of runs.values()) {
          for (const m of r.members) {
            if (m.output.toLowerCase().includes(q)) {
              hits.push({ kind: 'run_output', id: m.id, open_id: r.id, title: `${m.model} — ${r.prompt.slice(0, 40)}`, snippet: m.output.replace(new RegExp(q, 'ig'), (x) => `\uE000${x}\uE001`), at: r.started_at, rank: -1 });
            }
          }
        }
        return hits;
      }
      case 'export_text':
        return `# export of ${args.what} ${args.id}`;
      // The backend opens the save dialog itself; the webview sends no path.
      case 'export_to_file':
      case 'backup_library':
        if ('path' in args) fail('invalid', 'the webview may not choose a path');
        return options.dialogPath ?? null;

      case 'list_models':
        return models.map((m) => ({ ...m, format: m.path.endsWith('.gguf') ? 'gguf' : 'openvino', loaded: m.path === status.info?.path, missing: false }));
      case 'import_model': {
        // No path: the backend's own open dialog picks one. A path: a file dropped on the window.
        if (args.path == null && options.dialogPath == null) return null;
        const path = String(args.path ?? options.dialogPath);
        // An OpenVINO model is the folder of the openvino_model.xml picked in it.
        if (path.endsWith('/openvino_model.xml')) {
          const folder = path.slice(0, -'/openvino_model.xml'.length);
          const m = { id: nextId++, path: folder, name: folder.split('/').pop()!, architecture: 'mistral', quantization: 'INT4', size_bytes: 4_100_000_000, parameters: 7_248_023_552, sha256: null, source_url: null, is_default: false, added_at: now() };
          models.push(m);
          return m;
        }
        if (!path.endsWith('.gguf')) fail('model_invalid', `${path} is not a GGUF model file (it starts with "PK"). Atelier loads GGUF files, e.g. from llama.cpp or Hugging Face`);
        const m = { id: nextId++, path, name: path.split('/').pop()!.replace('.gguf', ''), architecture: 'mistral3', quantization: 'Q4_K', size_bytes: 2_100_000_000, parameters: 3_400_000_000, sha256: null, source_url: null, is_default: false, added_at: now() };
        models.push(m);
        return m;
      }
      case 'set_default_model':
        for (const m of models) m.is_default = m.id === args.id;
        return null;
      case 'load_model': {
        const m = models.find((x) => x.id === args.id);
        if (!m) fail('not_found', `model ${args.id} is not in the library`);
        loadRecord(m);
        return null;
      }
      case 'delete_model':
        return null;
      case 'device_options':
        return {
          devices: [
            { id: 'auto', label: 'Automatic', available: true, note: null },
            { id: 'cpu', label: 'CPU', available: true, note: null },
            { id: 'cuda', label: 'NVIDIA GPU (CUDA)', available: false, note: 'this build of Atelier has no CUDA support (build with `--features cuda`)' },
            { id: 'metal', label: 'Apple GPU (Metal)', available: false, note: 'this build of Atelier has no Metal support' },
            {
              id: 'npu',
              label: 'NPU (OpenVINO models)',
              available: false,
              note: 'no NPU found',
            },
          ],
          cpu_threads: 2,
          cpu_kernels: 'avx512-vnni',
        };

      case 'list_providers':
        return {
          providers: providers.map((p) => ({ ...p, key_set: backend.keys.has(keyAccount(p)) || p.key_set })),
          presets: [
            { id: 'openrouter', name: 'OpenRouter', base_url: 'https://openrouter.ai/api/v1', requires_key: true },
            { id: 'mistral', name: 'Mistral AI', base_url: 'https://api.mistral.ai/v1', requires_key: true },
            { id: 'ollama', name: 'Ollama', base_url: 'http://127.0.0.1:11434/v1', requires_key: false },
          ],
        };
      case 'save_provider': {
        const input = args.provider as ProviderView;
        const existing = providers.find((p) => p.id === input.id);
        const origin = originOf(input.base_url);
        const local = ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(input.base_url).hostname);
        if (!local && !input.base_url.startsWith('https://')) fail('invalid', `\`${input.base_url}\` is not a usable address: use https:// (plain http:// is only for a server on this computer)`);
        // A key is bound to the address: a provider moved elsewhere has none there.
        const keySet = existing && existing.origin === origin ? existing.key_set : false;
        const record = { ...input, kind: 'openai_compatible', created_at: now(), updated_at: now(), key_set: keySet, requires_key: !local, origin };
        if (existing) Object.assign(existing, record);
        else providers.push(record);
        return record;
      }
      case 'delete_provider': {
        const i = providers.findIndex((p) => p.id === args.id);
        if (i >= 0) providers.splice(i, 1);
        return null;
      }
      case 'set_key': {
        const p = providers.find((x) => x.id === args.provider);
        if (!p) fail('invalid', `unknown provider \`${args.provider}\`: add it in Settings → Providers first`);
        backend.keys.set(keyAccount(p!), String(args.key));
        p!.key_set = true;
        return true;
      }
      case 'delete_key': {
        const p = providers.find((x) => x.id === args.provider);
        if (p) {
          backend.keys.delete(keyAccount(p));
          p.key_set = false;
        }
        return true;
      }
      case 'key_status': {
        const p = providers.find((x) => x.id === args.provider);
        return !!p && backend.keys.has(keyAccount(p));
      }
      case 'test_provider':
        if (offline) fail('offline', 'offline mode is on: no request was sent');
        return 'ready';
      case 'fetch_prices':
        return 2;
      case 'estimate_fusion': {
        const params = args.params as FusionParams;
        const members = params.members ?? [];
        const cloud = members.filter((m) => m !== 'local');
        // The backend estimates on-device time from the model's measured speed: here 10 s a sample.
        const onDevice = params.self_fusion ? params.self_fusion * 10 + 8 : members.includes('local') ? 18 : null;
        if (params.self_fusion) return { total_usd: 0, per_member_usd: Array(params.self_fusion).fill(0), judge_usd: 0, unpriced: [], on_device_seconds: onDevice };
        return { total_usd: cloud.length * 0.0008 + 0.0004, per_member_usd: members.map((m) => (m === 'local' ? 0 : 0.0008)), judge_usd: 0.0004, unpriced: [], on_device_seconds: onDevice };
      }
      case 'run_fusion':
        return runFusionMock(args.params as FusionParams, args.onEvent as ChannelLike);
      case 'panel_choice':
        return panelChoice;
      case 'save_panel_choice': {
        const choice = args.choice as PanelChoice;
        if (choice.samples < 1 || choice.samples > 8) throw { kind: 'invalid', message: `self-fusion takes 1 to 8 samples (got ${choice.samples})` };
        panelChoice = choice;
        return null;
      }
      case 'record_pick': {
        const pick = args.pick as NewPick;
        if (pick.left_name === pick.right_name) throw { kind: 'invalid', message: 'a pick compares two different models or settings' };
        const saved = { ...pick, id: nextId++, created_at: now() };
        picks.push(saved);
        return saved;
      }
      case 'taste_leaderboard': {
        // The shape of the Rust leaderboard (its Bradley–Terry fit is tested in Rust): counts, a rating
        // that moves with the record, and intervals that stay wide with few picks.
        const mine = picks.filter((p) => p.project_id === (args.projectId ?? null));
        const names = [...new Set(mine.flatMap((p) => [p.left_name, p.right_name]))];
        const ratings = names.map((name) => {
          let wins = 0, ties = 0, losses = 0;
          for (const p of mine) {
            const side = p.left_name === name ? 'left' : p.right_name === name ? 'right' : null;
            if (!side) continue;
            if (p.outcome === 'tie') ties++;
            else if (p.outcome === side) wins++;
            else losses++;
          }
          const rating = 1500 + 100 * (wins - losses);
          const spread = 400 / Math.sqrt(wins + ties + losses);
          return { name, rating, low: rating - spread, high: rating + spread, wins, ties, losses };
        }).sort((a, b) => b.rating - a.rating);
        return { ratings, picks: mine.length, rubric: [] };
      }

      case 'privacy_status':
        return privacy();
      case 'set_offline':
        offline = Boolean(args.offline);
        return privacy();
      case 'ledger':
        return ledger;
      case 'ledger_totals':
        return { requests: ledger.length, bytes_sent: ledger.reduce((n, e) => n + e.bytes_sent, 0), bytes_received: 0, prompt_tokens: ledger.length * 20, completion_tokens: ledger.length * 30, cost_usd: ledger.length * 0.0008 };
      case 'get_settings':
        return { ...settings, first_run_done: settings.first_run_done ?? firstRunDone() };
      case 'set_setting':
        settings[String(args.key)] = args.value;
        if (args.key === 'first_run_done' && typeof sessionStorage !== 'undefined') sessionStorage.setItem(FIRST_RUN_KEY, String(args.value));
        return null;
      case 'ui_ready':
        return Math.round(performance.now());
      default: {
        const catalogResult = catalog.handle(cmd, args);
        if (catalogResult !== NOT_MINE) return catalogResult;
        const contextResult = contextMock.handle(cmd, args);
        if (contextResult !== NOT_MINE) return contextResult;
        const storyResult = story.handle(cmd, args);
        if (storyResult !== NOT_MINE) return storyResult;
        const result = manuscript.handle(cmd, args);
        if (result === NOT_MINE) throw { kind: 'unknown_command', message: `no mock for ${cmd}` };
        return result;
      }
    }
  });

  const picks: (NewPick & { id: number; created_at: number })[] = [];
  let panelChoice: PanelChoice = {
    members: ['local'],
    judge: 'local',
    mode: 'merge',
    rounds: 1,
    budget_usd: 0.05,
    max_tokens: 400,
    samples: 3,
    personas: [{ temperature: 0.3, description: 'a meticulous line editor' }, { temperature: 0.8, description: 'a bold literary stylist' }],
  };

  /** A scripted revision, as the Rust side would diff it: "At dawn, " before the passage (from member A's
   *  answer) and its last word made "sea." (the judge's own). Offsets in UTF-16 units, like the editor. */
  function scriptedRevision(params: FusionParams, memberA: string): { text: string; suggestions: Suggestion[] } | null {
    const action = params.action ?? null;
    if (action === 'continue') return { text: 'The gulls spoke first.', suggestions: [{ from: 0, to: 0, delete: '', insert: 'The gulls spoke first.', sources: [memberA] }] };
    const selection = params.selection ?? '';
    if (!(action === 'rewrite' || action === 'shorten' || action === 'expand') || !selection.trim()) return null;
    const lead = selection.length - selection.trimStart().length;
    const core = selection.trim();
    const last = core.search(/\S+$/);
    const text = `At dawn, ${core.slice(0, last)}sea.`;
    return {
      text,
      suggestions: [
        { from: lead, to: lead, delete: '', insert: 'At dawn, ', sources: [memberA] },
        { from: lead + last, to: lead + core.length, delete: core.slice(last), insert: 'sea.', sources: [] },
      ],
    };
  }

  async function runFusionMock(params: FusionParams, channel: ChannelLike) {
    let index = 0;
    const send = (e: FusionEvent) => sendTo(channel, index++, e);
    const names = params.self_fusion ? Array<string>(params.self_fusion).fill('local') : (params.members ?? []);
    const mode = params.mode ?? 'merge';
    const infos = names.map((m, i) => {
      const [provider, ...rest] = m.split(':');
      return { index: i, provider, model: provider === 'local' ? 'SmolLM2-135M-Instruct' : rest.join(':'), cloud: provider !== 'local' };
    });
    const judge = { index: infos.length, provider: 'local', model: 'SmolLM2-135M-Instruct', cloud: false };
    send({ type: 'run_started', mode, rounds: 0, members: infos, judge, estimate: { total_usd: 0.002, per_member_usd: [], judge_usd: 0, unpriced: [] }, seed: 7 });
    const members: RunMember[] = [];
    const runId = nextId++;
    const answers = ['The sea woke grey, ', 'and the gulls were first to speak. ', 'Mara counted the steps.'];
    await Promise.all(
      infos.map(async (info) => {
        send({ type: 'member_started', member: info.index, round: 0 });
        const fails = info.model.startsWith('broken') || (info.cloud && offline);
        let text = '';
        for (const part of answers) {
          await sleep(delayMs);
          if (fails) break;
          text += part;
          send({ type: 'member_delta', member: info.index, round: 0, text: part });
        }
        if (fails) {
          const error = offline ? 'offline mode is on: no request was sent' : '401 invalid key: openrouter refused the API key';
          send({ type: 'member_failed', member: info.index, round: 0, kind: offline ? 'offline' : 'unauthorized', error, tokens: 0 });
          members.push({ id: nextId++, run_id: runId, position: info.index, label: String.fromCharCode(65 + info.index), role: 'member', round: 0, provider: info.provider, model: info.model, output: '', status: 'failed', error, prompt_tokens: null, completion_tokens: null, cost_usd: null, latency_ms: 300, first_token_ms: null, cached_tokens: null });
          return;
        }
        if (info.cloud) ledger.push({ id: nextId++, at: now(), provider: info.provider, model: info.model, endpoint: 'https://openrouter.ai/api/v1/chat/completions', run_id: runId, bytes_sent: 812, bytes_received: 2048, prompt_tokens: 20, completion_tokens: 30, cost_usd: 0.0008, status: '200', items: ['Prompt'] });
        send({ type: 'member_finished', member: info.index, round: 0, usage: { prompt_tokens: 20, completion_tokens: 3, cost_usd: info.cloud ? 0.0008 : 0 }, latency_ms: 900, first_token_ms: 120 });
        members.push({ id: nextId++, run_id: runId, position: info.index, label: String.fromCharCode(65 + info.index), role: 'member', round: 0, provider: info.provider, model: info.model, output: text, status: 'completed', error: null, prompt_tokens: 20, completion_tokens: 3, cost_usd: info.cloud ? 0.0008 : 0, latency_ms: 900, first_token_ms: 120, cached_tokens: null });
      }),
    );
    const answered = members.filter((m) => m.status === 'completed');
    const verdict = {
      consensus: ['Both open at dawn by the sea.'],
      contradictions: ['One hears gulls, one counts steps.'],
      unique_insights: [{ response: 'A', insight: 'The gulls as the first voice.' }],
      blind_spots: ['No smell of salt.'],
      scores: Object.fromEntries(answered.map((m, i) => [m.label, 8 - i])),
      best: answered[0]?.label ?? null,
      minority_report: 'Night would be more haunting.',
    };
    const revision = answered.length >= 2 ? scriptedRevision(params, `A · ${answered[0].provider}:${answered[0].model}`) : null;
    const finalText = revision?.text ?? 'At dawn the sea lay grey and still; the gulls spoke first, and Mara began to count the steps.';
    if (answered.length >= 2) {
      send({ type: 'judge_started', pass: 0, order: answered.map((m) => m.position) });
      send({ type: 'judge_delta', pass: 0, text: '{"consensus": …}' });
      send({ type: 'analysis', verdict });
      send({ type: 'final', text: finalText, source: 'judge' });
    } else if (answered.length === 1) {
      send({ type: 'final', text: answered[0].output, source: `response ${answered[0].label}` });
    }
    const cost = answered.filter((m) => m.provider !== 'local').length * 0.0008;
    send({ type: 'usage', prompt_tokens: 60, completion_tokens: 9, cost_usd: cost });
    const status = answered.length === 0 ? 'failed' : 'completed';
    send({ type: 'finished', status, error: null });
    runs.set(runId, {
      id: runId, kind: 'fusion', document_id: params.document_id ?? null, ...manuscript.sceneOf(params.document_id ?? null), action: 'fusion', prompt: params.prompt, mode, judge: params.judge ?? null, seed: 7,
      status, final_text: answered.length >= 2 ? finalText : (answered[0]?.output ?? null), analysis: answered.length >= 2 ? JSON.stringify(verdict) : null,
      error: null, settings: JSON.stringify({ ...params, context: params.document_id != null ? contextMock.view({ ...params, for: 'fusion' }).items : undefined }), prompt_tokens: 60, completion_tokens: 9, cost_usd: cost, started_at: now(), finished_at: now(), members,
    });
    return {
      run_id: runId, status, error: status === 'failed' ? 'no answers' : null, final_text: runs.get(runId)!.final_text, final_source: 'judge', verdict: answered.length >= 2 ? verdict : null,
      members: [], judge_passes: [], cost_usd: cost, prompt_tokens: 60, completion_tokens: 9, judges_disagreed: false, tie: false,
      suggestions: revision?.suggestions ?? [], timings: { wall_ms: 900, models_ms: 850, overhead_ms: 50 },
    };
  }

  return backend;
}
