import { describe, expect, it } from 'vitest';
import {
  ancestors,
  buildTree,
  canHold,
  dropSpot,
  dropZone,
  filterIds,
  indent,
  kindLabel,
  newChapterSpot,
  newPartSpot,
  newSceneSpot,
  outdent,
  reorder,
  subtreeIds,
  typeahead,
  visibleOrder,
  withTotals,
  type BinderItem,
  type Kind,
} from '../../src/lib/binder';

const n = (id: number, parent_id: number | null, kind: Kind, title: string, words = 0): BinderItem => ({ id, parent_id, kind, title, words });

// Depth-first, as the backend sends it:
// Part One (1)
//   Chapter 1 (2): Arrival (3), Storm (4)
//   Chapter 2 (5): Harbour (6)
// Chapter 3 (7) (top level, empty)
// Loose scene (8)
const NODES: BinderItem[] = [
  n(1, null, 'part', 'Part One', 0),
  n(2, 1, 'chapter', 'Chapter 1', 0),
  n(3, 2, 'scene', 'Arrival', 100),
  n(4, 2, 'scene', 'Storm', 50),
  n(5, 1, 'chapter', 'Chapter 2', 0),
  n(6, 5, 'scene', 'Harbour', 30),
  n(7, null, 'chapter', 'Chapter 3', 0),
  n(8, null, 'scene', 'Loose scene', 5),
];

describe('nesting rules', () => {
  it('parts only at the top, chapters at the top or in a part, scenes anywhere but in a scene', () => {
    expect(canHold(null, 'part')).toBe(true);
    expect(canHold('part', 'part')).toBe(false);
    expect(canHold('chapter', 'part')).toBe(false);
    expect(canHold('part', 'chapter')).toBe(true);
    expect(canHold('chapter', 'chapter')).toBe(false);
    expect(canHold('part', 'scene')).toBe(true);
    expect(canHold('chapter', 'scene')).toBe(true);
    expect(canHold('scene', 'scene')).toBe(false);
  });
});

