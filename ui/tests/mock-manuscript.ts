// The manuscript half of the mock backend: projects, the binder (parts → chapters → scenes, with the
// backend's nesting rules, positions, trash and restore), per-day progress, export, import previews and
// revision diffs, in memory. Scenes' text lives in the mock's documents, as in the real library.
import type { Document, Revision } from '../src/lib/types';

type ProjectKind = 'novel' | 'screenplay' | 'short_fiction' | 'other';
type NodeKind = 'part' | 'chapter' | 'scene';
type SceneStatus = 'idea' | 'draft' | 'revised' | 'final';

interface ProjectRow {
  id: number;
  title: string;
  kind: ProjectKind;
  author: string;
  word_goal: number | null;
  cloud_context?: boolean;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

interface NodeRow {
  id: number;
  project_id: number;
  parent_id: number | null;
  kind: NodeKind;
  position: number;
  title: string;
  synopsis: string;
  pov: string;
  status: SceneStatus;
  target_words: number | null;
  document_id: number | null;
  deleted_at: number | null;
}

export interface BinderNodeView {
  id: number;
  project_id: number;
  parent_id: number | null;
  kind: NodeKind;
  position: number;
  title: string;
  synopsis: string;
  pov: string;
  status: SceneStatus;
  target_words: number | null;
  document_id: number | null;
  words: number;
}

interface ManuscriptChapter {
  part: string | null;
  title: string;
  scenes: { title: string; text: string }[];
}

export interface ManuscriptContext {
  documents: Map<number, Document & { deleted?: boolean }>;
  revisions: Revision[];
  id: () => number;
  now: () => number;
  /** What the backend's dialogs return: `null` cancels; undefined picks a plausible file. */
  dialogPath: string | null | undefined;
}

export const NOT_MINE = Symbol('not a manuscript command');

const RANK: Record<NodeKind, number> = { part: 0, chapter: 1, scene: 2 };
const LABEL: Record<NodeKind, string> = { part: 'part', chapter: 'chapter', scene: 'scene' };
const FORMATS = ['docx', 'epub', 'md', 'txt', 'fountain'];
const IMPORTABLE = ['docx', 'md', 'markdown', 'txt', 'fountain'];

export const wordCount = (text: string) => text.trim().match(/\S+/g)?.length ?? 0;

function fail(kind: string, message: string): never {
  throw { kind, message };
}

function localDay(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Paragraphs as the backend compares them: non-blank lines, trailing space trimmed. */
const lines = (text: string) => text.split('\n').map((l) => l.trimEnd()).filter((l) => l.trim());

function lcsOps<T>(a: T[], b: T[]): ('same' | 'removed' | 'added')[] {
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const ops: ('same' | 'removed' | 'added')[] = [];
  let [i, j] = [0, 0];
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) (ops.push('same'), i++, j++);
    else if (lcs[i + 1][j] >= lcs[i][j + 1]) (ops.push('removed'), i++);
    else (ops.push('added'), j++);
  }
  while (i++ < a.length) ops.push('removed');
  while (j++ < b.length) ops.push('added');
  return ops;
}

type Span = { text: string; changed: boolean };

function wordSpans(left: string, right: string): [Span[], Span[]] {
  const tokens = (s: string) => s.match(/\s+|\S+/g) ?? [];
  const [a, b] = [tokens(left), tokens(right)];
  const push = (spans: Span[], text: string, changed: boolean) => {
    const last = spans.at(-1);
    if (last && last.changed === changed) last.text += text;
    else spans.push({ text, changed });
  };
  const [l, r]: [Span[], Span[]] = [[], []];
  let [i, j] = [0, 0];
  for (const op of lcsOps(a, b)) {
    if (op === 'same') (push(l, a[i++], false), push(r, b[j++], false));
    else if (op === 'removed') push(l, a[i++], true);
    else push(r, b[j++], true);
  }
  return [l, r];
}

/** A side-by-side diff: paragraphs kept, removed, added, or changed (a removed run beside an added
 *  run, paired, with the differing words marked). */
