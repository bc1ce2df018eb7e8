// Pure helpers for the binder (a project's parts, chapters and scenes): the nested tree built from the
// flat depth-first list the backend sends, what the keyboard and drag-and-drop moves resolve to, and
// where a new item goes. The backend enforces the same nesting rules; these only decide what to ask.

export type Kind = 'part' | 'chapter' | 'scene';
export type ProjectKindName = 'novel' | 'screenplay' | 'short_fiction' | 'other';

/** The fields of a BinderNode these helpers read (a BinderNode satisfies it). */
export interface BinderItem {
  id: number;
  parent_id: number | null;
  kind: Kind;
  title: string;
  words: number;
  synopsis?: string;
}

/** Where a move or a new item goes: under `parentId` (`null`: the top level) at `index` among the
 *  siblings, counted without the moved item itself (as `moveNode` counts). */
export interface Spot {
  parentId: number | null;
  index: number;
}

export interface TreeEntry<N extends BinderItem = BinderItem> {
  node: N;
  level: number;
  /** 1-based position among the siblings, and how many there are. */
  posinset: number;
  setsize: number;
  children: TreeEntry<N>[];
}

export type DropZone = 'before' | 'after' | 'inside';

const RANK: Record<Kind, number> = { part: 0, chapter: 1, scene: 2 };

/** Whether `parent` (`null`: the top level) may hold a `child`: parts only at the top level, chapters
 *  at the top level or in a part, scenes anywhere but in a scene. */
export function canHold(parent: Kind | null, child: Kind): boolean {
  return parent === null || RANK[parent] < RANK[child];
}

/** The children of `parentId` in order (the depth-first list keeps siblings in order). */
export function childrenOf<N extends BinderItem>(nodes: readonly N[], parentId: number | null): N[] {
  return nodes.filter((n) => n.parent_id === parentId);
}

export function byId<N extends BinderItem>(nodes: readonly N[], id: number | null | undefined): N | undefined {
  return id == null ? undefined : nodes.find((n) => n.id === id);
}

/** The nested tree of the flat depth-first list. */
export function buildTree<N extends BinderItem>(nodes: readonly N[]): TreeEntry<N>[] {
  const kids = new Map<number | null, N[]>();
  const ids = new Set(nodes.map((n) => n.id));
  for (const n of nodes) {
    // A node whose parent is missing (trashed with it, or filtered out) shows at the top level.
    const parent = n.parent_id !== null && ids.has(n.parent_id) ? n.parent_id : null;
    const list = kids.get(parent);
    if (list) list.push(n);
    else kids.set(parent, [n]);
  }
  const build = (parent: number | null, level: number): TreeEntry<N>[] => {
    const list = kids.get(parent) ?? [];
    return list.map((node, i) => ({ node, level, posinset: i + 1, setsize: list.length, children: build(node.id, level + 1) }));
  };
  return build(null, 1);
}

/** The ids of the items on screen, top to bottom, with collapsed items' children hidden. */
export function visibleOrder(tree: readonly TreeEntry[], isExpanded: (id: number) => boolean): number[] {
  const out: number[] = [];
  const walk = (entries: readonly TreeEntry[]) => {
    for (const e of entries) {
      out.push(e.node.id);
      if (e.children.length && isExpanded(e.node.id)) walk(e.children);
    }
  };
  walk(tree);
  return out;
}

/** The ids of `id`'s ancestors, nearest first. */
export function ancestors(nodes: readonly BinderItem[], id: number): number[] {
  const out: number[] = [];
  let at = byId(nodes, id)?.parent_id ?? null;
  while (at !== null && !out.includes(at)) {
    out.push(at);
    at = byId(nodes, at)?.parent_id ?? null;
  }
  return out;
}

/** `id` and everything under it. */
export function subtreeIds(nodes: readonly BinderItem[], id: number): Set<number> {
  const inside = new Set([id]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const n of nodes) {
      if (n.parent_id !== null && inside.has(n.parent_id) && !inside.has(n.id)) {
        inside.add(n.id);
        grew = true;
      }
    }
  }
  return inside;
}

/** The items a filter keeps: those whose title or synopsis holds the query, with their ancestors;
 *  `null` when there is no query (everything shows). */