describe('buildTree', () => {
  it('nests the depth-first list with levels, positions and set sizes', () => {
    const tree = buildTree(NODES);
    expect(tree.map((e) => e.node.id)).toEqual([1, 7, 8]);
    expect(tree.map((e) => [e.level, e.posinset, e.setsize])).toEqual([[1, 1, 3], [1, 2, 3], [1, 3, 3]]);
    const chapter1 = tree[0].children[0];
    expect(chapter1.node.title).toBe('Chapter 1');
    expect(chapter1.children.map((e) => [e.node.title, e.level, e.posinset, e.setsize])).toEqual([
      ['Arrival', 3, 1, 2],
      ['Storm', 3, 2, 2],
    ]);
  });

  it('shows an item whose parent is missing at the top level', () => {
    const tree = buildTree([n(3, 99, 'scene', 'Orphan')]);
    expect(tree[0].node.id).toBe(3);
  });

  it('lists visible items top to bottom, skipping collapsed children', () => {
    const tree = buildTree(NODES);
    expect(visibleOrder(tree, () => true)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(visibleOrder(tree, (id) => id !== 2)).toEqual([1, 2, 5, 6, 7, 8]);
    expect(visibleOrder(tree, (id) => id !== 1)).toEqual([1, 7, 8]);
  });
});

describe('tree queries', () => {
  it('finds ancestors and subtrees', () => {
    expect(ancestors(NODES, 4)).toEqual([2, 1]);
    expect(ancestors(NODES, 8)).toEqual([]);
    expect([...subtreeIds(NODES, 1)].sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('filters to matches and their ancestors', () => {
    expect(filterIds(NODES, '  ')).toBeNull();
    expect([...filterIds(NODES, 'storm')!].sort()).toEqual([1, 2, 4]);
    expect(filterIds(NODES, 'zzz')!.size).toBe(0);
  });

  it('sums scene words into chapters and parts', () => {
    const totals = withTotals(NODES);
    expect(totals.find((x) => x.id === 2)!.words).toBe(150);
    expect(totals.find((x) => x.id === 1)!.words).toBe(180);
    expect(totals.find((x) => x.id === 7)!.words).toBe(0);
    expect(totals.find((x) => x.id === 3)).toBe(NODES[2]);
  });
});

describe('keyboard moves', () => {
  it('Alt+Up / Alt+Down reorder among siblings and stop at the ends', () => {
    expect(reorder(NODES, 3, 1)).toEqual({ parentId: 2, index: 1 });
    expect(reorder(NODES, 4, -1)).toEqual({ parentId: 2, index: 0 });
    expect(reorder(NODES, 4, 1)).toBeNull();
    expect(reorder(NODES, 3, -1)).toBeNull();
    expect(reorder(NODES, 7, 1)).toEqual({ parentId: null, index: 2 });
  });

  it('Alt+Left moves out of the parent, right after it, where that is allowed', () => {
    expect(outdent(NODES, 4)).toEqual({ parentId: 1, index: 1 });
    expect(outdent(NODES, 2)).toEqual({ parentId: null, index: 1 });
    expect(outdent(NODES, 8)).toBeNull();
    expect(outdent(NODES, 1)).toBeNull();
  });

  it('Alt+Right moves into the previous sibling when it can hold it', () => {
    expect(indent(NODES, 4)).toBeNull(); // Arrival is a scene
    expect(indent(NODES, 5)).toBeNull(); // a chapter cannot hold a chapter
    expect(indent(NODES, 8)).toEqual({ parentId: 7, index: 0 });
    expect(indent(NODES, 7)).toEqual({ parentId: 1, index: 2 });
  });
});

describe('drag and drop', () => {
  it('splits a row into before / inside / after, or halves when it cannot hold the dragged item', () => {
    expect(dropZone(2, 32, true)).toBe('before');
    expect(dropZone(16, 32, true)).toBe('inside');
    expect(dropZone(30, 32, true)).toBe('after');
    expect(dropZone(10, 32, false)).toBe('before');
    expect(dropZone(20, 32, false)).toBe('after');
  });

  it('moves a scene into another chapter, before or after a scene, or inside a chapter', () => {
    expect(dropSpot(NODES, 3, 6, 'before')).toEqual({ parentId: 5, index: 0 });
    expect(dropSpot(NODES, 3, 6, 'after')).toEqual({ parentId: 5, index: 1 });
    expect(dropSpot(NODES, 3, 5, 'inside')).toEqual({ parentId: 5, index: 1 });
    expect(dropSpot(NODES, 3, 7, 'inside')).toEqual({ parentId: 7, index: 0 });
  });

  it('counts positions without the dragged item when it stays among its siblings', () => {
    expect(dropSpot(NODES, 3, 4, 'after')).toEqual({ parentId: 2, index: 1 });
    expect(dropSpot(NODES, 4, 3, 'before')).toEqual({ parentId: 2, index: 0 });
    expect(dropSpot(NODES, 8, 1, 'before')).toEqual({ parentId: null, index: 0 });
  });

  it('refuses what cannot nest, a drop inside itself, and a drop that changes nothing', () => {
    expect(dropSpot(NODES, 3, 4, 'inside')).toBeNull(); // scene in a scene
    expect(dropSpot(NODES, 1, 2, 'inside')).toBeNull(); // into its own subtree
    expect(dropSpot(NODES, 7, 3, 'before')).toBeNull(); // a chapter beside scenes in a chapter
    expect(dropSpot(NODES, 1, 7, 'inside')).toBeNull(); // a part inside a chapter
    expect(dropSpot(NODES, 7, 1, 'inside')).toEqual({ parentId: 1, index: 2 });
    expect(dropSpot(NODES, 3, 3, 'after')).toBeNull();
    expect(dropSpot(NODES, 3, 4, 'before')).toBeNull(); // already right before Storm
  });
});

describe('where new items go', () => {
  it('a new scene follows the focused scene, or goes last in a chapter', () => {
    expect(newSceneSpot(NODES, 3)).toEqual({ parentId: 2, index: 1 });
    expect(newSceneSpot(NODES, 5)).toEqual({ parentId: 5, index: 1 });
    expect(newSceneSpot(NODES, 1)).toEqual({ parentId: 5, index: 1 });
    expect(newSceneSpot(NODES, null)).toEqual({ parentId: 7, index: 0 });
    expect(newSceneSpot([], null)).toEqual({ parentId: null, index: 0 });
  });

  it('a new chapter follows the focused chapter or the scene’s chapter', () => {
    expect(newChapterSpot(NODES, 4)).toEqual({ parentId: 1, index: 1 });
    expect(newChapterSpot(NODES, 5)).toEqual({ parentId: 1, index: 2 });
    expect(newChapterSpot(NODES, 1)).toEqual({ parentId: 1, index: 2 });
    expect(newChapterSpot(NODES, 8)).toEqual({ parentId: null, index: 3 });
    expect(newChapterSpot(NODES, null)).toEqual({ parentId: null, index: 3 });
  });

  it('a new part goes at the top level after the focused item’s top-level ancestor', () => {
    expect(newPartSpot(NODES, 4)).toEqual({ parentId: null, index: 1 });
    expect(newPartSpot(NODES, null)).toEqual({ parentId: null, index: 3 });
  });
});

describe('labels and type-ahead', () => {
  it('names parts and chapters as acts and sequences in a screenplay', () => {
    expect(kindLabel('part', 'novel')).toBe('Part');
    expect(kindLabel('part', 'screenplay')).toBe('Act');
    expect(kindLabel('chapter', 'screenplay', true)).toBe('Sequences');
    expect(kindLabel('scene', 'screenplay')).toBe('Scene');
  });

  it('finds the next title starting with the typed prefix, wrapping round', () => {
    const order = [1, 2, 3, 4, 5];
    const titles: Record<number, string> = { 1: 'Part One', 2: 'Chapter 1', 3: 'Arrival', 4: 'Storm', 5: 'Chapter 2' };
    const title = (id: number) => titles[id];
    expect(typeahead(order, title, 1, 'c')).toBe(2);
    expect(typeahead(order, title, 2, 'c')).toBe(5);
    expect(typeahead(order, title, 5, 'c')).toBe(2);
    expect(typeahead(order, title, 2, 'ch')).toBe(2);
    expect(typeahead(order, title, 2, 'x')).toBeNull();
  });
});