export function sideBySide(before: string, after: string) {
  const [a, b] = [lines(before), lines(after)];
  const ops = lcsOps(a, b);
  const rows: { left: string | null; right: string | null; change: 'same' | 'removed' | 'added' | 'changed'; left_spans: Span[]; right_spans: Span[] }[] = [];
  let [i, j, k] = [0, 0, 0];
  while (k < ops.length) {
    if (ops[k] === 'same') {
      rows.push({ left: a[i++], right: b[j++], change: 'same', left_spans: [], right_spans: [] });
      k++;
      continue;
    }
    const removed: string[] = [];
    const added: string[] = [];
    while (k < ops.length && ops[k] !== 'same') {
      if (ops[k] === 'removed') removed.push(a[i++]);
      else added.push(b[j++]);
      k++;
    }
    const paired = Math.min(removed.length, added.length);
    for (let p = 0; p < paired; p++) {
      const [left_spans, right_spans] = wordSpans(removed[p], added[p]);
      rows.push({ left: removed[p], right: added[p], change: 'changed', left_spans, right_spans });
    }
    for (const l of removed.slice(paired)) rows.push({ left: l, right: null, change: 'removed', left_spans: [], right_spans: [] });
    for (const r of added.slice(paired)) rows.push({ left: null, right: r, change: 'added', left_spans: [], right_spans: [] });
  }
  return rows;
}

/** The manuscript the canned import preview shows (as if read from a DOCX). */
const IMPORTED: { title: string; author: string; kind: ProjectKind; chapters: ManuscriptChapter[] } = {
  title: 'Harbour Lights',
  author: 'M. Keeper',
  kind: 'novel',
  chapters: [
    {
      part: 'Part One',
      title: 'The Crossing',
      scenes: [
        { title: 'Departure', text: 'The ferry left before the fog lifted. Mara stood at the rail and watched the town shrink to a line of lamps.\n\nNobody waved.' },
        { title: 'At sea', text: 'By noon the water had turned the colour of slate, and the captain had stopped pretending he knew the way.' },
      ],
    },
    {
      part: null,
      title: 'Landfall',
      scenes: [{ title: 'The island', text: 'The island rose out of the grey like the back of some patient animal, and the lighthouse stood on its shoulder.' }],
    },
  ],
};

