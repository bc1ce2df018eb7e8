// The story bible half of the mock backend: entries in memory, mentions found by a whole-word,
// case-insensitive scan (UTF-16 offsets, as the real one returns), context previews built the way the
// backend orders them, and a continuity check whose scripted judge finds the planted contradiction:
// a scene giving a character eyes of another colour than the bible's "Eyes" field.
import type { BibleEntry, ContextItem, ContextView, Document } from '../src/lib/types';
import { NOT_MINE } from './mock-manuscript';

interface StoryContext {
  documents: Map<number, Document & { deleted?: boolean }>;
  id: () => number;
  now: () => number;
  sceneOf: (documentId: number | null) => { project_id: number | null; scene_id: number | null };
  cloudContext: (projectId: number) => boolean;
}

const tokens = (text: string) => Math.max(1, Math.round(text.split(/\s+/).filter(Boolean).length * 1.3));
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function createStoryMock(ctx: StoryContext) {
  const entries = new Map<number, BibleEntry & { deleted_at: number | null }>();
  const live = (projectId: number) => [...entries.values()].filter((e) => e.deleted_at === null && (e.project_id === projectId || e.project_id === null));
  const view = (e: BibleEntry & { deleted_at: number | null }): BibleEntry => {
    const { deleted_at: _, ...entry } = e;
    return entry;
  };

  function mentions(projectId: number, text: string) {
    const found: { start: number; end: number; entry_ids: number[] }[] = [];
    for (const e of live(projectId)) {
      for (const name of [e.name, ...e.aliases]) {
        const re = new RegExp(`(?<![\\p{L}\\p{N}_])${escape(name)}(?![\\p{L}\\p{N}_])`, 'giu');
        for (const m of text.matchAll(re)) found.push({ start: m.index!, end: m.index! + m[0].length, entry_ids: [e.id] });
      }
    }
    found.sort((a, b) => a.start - b.start || b.end - a.end);
    return found.filter((m, i, all) => !all.slice(0, i).some((o) => o.start < m.end && m.start < o.end));
  }

  function context(params: Record<string, unknown>): ContextView {
    const documentId = (params.document_id as number | null) ?? null;
    const { project_id } = ctx.sceneOf(documentId);
    const cloud = project_id !== null && ctx.cloudContext(project_id);
    const dropped = new Set((params.dropped as string[] | undefined) ?? []);
    const selection = String(params.selection ?? '').trim();
    const text = String(params.before ?? '') || (documentId !== null ? (ctx.documents.get(documentId)?.body ?? '') : '');
    const item = (key: string, kind: ContextItem['kind'], label: string, reason: string, body: string, extra: Partial<ContextItem> = {}): ContextItem => ({
      key, kind, label, reason, tokens: tokens(body), state: dropped.has(key) ? 'dropped' : 'included', optional: true, entry_id: null, pinned: false, scene_id: null, cloud, text: body, ...extra,
    });
    const items: ContextItem[] = [];
    if (project_id !== null) {
      const named = new Set(mentions(project_id, `${selection}\n${text}`).flatMap((m) => m.entry_ids));
      for (const e of live(project_id).sort((a, b) => Number(b.kind === 'style_guide') - Number(a.kind === 'style_guide') || Number(b.pinned) - Number(a.pinned))) {
        const reason = e.kind === 'style_guide' ? 'style guide' : e.pinned ? 'pinned' : named.has(e.id) ? 'mentioned' : null;
        if (reason) items.push(item(`entry:${e.id}`, e.kind === 'style_guide' ? 'style_guide' : 'entry', `${e.name} (${e.kind.replace('_', ' ')})`, reason, `### ${e.name}\n${e.description}`, { entry_id: e.id, pinned: e.pinned }));
      }
    }
    if (text.trim()) items.push(item('text', 'text', 'Text so far', 'the manuscript', text));
    const instruction = String(params.question ?? params.instruction ?? `${params.action ?? 'continue'} the text`);
    items.push({ ...item('instruction', 'instruction', 'Instruction', 'your request', instruction), optional: false, cloud: true, state: 'included' });
    if (selection) items.push({ ...item('selection', 'selection', 'Selection', 'your request', selection), optional: false, cloud: true, state: 'included' });
    const used = items.filter((i) => i.state === 'included').reduce((n, i) => n + i.tokens, 0);
    return { items, tokens: used, budget: 7872, context_length: 8192, answer_tokens: 320, cloud_context: cloud, project_id };
  }

  function handle(cmd: string, args: Record<string, unknown>): unknown {
    switch (cmd) {
      case 'list_bible':
        return live(args.projectId as number).map(view).sort((a, b) => a.name.localeCompare(b.name));
      case 'create_bible_entry': {
        const input = args.entry as BibleEntry;
        if (!String(input.name ?? '').trim()) throw { kind: 'invalid', message: "invalid input: an entry's name cannot be empty" };
        const e = { ...input, id: ctx.id(), name: input.name.trim(), aliases: input.aliases ?? [], fields: input.fields ?? [], description: input.description ?? '', pinned: !!input.pinned, created_at: ctx.now(), updated_at: ctx.now(), deleted_at: null };
        entries.set(e.id, e);
        return view(e);
      }
      case 'update_bible_entry': {
        const e = entries.get(args.id as number)!;
        const patch = args.patch as Partial<BibleEntry>;
        for (const [k, v] of Object.entries(patch)) if (v !== null && v !== undefined) (e as Record<string, unknown>)[k] = v;
        e.updated_at = ctx.now();
        return view(e);
      }
      case 'delete_bible_entry':
        entries.get(args.id as number)!.deleted_at = ctx.now();
        return null;
      case 'restore_bible_entry': {
        const e = entries.get(args.id as number)!;
        e.deleted_at = null;
        return view(e);
      }
      case 'draft_bible_entry': {
        const text = String(args.selection ?? '').trim();
        const short = !text.includes('\n') && text.split(/\s+/).length <= 6;
        const kind = (args.kind as BibleEntry['kind'] | null) ?? 'character';
        return { project_id: args.projectId, kind, name: short ? text.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '') : '', aliases: [], description: short ? '' : text, fields: [], pinned: kind === 'style_guide' };
      }
      case 'find_mentions':
        return mentions(args.projectId as number, String(args.text ?? ''));
      case 'entry_scenes': {
        const e = entries.get(args.entryId as number)!;
        const out = [];
        for (const doc of ctx.documents.values()) {
          const scene = ctx.sceneOf(doc.id);
          if (doc.deleted || scene.project_id !== args.projectId) continue;
          const count = mentions(args.projectId as number, doc.body).filter((m) => m.entry_ids.includes(e.id)).length;
          if (count) out.push({ scene_id: scene.scene_id!, document_id: doc.id, title: doc.title, count });
        }
        return out;
      }
      case 'preview_context':
        return context(args.target as Record<string, unknown>);
      case 'preview_fusion_context': {
        const params = args.params as Record<string, unknown>;
        return params.document_id ? context({ ...params, instruction: params.prompt }) : null;
      }
      case 'check_continuity': {
        const params = args.params as { document_id: number };
        const body = ctx.documents.get(params.document_id)?.body ?? '';
        const { project_id } = ctx.sceneOf(params.document_id);
        const issues = [];
        for (const e of project_id === null ? [] : live(project_id)) {
          // The colour from an "Eyes" field, or from the description ("Mara has grey eyes").
          const eyes = (e.fields.find((f) => f.name.toLowerCase() === 'eyes')?.value ?? e.description.match(/\b(\w+) eyes\b/i)?.[1])?.toLowerCase();
          const said = body.match(/\b(?:(?:her|his|their|its) )?(\w+) eyes\b/i);
          if (eyes && said && said[1].toLowerCase() !== eyes && mentions(project_id!, body).some((m) => m.entry_ids.includes(e.id))) {
            issues.push({ quote: said[0], problem: `${e.name}'s eyes are ${eyes} in the bible`, source: e.name, citation: { kind: 'entry', entry_id: e.id, name: e.name } });
          }
        }
        return { run_id: ctx.id(), issues, parsed: true, raw: JSON.stringify(issues) };
      }
      default:
        return NOT_MINE;
    }
  }

  return { handle, context };
}
