// The context half of the mock backend: what the model reads for a writing action, a chat turn or a
// fusion, item by item, assembled the way the Rust side orders it (the style guide, pinned entries,
// entries the text names, earlier scenes' synopses, the text, then the request itself). Tokens are
// words × 1.3; dropped keys are kept in the list, marked dropped, as the backend records them; the
// bible and the manuscript text go to cloud members only when the project allows it.
import type { BibleEntry, ContextItem, ContextView, Document, Generation, RunWithMembers } from '../src/lib/types';
import { NOT_MINE } from './mock-manuscript';

interface TreeNode {
  id: number;
  kind: string;
  title: string;
  synopsis: string;
  document_id: number | null;
}

export interface ContextMockDeps {
  documents: Map<number, Document & { deleted?: boolean }>;
  sceneOf: (documentId: number | null) => { project_id: number | null; scene_id: number | null };
  /** The project's binder, depth-first, and whether its bible and text may go to cloud members. */
  project: (projectId: number) => { cloud_context: boolean; nodes: TreeNode[] };
  /** The bible entries a project's scenes read (its own and the global ones). */
  bible: (projectId: number) => BibleEntry[];
  /** Streams the scripted reply and keeps the run, as the mock's `generate` does. */
  generate: (args: Record<string, unknown>, run: Pick<RunWithMembers, 'prompt' | 'document_id' | 'action' | 'settings'>) => Promise<Generation>;
}

export const CONTEXT_LENGTH = 8192;
const ANSWER_TOKENS = 320;

export const mockTokens = (text: string) => Math.max(1, Math.round(text.split(/\s+/).filter(Boolean).length * 1.3));
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const ACTION_ASKS: Record<string, string> = {
  continue: 'Continue the text from where it stops, in the same voice.',
  rewrite: 'Rewrite the selection',
  shorten: 'Shorten the selection, keeping its meaning and voice.',
  expand: 'Expand the selection with concrete detail.',
  brainstorm: 'Suggest five directions the story could take next.',
  critique: 'Critique the passage: what works, what does not, and why.',
};

function entryText(e: BibleEntry): string {
  const lines = [`### ${e.name}${e.aliases.length ? ` (also: ${e.aliases.join(', ')})` : ''}`];
  if (e.description.trim()) lines.push(e.description.trim());
  for (const f of e.fields) lines.push(`- ${f.name}: ${f.value}`);
  return lines.join('\n');
}