export function createManuscriptMock(ctx: ManuscriptContext) {
  const projects = new Map<number, ProjectRow>();
  const nodes = new Map<number, NodeRow>();
  /** Per project and day: the words at the day's start and after its last change. */
  const progress = new Map<string, { project_id: number; day: string; start_words: number; words: number }>();
  const pending = new Map<string, typeof IMPORTED>();

  const liveDoc = (id: number | null) => (id === null ? undefined : [ctx.documents.get(id)].find((d) => d && !d.deleted));
  const isLive = (n: NodeRow) => n.deleted_at === null && (n.document_id === null || !!liveDoc(n.document_id));
  const liveProject = (id: number) => {
    const p = projects.get(id);
    if (!p || p.deleted_at !== null) fail('not_found', `project ${id} does not exist`);
    return p;
  };
  const liveNode = (id: number) => {
    const n = nodes.get(id);
    if (!n || !isLive(n)) fail('not_found', `binder item ${id} does not exist`);
    return n;
  };
  const touch = (projectId: number) => {
    const p = projects.get(projectId);
    if (p) p.updated_at = ctx.now();
  };
  const siblings = (projectId: number, parentId: number | null) =>
    [...nodes.values()].filter((n) => n.project_id === projectId && n.parent_id === parentId && n.deleted_at === null).sort((a, b) => a.position - b.position || a.id - b.id);
  const renumber = (list: NodeRow[]) => list.forEach((n, i) => (n.position = i));

  function checkParent(projectId: number, parentId: number | null, kind: NodeKind) {
    if (parentId === null) return;
    const parent = nodes.get(parentId);
    if (!parent || parent.deleted_at !== null) fail('not_found', `binder item ${parentId} does not exist`);
    if (parent.project_id !== projectId) fail('invalid', 'an item can only move within its own project');
    if (RANK[parent.kind] >= RANK[kind]) fail('invalid', `a ${LABEL[parent.kind]} cannot hold a ${LABEL[kind]}`);
  }

  /** The project's binder, depth-first, with parts' and chapters' words summed from their scenes. */
  function tree(projectId: number): BinderNodeView[] {
    const live = [...nodes.values()].filter((n) => n.project_id === projectId && isLive(n));
    const kids = new Map<number | null, NodeRow[]>();
    for (const n of live) kids.set(n.parent_id, [...(kids.get(n.parent_id) ?? []), n]);
    for (const list of kids.values()) list.sort((a, b) => a.position - b.position || a.id - b.id);
    const out: BinderNodeView[] = [];
    const walk = (parent: number | null): number => {
      let sum = 0;
      for (const n of kids.get(parent) ?? []) {
        const view = viewOf(n);
        out.push(view);
        const below = walk(n.id);
        if (n.kind !== 'scene') view.words = below;
        sum += n.kind === 'scene' ? view.words : below;
      }
      return sum;
    };
    walk(null);
    return out;
  }

  function viewOf(n: NodeRow): BinderNodeView {
    const doc = liveDoc(n.document_id);
    return {
      id: n.id, project_id: n.project_id, parent_id: n.parent_id, kind: n.kind, position: n.position, title: doc ? doc.title : n.title,
      synopsis: n.synopsis, pov: n.pov, status: n.status, target_words: n.target_words, document_id: n.document_id, words: doc ? wordCount(doc.body) : 0,
    };
  }

  const nodeView = (id: number) => tree(liveNode(id).project_id).find((n) => n.id === id)!;
  const projectView = (p: ProjectRow) => ({ id: p.id, title: p.title, kind: p.kind, author: p.author, word_goal: p.word_goal, cloud_context: p.cloud_context ?? false, created_at: p.created_at, updated_at: p.updated_at });
  const projectWords = (projectId: number) => tree(projectId).filter((n) => n.kind === 'scene').reduce((s, n) => s + n.words, 0);

  function createProject(input: { title: string; kind: ProjectKind; author?: string; word_goal?: number | null }): ProjectRow {
    const title = String(input.title ?? '').trim();
    if (!title) fail('invalid', 'a project needs a title');
    checkGoal(input.word_goal ?? null);
    const p: ProjectRow = { id: ctx.id(), title, kind: input.kind, author: String(input.author ?? '').trim(), word_goal: input.word_goal ?? null, created_at: ctx.now(), updated_at: ctx.now(), deleted_at: null };
    projects.set(p.id, p);
    return p;
  }

  function checkGoal(goal: number | null) {
    if (goal !== null && !(goal >= 1 && goal <= 100_000_000)) fail('invalid', `a word goal of ${goal} is out of range`);
  }

  function addNode(input: { project_id: number; parent_id: number | null; kind: NodeKind; title: string; index?: number | null; text?: string | null; synopsis?: string | null }): NodeRow {
    liveProject(input.project_id);
    checkParent(input.project_id, input.parent_id ?? null, input.kind);
    const title = String(input.title ?? '').trim();
    let document_id: number | null = null;
    if (input.kind === 'scene') {
      document_id = ctx.id();
      ctx.documents.set(document_id, { id: document_id, title: title || 'Untitled scene', body: input.text ?? '', created_at: ctx.now(), updated_at: ctx.now() });
    }
    const list = siblings(input.project_id, input.parent_id ?? null);
    const node: NodeRow = {
      id: ctx.id(), project_id: input.project_id, parent_id: input.parent_id ?? null, kind: input.kind, position: list.length, title: document_id ? '' : title,
      synopsis: input.synopsis ?? '', pov: '', status: 'draft', target_words: null, document_id, deleted_at: null,
    };
    nodes.set(node.id, node);
    if (input.index != null && input.index < list.length) {
      list.splice(Math.max(0, input.index), 0, node);
      renumber(list);
    }
    if (document_id !== null) recordProgress(document_id, 0, wordCount(input.text ?? ''));
    touch(input.project_id);
    return node;
  }

  function moveNode(id: number, parentId: number | null, index: number) {
    const node = liveNode(id);
    checkParent(node.project_id, parentId, node.kind);
    const old = siblings(node.project_id, node.parent_id).filter((n) => n.id !== id);
    if (node.parent_id !== parentId) renumber(old);
    node.parent_id = parentId;
    const order = siblings(node.project_id, parentId).filter((n) => n.id !== id);
    order.splice(Math.min(Math.max(0, index), order.length), 0, node);
    renumber(order);
    touch(node.project_id);
  }

  function subtree(id: number, stamp: number | null): NodeRow[] {
    const out = [nodes.get(id)!];
    for (let i = 0; i < out.length; i++) {
      for (const n of nodes.values()) if (n.parent_id === out[i].id && n.deleted_at === stamp && !out.includes(n)) out.push(n);
    }
    return out;
  }

  /** Today's row of the project's progress after a scene's words went from `before` to `after`. */
  function recordProgress(documentId: number, before: number, after: number) {
    const node = [...nodes.values()].find((n) => n.document_id === documentId && n.deleted_at === null);
    if (!node) return;
    const total = projectWords(node.project_id);
    const day = localDay(ctx.now());
    const key = `${node.project_id}:${day}`;
    const row = progress.get(key);
    if (row) row.words = total;
    else progress.set(key, { project_id: node.project_id, day, start_words: total - after + before, words: total });
    touch(node.project_id);
  }

  function createFromManuscript(m: typeof IMPORTED, title: string | null, kind: ProjectKind | null): ProjectRow {
    const project = createProject({ title: title?.trim() || m.title, kind: kind ?? m.kind, author: m.author, word_goal: null });
    let part: number | null = null;
    for (const chapter of m.chapters) {
      if (chapter.part) part = addNode({ project_id: project.id, parent_id: null, kind: 'part', title: chapter.part }).id;
      const parent = chapter.title ? addNode({ project_id: project.id, parent_id: part, kind: 'chapter', title: chapter.title }).id : part;
      chapter.scenes.forEach((s, i) => addNode({ project_id: project.id, parent_id: parent, kind: 'scene', title: s.title || `Scene ${i + 1}`, text: s.text }));
    }
    return project;
  }

  /** Seeds: the default project an older library's documents migrate into, or a novel in progress. */
  function seed(kind: 'demo' | 'novel') {
    const docs = [...ctx.documents.values()].sort((a, b) => a.id - b.id);
    if (docs.length) {
      // An older library's documents, migrated into the default project as top-level scenes.
      const p = createProject({ title: 'My writing', kind: 'other' });
      p.updated_at = ctx.now() - 3600_000;
      for (const d of docs) {
        const node: NodeRow = { id: ctx.id(), project_id: p.id, parent_id: null, kind: 'scene', position: siblings(p.id, null).length, title: '', synopsis: '', pov: '', status: 'draft', target_words: null, document_id: d.id, deleted_at: null };
        nodes.set(node.id, node);
      }
    }
    if (kind !== 'novel') return;
    const p = createProject({ title: 'The Salt Road', kind: 'novel', author: 'Mara Quinn', word_goal: 80_000 });
    const add = (parent: number | null, k: NodeKind, title: string, text?: string, extra: Partial<NodeRow> = {}) => {
      const n = addNode({ project_id: p.id, parent_id: parent, kind: k, title, text });
      Object.assign(n, extra);
      return n.id;
    };
    const one = add(null, 'part', 'Part One: Ebb');
    const c1 = add(one, 'chapter', 'The Harbour Master');
    add(c1, 'scene', 'Fog at the quay', 'Fog came in off the water before dawn and sat on the quay like something that meant to stay.\n\nMara counted the bollards by feel. Eleven, twelve. The harbour master’s lamp was lit, which meant he had not slept either.', { synopsis: 'Mara arrives before dawn; the harbour master is already awake.', pov: 'Mara', status: 'revised', target_words: 1200 });
    add(c1, 'scene', 'The ledger', 'He kept the ledger in a drawer that stuck. “Nobody sails in this,” he said, and wrote her name anyway.', { synopsis: 'Her name goes in the book.', pov: 'Mara', status: 'draft', target_words: 1500 });
    const c2 = add(one, 'chapter', 'Salt and Iron');
    add(c2, 'scene', 'Ezra’s boat', 'The boat was older than Ezra and in better repair.', { pov: 'Ezra', status: 'idea' });
    const two = add(null, 'part', 'Part Two: Flood');
    const c3 = add(two, 'chapter', 'The Crossing');
    add(c3, 'scene', 'Open water', '', { status: 'idea', synopsis: 'The storm, at last.' });
    // Three weeks of writing, some days off, one day of cutting.
    const pattern = [420, 0, 610, 880, 0, 0, 350, 1020, 760, -180, 0, 540, 690, 0, 1210, 480, 0, 300, 950, 0, 640];
    let total = Math.max(0, projectWords(p.id) + 38_000);
    const today = new Date();
    for (let back = pattern.length; back >= 1; back--) {
      const written = pattern[pattern.length - back];
      if (!written) continue;
      const day = localDay(new Date(today.getFullYear(), today.getMonth(), today.getDate() - back).getTime());
      progress.set(`${p.id}:${day}`, { project_id: p.id, day, start_words: total, words: total + written });
      total += written;
    }
  }

  function handle(cmd: string, args: Record<string, unknown>): unknown {
    switch (cmd) {
      case 'list_projects':
        return [...projects.values()]
          .filter((p) => p.deleted_at === null)
          .map((p) => {
            const scenes = tree(p.id).filter((n) => n.kind === 'scene');
            const docTimes = scenes.map((n) => liveDoc(n.document_id)?.updated_at ?? 0);
            return { id: p.id, title: p.title, kind: p.kind, words: scenes.reduce((s, n) => s + n.words, 0), scenes: scenes.length, word_goal: p.word_goal, updated_at: Math.max(p.updated_at, ...docTimes) };
          })
          .sort((a, b) => b.updated_at - a.updated_at || b.id - a.id);
      case 'create_project':
        return projectView(createProject(args.project as ProjectRow));
      case 'update_project': {
        const p = liveProject(args.id as number);
        const patch = (args.patch ?? {}) as Partial<ProjectRow>;
        if (patch.title != null) {
          if (!patch.title.trim()) fail('invalid', 'a project needs a title');
          p.title = patch.title.trim();
        }
        if (patch.kind != null) p.kind = patch.kind;
        if (patch.author != null) p.author = patch.author.trim();
        if (patch.cloud_context != null) p.cloud_context = patch.cloud_context;
        if ('word_goal' in patch) {
          checkGoal(patch.word_goal ?? null);
          p.word_goal = patch.word_goal ?? null;
        }
        p.updated_at = ctx.now();
        return projectView(p);
      }
      case 'delete_project': {
        const p = liveProject(args.id as number);
        p.deleted_at = ctx.now();
        return null;
      }
      case 'restore_project': {
        const p = projects.get(args.id as number);
        if (!p) fail('not_found', `project ${args.id} does not exist`);
        p.deleted_at = null;
        return projectView(p);
      }
      case 'project_tree': {
        const p = liveProject(args.id as number);
        const list = tree(p.id);
        return { project: projectView(p), nodes: list, words: list.filter((n) => n.kind === 'scene').reduce((s, n) => s + n.words, 0) };
      }
      case 'project_progress': {
        const p = liveProject(args.id as number);
        const days = Math.min(3660, Math.max(1, (args.days as number | null) ?? 30));
        return [...progress.values()]
          .filter((r) => r.project_id === p.id)
          .sort((a, b) => b.day.localeCompare(a.day))
          .slice(0, days)
          .reverse()
          .map((r) => ({ day: r.day, words: r.words, written: r.words - r.start_words }));
      }
      case 'add_node':
        return nodeView(addNode(args.node as Parameters<typeof addNode>[0]).id);
      case 'update_node': {
        const n = liveNode(args.id as number);
        const patch = (args.patch ?? {}) as Partial<NodeRow>;
        if (patch.title != null) {
          const doc = liveDoc(n.document_id);
          if (doc) Object.assign(doc, { title: patch.title.trim() || 'Untitled scene', updated_at: ctx.now() });
          else n.title = patch.title.trim();
        }
        if (patch.synopsis != null) n.synopsis = patch.synopsis;
        if (patch.pov != null) n.pov = patch.pov.trim();
        if (patch.status != null) n.status = patch.status;
        if ('target_words' in patch) {
          const t = patch.target_words ?? null;
          if (t !== null && !(t >= 1 && t <= 10_000_000)) fail('invalid', 'a word target must be between 1 and 10,000,000');
          n.target_words = t;
        }
        touch(n.project_id);
        return nodeView(n.id);
      }
      case 'move_node':
        moveNode(args.id as number, (args.parentId as number | null) ?? null, args.index as number);
        return nodeView(args.id as number);
      case 'delete_node': {
        const n = liveNode(args.id as number);
        const stamp = ctx.now();
        for (const m of subtree(n.id, null)) {
          m.deleted_at = stamp;
          const doc = liveDoc(m.document_id);
          if (doc) doc.deleted = true;
        }
        renumber(siblings(n.project_id, n.parent_id));
        touch(n.project_id);
        return null;
      }
      case 'restore_node': {
        const n = nodes.get(args.id as number);
        if (!n) fail('not_found', `binder item ${args.id} does not exist`);
        if (n.deleted_at === null) return nodeView(n.id);
        const stamp = n.deleted_at;
        for (const m of subtree(n.id, stamp)) {
          m.deleted_at = null;
          const doc = m.document_id === null ? undefined : ctx.documents.get(m.document_id);
          if (doc) doc.deleted = false;
        }
        const parent = n.parent_id === null ? undefined : nodes.get(n.parent_id);
        if (parent && parent.deleted_at !== null) n.parent_id = null;
        const order = siblings(n.project_id, n.parent_id).filter((m) => m.id !== n.id);
        order.splice(Math.min(n.position, order.length), 0, n);
        renumber(order);
        touch(n.project_id);
        return nodeView(n.id);
      }
      case 'chapter_scenes': {
        const n = liveNode(args.id as number);
        const list = tree(n.project_id);
        const start = list.findIndex((m) => m.id === n.id);
        const inside = new Set([n.id]);
        const scenes = [];
        for (const m of list.slice(start)) {
          if (m.id !== n.id && !(m.parent_id !== null && inside.has(m.parent_id))) break;
          inside.add(m.id);
          if (m.kind === 'scene') scenes.push({ node: m, document: { ...liveDoc(m.document_id)! } });
        }
        return scenes;
      }
      case 'export_project': {
        if ('path' in args) fail('invalid', 'the webview may not choose a path');
        const p = liveProject(args.projectId as number);
        const format = String(args.format);
        if (!FORMATS.includes(format)) fail('invalid', `unknown format ${format}`);
        if (ctx.dialogPath === null) return null;
        const title = args.nodeId != null ? nodeView(args.nodeId as number).title : p.title;
        return ctx.dialogPath ?? `/home/writer/Documents/${title}.${format}`;
      }
      case 'import_manuscript': {
        const path = (args.path as string | null) ?? (ctx.dialogPath === null ? null : (ctx.dialogPath ?? '/home/writer/Documents/Harbour Lights.docx'));
        if (path === null) return null;
        const ext = path.split('.').pop()?.toLowerCase() ?? '';
        if (!IMPORTABLE.includes(ext)) fail('invalid', `${path} is not a file Atelier imports: choose a .docx, .md, .txt or .fountain file`);
        const token = `import-${ctx.id().toString(16).padStart(16, '0')}`;
        pending.set(token, IMPORTED);
        return {
          token, file_name: path.split('/').pop()!, title: IMPORTED.title, author: IMPORTED.author, kind: IMPORTED.kind,
          words: IMPORTED.chapters.flatMap((c) => c.scenes).reduce((s, x) => s + wordCount(x.text), 0),
          chapters: IMPORTED.chapters.map((c) => ({ part: c.part, title: c.title, scenes: c.scenes.map((s) => ({ title: s.title, words: wordCount(s.text), opening: s.text.split(/\s+/).slice(0, 24).join(' ') })) })),
        };
      }
      case 'accept_import': {
        const m = pending.get(String(args.token));
        if (!m) fail('invalid', 'This import preview has expired; import the file again.');
        pending.delete(String(args.token));
        return projectView(createFromManuscript(m, (args.title as string | null) ?? null, (args.kind as ProjectKind | null) ?? null));
      }
      case 'revision_diff': {
        const r = ctx.revisions.find((x) => x.id === args.revisionId);
        if (!r) fail('not_found', `revision ${args.revisionId} does not exist`);
        const doc = ctx.documents.get(r.document_id);
        return sideBySide(r.body, doc?.body ?? '');
      }
      default:
        return NOT_MINE;
    }
  }

  return {
    handle,
    seed,
    recordProgress,
    /** The project and scene a document belongs to, as runs record them. */
    sceneOf(documentId: number | null): { project_id: number | null; scene_id: number | null } {
      const n = documentId === null ? undefined : [...nodes.values()].find((x) => x.document_id === documentId && x.deleted_at === null);
      return { project_id: n?.project_id ?? null, scene_id: n?.id ?? null };
    },
  };
}