export function filterIds(nodes: readonly BinderItem[], query: string): Set<number> | null {
  const q = query.trim().toLowerCase();
  if (!q) return null;
  const keep = new Set<number>();
  for (const n of nodes) {
    if (`${n.title} ${n.synopsis ?? ''}`.toLowerCase().includes(q)) {
      keep.add(n.id);
      for (const a of ancestors(nodes, n.id)) keep.add(a);
    }
  }
  return keep;
}

/** Alt+Up / Alt+Down: one place up or down among the siblings; `null` at the end. */
export function reorder(nodes: readonly BinderItem[], id: number, delta: -1 | 1): Spot | null {
  const node = byId(nodes, id);
  if (!node) return null;
  const siblings = childrenOf(nodes, node.parent_id);
  const at = siblings.findIndex((n) => n.id === id) + delta;
  if (at < 0 || at >= siblings.length) return null;
  return { parentId: node.parent_id, index: at };
}

/** Alt+Left: out of its parent, right after it, where the grandparent can hold it. */
export function outdent(nodes: readonly BinderItem[], id: number): Spot | null {
  const node = byId(nodes, id);
  const parent = byId(nodes, node?.parent_id);
  if (!node || !parent) return null;
  const grandparent = byId(nodes, parent.parent_id);
  if (!canHold(grandparent?.kind ?? null, node.kind)) return null;
  const uncles = childrenOf(nodes, parent.parent_id);
  return { parentId: parent.parent_id, index: uncles.findIndex((n) => n.id === parent.id) + 1 };
}

/** Alt+Right: into the previous sibling, last, if that can hold it. */
export function indent(nodes: readonly BinderItem[], id: number): Spot | null {
  const node = byId(nodes, id);
  if (!node) return null;
  const siblings = childrenOf(nodes, node.parent_id);
  const at = siblings.findIndex((n) => n.id === id);
  const previous = siblings[at - 1];
  if (!previous || !canHold(previous.kind, node.kind)) return null;
  return { parentId: previous.id, index: childrenOf(nodes, previous.id).length };
}

/** Which part of a row the pointer is over: the top and bottom quarters place before and after it,
 *  the middle inside it (halves when it cannot hold what is dragged). */
export function dropZone(offsetY: number, height: number, canHoldDragged: boolean): DropZone {
  const y = height > 0 ? offsetY / height : 0.5;
  if (!canHoldDragged) return y < 0.5 ? 'before' : 'after';
  return y < 0.25 ? 'before' : y > 0.75 ? 'after' : 'inside';
}

/** Where dropping `dragId` on `targetId` puts it; `null` if it cannot go there (it would nest where
 *  it may not, land inside itself, or stay where it is). */
export function dropSpot(nodes: readonly BinderItem[], dragId: number, targetId: number, zone: DropZone): Spot | null {
  const drag = byId(nodes, dragId);
  const target = byId(nodes, targetId);
  if (!drag || !target || subtreeIds(nodes, dragId).has(targetId)) return null;
  let spot: Spot;
  if (zone === 'inside') {
    if (!canHold(target.kind, drag.kind)) return null;
    spot = { parentId: target.id, index: childrenOf(nodes, target.id).filter((n) => n.id !== dragId).length };
  } else {
    const parent = byId(nodes, target.parent_id);
    if (!canHold(parent?.kind ?? null, drag.kind)) return null;
    const siblings = childrenOf(nodes, target.parent_id).filter((n) => n.id !== dragId);
    const at = siblings.findIndex((n) => n.id === targetId);
    spot = { parentId: target.parent_id, index: zone === 'before' ? at : at + 1 };
  }
  if (spot.parentId === drag.parent_id && childrenOf(nodes, drag.parent_id).findIndex((n) => n.id === dragId) === spot.index) return null;
  return spot;
}

/** The nearest chapter at or above `id` (a scene's chapter). */
export function chapterOf(nodes: readonly BinderItem[], id: number): BinderItem | undefined {
  const node = byId(nodes, id);
  if (!node) return undefined;
  if (node.kind === 'chapter') return node;
  return ancestors(nodes, id).map((a) => byId(nodes, a)!).find((n) => n?.kind === 'chapter');
}

/** Where a new scene goes: right after the focused scene; last in a focused chapter; last in the last
 *  chapter of a focused part (or in the part itself); without a focus, last in the last chapter. */
