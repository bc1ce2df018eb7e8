import { afterEach, describe, expect, it } from 'vitest';
import { clearMocks } from '@tauri-apps/api/mocks';
import * as api from '../../src/lib/api';
import { installMockBackend } from '../mock-backend';

// The typed wrappers over the manuscript commands, against the mock backend (which follows the
// backend's rules: nesting, positions counted without the moved item, trash and restore in place).

afterEach(() => clearMocks());

async function book() {
  const project = await api.createProject({ title: 'The Salt Road', kind: 'novel', author: 'Mara Quinn', word_goal: 80_000 });
  const add = (parent: number | null, kind: 'part' | 'chapter' | 'scene', title: string, text?: string) =>
    api.addNode({ project_id: project.id, parent_id: parent, kind, title, text: text ?? null });
  const part = await add(null, 'part', 'Part One');
  const one = await add(part.id, 'chapter', 'Chapter 1');
  const a = await add(one.id, 'scene', 'Arrival', 'Fog on the quay.');
  const b = await add(one.id, 'scene', 'Storm', 'Rain, then wind, then rain.');
  const two = await add(part.id, 'chapter', 'Chapter 2');
  return { project, part, one, two, a, b };
}

const order = async (projectId: number) => (await api.projectTree(projectId)).nodes.map((n) => n.title);

describe('projects and the binder', () => {
  it('sends the commands with their arguments and reads the tree depth-first with totals', async () => {
    const backend = installMockBackend({ seed: 'empty' });
    expect(await api.listProjects()).toEqual([]);
    const { project, one, a } = await book();
    const tree = await api.projectTree(project.id);
    expect(tree.nodes.map((n) => [n.title, n.kind])).toEqual([
      ['Part One', 'part'],
      ['Chapter 1', 'chapter'],
      ['Arrival', 'scene'],
      ['Storm', 'scene'],
      ['Chapter 2', 'chapter'],
    ]);
    expect(tree.nodes.find((n) => n.id === one.id)!.words).toBe(9);
    expect(tree.words).toBe(9);
    expect(a.document_id).not.toBeNull();
    const [summary] = await api.listProjects();
    expect(summary).toMatchObject({ title: 'The Salt Road', words: 9, scenes: 2, word_goal: 80_000 });
    await api.moveNode(a.id, null, 0);
    expect(backend.calls.find((c) => c.cmd === 'move_node')!.args).toEqual({ id: a.id, parentId: null, index: 0 });
  });

  it('refuses what cannot nest, and counts a move’s index without the moved item', async () => {
    installMockBackend({ seed: 'empty' });
    const { project, part, one, two, a, b } = await book();
    await expect(api.moveNode(part.id, one.id, 0)).rejects.toMatchObject({ kind: 'invalid', message: 'a chapter cannot hold a part' });
    await expect(api.moveNode(a.id, b.id, 0)).rejects.toMatchObject({ kind: 'invalid' });
    await api.moveNode(a.id, one.id, 1);
    expect(await order(project.id)).toEqual(['Part One', 'Chapter 1', 'Storm', 'Arrival', 'Chapter 2']);
    await api.moveNode(a.id, two.id, 0);
    expect(await order(project.id)).toEqual(['Part One', 'Chapter 1', 'Storm', 'Chapter 2', 'Arrival']);
  });

  it('trashes an item with what is under it and restores it where it was', async () => {
    installMockBackend({ seed: 'empty' });
    const { project, one } = await book();
    await api.deleteNode(one.id);
    expect(await order(project.id)).toEqual(['Part One', 'Chapter 2']);
    await api.restoreNode(one.id);
    expect(await order(project.id)).toEqual(['Part One', 'Chapter 1', 'Arrival', 'Storm', 'Chapter 2']);
  });

  it('reads a chapter’s scenes with their text, and clears a target with null', async () => {
    installMockBackend({ seed: 'empty' });
    const { one, a } = await book();
    const scenes = await api.chapterScenes(one.id);
    expect(scenes.map((s) => [s.node.title, s.document.body])).toEqual([
      ['Arrival', 'Fog on the quay.'],
      ['Storm', 'Rain, then wind, then rain.'],
    ]);
    expect((await api.updateNode(a.id, { target_words: 1200, status: 'revised' })).target_words).toBe(1200);
    const cleared = await api.updateNode(a.id, { target_words: null });
    expect(cleared).toMatchObject({ target_words: null, status: 'revised' });
  });

  it('diffs a revision against the text now, word by word in changed paragraphs', async () => {
    installMockBackend({ seed: 'empty' });
    const { a } = await book();
    await api.saveDocument(a.document_id!, 'Arrival', 'Fog on the quay.\n\nGulls.', 'before AI: rewrite');
    await api.saveDocument(a.document_id!, 'Arrival', 'Mist on the quay.\n\nGulls.', 'autosave');
    const revisions = await api.listRevisions(a.document_id!);
    const before = revisions.find((r) => r.reason === 'before AI: rewrite')!;
    const rows = await api.revisionDiff(before.id);
    expect(rows.map((r) => r.change)).toEqual(['changed', 'same']);
    expect(rows[0].left_spans.filter((s) => s.changed).map((s) => s.text)).toEqual(['Fog']);
    expect(rows[0].right_spans.filter((s) => s.changed).map((s) => s.text)).toEqual(['Mist']);
  });

  it('previews an import before it becomes a project, and exports without sending a path', async () => {
    const backend = installMockBackend({ seed: 'empty' });
    const preview = (await api.importManuscript('/home/writer/Harbour.md'))!;
    expect(preview.file_name).toBe('Harbour.md');
    expect(await api.listProjects()).toEqual([]);
    const project = await api.acceptImport(preview.token, 'Harbour', null);
    expect(project.kind).toBe('novel');
    expect(await order(project.id)).toEqual(['Part One', 'The Crossing', 'Departure', 'At sea', 'Landfall', 'The island']);
    await expect(api.acceptImport(preview.token)).rejects.toMatchObject({ kind: 'invalid' });
    await expect(api.importManuscript('/home/writer/cover.png')).rejects.toMatchObject({ kind: 'invalid' });
    expect(await api.exportProject(project.id, null, 'epub')).toBe('/home/writer/Documents/Harbour.epub');
    expect(Object.keys(backend.calls.find((c) => c.cmd === 'export_project')!.args).sort()).toEqual(['format', 'nodeId', 'projectId']);
  });
});