export function createContextMock(deps: ContextMockDeps) {
  /** How often each entry's name or alias occurs in `text` (whole words, any case). */
  function mentionCounts(entries: BibleEntry[], text: string): Map<number, number> {
    const counts = new Map<number, number>();
    for (const e of entries) {
      let n = 0;
      for (const name of [e.name, ...e.aliases].filter((x) => x.trim())) {
        n += [...text.matchAll(new RegExp(`(?<![\\p{L}\\p{N}_])${escape(name)}(?![\\p{L}\\p{N}_])`, 'giu'))].length;
      }
      if (n) counts.set(e.id, n);
    }
    return counts;
  }

  /** The view for a preview target: `for` is `write`, `chat` or `fusion`. */
  function view(target: Record<string, unknown>): ContextView {
    const documentId = (target.document_id as number | null | undefined) ?? null;
    const { project_id, scene_id } = deps.sceneOf(documentId);
    const project = project_id !== null ? deps.project(project_id) : null;
    const cloud = !!project?.cloud_context;
    const dropped = new Set((target.dropped as string[] | undefined) ?? []);
    const selection = String(target.selection ?? '').trim();
    const body = documentId !== null ? (deps.documents.get(documentId)?.body ?? '') : '';
    const isWrite = target.for === 'write';
    const text = isWrite ? String(target.before ?? '') || String(target.document ?? '') || body : body;
    const items: ContextItem[] = [];
    const item = (key: string, kind: ContextItem['kind'], label: string, reason: string, content: string, extra: Partial<ContextItem> = {}): ContextItem => ({
      key, kind, label, reason, tokens: mockTokens(content), state: dropped.has(key) ? 'dropped' : 'included', optional: true,
      entry_id: null, pinned: false, scene_id: null, cloud, text: content, ...extra,
    });

    if (project_id !== null && project) {
      const entries = deps.bible(project_id);
      const seen = new Set<number>();
      const add = (e: BibleEntry, reason: string) => {
        if (seen.has(e.id)) return;
        seen.add(e.id);
        items.push(item(`entry:${e.id}`, e.kind === 'style_guide' ? 'style_guide' : 'entry', `${e.name} (${e.kind.replace('_', ' ')})`, reason, entryText(e), { entry_id: e.id, pinned: e.pinned }));
      };
      for (const e of entries.filter((x) => x.kind === 'style_guide')) add(e, 'style guide');
      for (const e of entries.filter((x) => x.pinned)) add(e, 'pinned');
      const counts = mentionCounts(entries, `${selection}\n\n${text}`);
      for (const e of entries) if (counts.has(e.id)) add(e, `mentioned ${counts.get(e.id)}×`);
      // The synopses of the scenes before this one, in story order.
      const scenes = project.nodes.filter((n) => n.kind === 'scene');
      const at = scenes.findIndex((n) => n.id === scene_id);
      for (const s of at > 0 ? scenes.slice(0, at) : []) {
        if (s.synopsis.trim()) items.push(item(`synopsis:${s.id}`, 'synopsis', `${s.title || 'Untitled scene'} (synopsis)`, 'earlier scene', `- ${s.title}: ${s.synopsis}`, { scene_id: s.id }));
      }
    }
    if (text.trim()) items.push(item('text', 'text', isWrite ? 'Text so far' : 'The scene', 'the manuscript', text));

    let instruction: string;
    let instructionLabel = 'Instruction';
    if (target.for === 'chat') instruction = String(target.question ?? '');
    else if (target.for === 'fusion') instruction = String(target.prompt ?? '');
    else {
      const action = String(target.action ?? 'continue');
      instructionLabel = `Instruction (${action === 'rewrite' ? `rewrite:${target.tone ?? 'plainer'}` : action})`;
      instruction = action === 'custom' ? String(target.instruction ?? '') : action === 'rewrite' ? `${ACTION_ASKS.rewrite}, ${target.tone ?? 'plainer'}.` : (ACTION_ASKS[action] ?? action);
    }
    // The request itself: always read, by every member.
    // As the backend orders them: the selection, then the instruction last.
    if (selection) items.push({ ...item('selection', 'selection', 'Selection', 'your request', selection), optional: false, state: 'included', cloud: true });
    if (instruction.trim()) items.push({ ...item('instruction', 'instruction', instructionLabel, 'your request', instruction), optional: false, state: 'included', cloud: true });

    const budget = CONTEXT_LENGTH - ANSWER_TOKENS;
    let used = 0;
    for (const i of items) {
      if (i.state !== 'included') continue;
      if (used + i.tokens > budget && i.optional) i.state = 'over_budget';
      else used += i.tokens;
    }
    return { items, tokens: used, budget, context_length: CONTEXT_LENGTH, answer_tokens: ANSWER_TOKENS, cloud_context: cloud, project_id };
  }

  function handle(cmd: string, args: Record<string, unknown>): unknown {
    switch (cmd) {
      case 'preview_context':
        return view(args.target as Record<string, unknown>);
      case 'prepare_context': {
        // What the engine reports: the prompt, all of it but its last token computed ahead.
        const prompt_tokens = view(args.target as Record<string, unknown>).tokens + 40;
        return { prompt_tokens, cached_tokens: 0, computed_tokens: prompt_tokens - 1, ms: 12, cancelled: false };
      }
      case 'preview_fusion_context': {
        const params = args.params as Record<string, unknown>;
        return params.document_id != null ? view({ ...params, for: 'fusion' }) : null;
      }
      case 'chat': {
        const params = args.params as { question: string; document_id?: number | null; dropped?: string[]; selection?: string };
        const context = view({ ...params, for: 'chat' }).items;
        const system = 'You are a thoughtful editor discussing the writer’s manuscript.';
        return deps.generate(args, { prompt: params.question, document_id: params.document_id ?? null, action: 'chat', settings: JSON.stringify({ kind: 'chat', system, prompt: params.question, context }) });
      }
      default:
        return NOT_MINE;
    }
  }

  return { handle, view };
}