export function newSceneSpot(nodes: readonly BinderItem[], focusedId: number | null): Spot {
  const focused = byId(nodes, focusedId);
  if (focused?.kind === 'scene') {
    const siblings = childrenOf(nodes, focused.parent_id);
    return { parentId: focused.parent_id, index: siblings.findIndex((n) => n.id === focused.id) + 1 };
  }
  const inside = (parent: BinderItem) => ({ parentId: parent.id, index: childrenOf(nodes, parent.id).length });
  if (focused?.kind === 'chapter') return inside(focused);
  if (focused?.kind === 'part') {
    const chapters = childrenOf(nodes, focused.id).filter((n) => n.kind === 'chapter');
    return inside(chapters.at(-1) ?? focused);
  }
  const lastChapter = nodes.filter((n) => n.kind === 'chapter').at(-1);
  return lastChapter ? inside(lastChapter) : { parentId: null, index: childrenOf(nodes, null).length };
}

/** Where a new chapter goes: after the focused chapter (or the focused scene's chapter); last in a
 *  focused part; after a loose scene; without a focus, last at the top level. */
export function newChapterSpot(nodes: readonly BinderItem[], focusedId: number | null): Spot {
  const focused = byId(nodes, focusedId);
  if (!focused) return { parentId: null, index: childrenOf(nodes, null).length };
  if (focused.kind === 'part') return { parentId: focused.id, index: childrenOf(nodes, focused.id).length };
  const anchor = chapterOf(nodes, focused.id) ?? focused;
  // A scene directly in a part or at the top level: the chapter goes after it, beside it.
  const parent = byId(nodes, anchor.parent_id);
  if (!canHold(parent?.kind ?? null, 'chapter')) return { parentId: null, index: childrenOf(nodes, null).length };
  const siblings = childrenOf(nodes, anchor.parent_id);
  return { parentId: anchor.parent_id, index: siblings.findIndex((n) => n.id === anchor.id) + 1 };
}

/** Where a new part goes: at the top level, after the focused item's top-level ancestor. */
export function newPartSpot(nodes: readonly BinderItem[], focusedId: number | null): Spot {
  const top = childrenOf(nodes, null);
  if (focusedId === null || !byId(nodes, focusedId)) return { parentId: null, index: top.length };
  const root = [focusedId, ...ancestors(nodes, focusedId)].at(-1)!;
  return { parentId: null, index: top.findIndex((n) => n.id === root) + 1 };
}

/** Parts' and chapters' word counts as the sum of the scenes under them, after a scene's count changed
 *  here (the backend sends the same totals with the tree). */
export function withTotals<N extends BinderItem>(nodes: readonly N[]): N[] {
  const totals = new Map<number, number>();
  // Children come after their parents: summing from the end reaches every parent after its children.
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i];
    const own = n.kind === 'scene' ? n.words : 0;
    const total = own + (totals.get(n.id) ?? 0);
    totals.set(n.id, total);
    if (n.parent_id !== null) totals.set(n.parent_id, (totals.get(n.parent_id) ?? 0) + total);
  }
  return nodes.map((n) => (n.kind === 'scene' || totals.get(n.id) === n.words ? n : { ...n, words: totals.get(n.id) ?? 0 }));
}

/** A binder item's kind as the writer reads it: screenplays have acts and sequences. */
export function kindLabel(kind: Kind, project: ProjectKindName | undefined, plural = false): string {
  const screenplay = project === 'screenplay';
  const one = kind === 'part' ? (screenplay ? 'Act' : 'Part') : kind === 'chapter' ? (screenplay ? 'Sequence' : 'Chapter') : 'Scene';
  return plural ? `${one}s` : one;
}

/** Type-ahead: the next visible item after `fromId` whose title starts with `prefix`, wrapping round. */
export function typeahead(order: readonly number[], titleOf: (id: number) => string, fromId: number | null, prefix: string): number | null {
  const p = prefix.toLowerCase();
  if (!p || order.length === 0) return null;
  const start = fromId === null ? -1 : order.indexOf(fromId);
  // Typing the same letter again moves on; a longer prefix may stay on the current item.
  const offset = p.length > 1 ? 0 : 1;
  for (let k = 0; k < order.length; k++) {
    const id = order[(start + offset + k + order.length) % order.length];
    if (titleOf(id).toLowerCase().startsWith(p)) return id;
  }
  return null;
}
