import { afterEach, describe, expect, it } from 'vitest';
import { clearMocks } from '@tauri-apps/api/mocks';
import * as api from '../../src/lib/api';
import type { ContextItem } from '../../src/lib/types';
import { installMockBackend } from '../mock-backend';

afterEach(() => clearMocks());

/** The novel's first scene, with a style guide and a character its text names. */
async function novel() {
  const backend = installMockBackend({ seed: 'novel', delayMs: 1, reply: ['Yes', '.'] });
  const project = (await api.listProjects()).find((p) => p.title === 'The Salt Road')!;
  const tree = await api.projectTree(project.id);
  const scenes = tree.nodes.filter((n) => n.kind === 'scene');
  const base = { project_id: project.id, aliases: [], fields: [], pinned: false };
  const style = await api.createBibleEntry({ ...base, kind: 'style_guide', name: 'House style', description: 'Past tense.' });
  const mara = await api.createBibleEntry({ ...base, kind: 'character', name: 'Mara', description: 'A pilot’s daughter.' });
  return { backend, project, first: scenes[0], second: scenes[1], style, mara };
}

const keys = (items: ContextItem[]) => items.map((i) => i.key);

describe('the context preview', () => {
  it('lists the style guide, the mentioned entry, the text and the request, and honours drops', async () => {
    const { first, style, mara } = await novel();
    const params = { action: 'continue' as const, selection: '', before: 'Mara counted the bollards.', document: '', document_id: first.document_id, dropped: [], seed: null };
    const view = await api.previewContext({ for: 'write', ...params });
    expect(keys(view.items)).toEqual([`entry:${style.id}`, `entry:${mara.id}`, 'text', 'instruction']);
    expect(view.items.find((i) => i.key === `entry:${mara.id}`)).toMatchObject({ reason: 'mentioned 1×', cloud: false, optional: true, state: 'included' });
    expect(view.items.find((i) => i.key === 'instruction')).toMatchObject({ optional: false, cloud: true });
    expect(view.tokens).toBe(view.items.reduce((n, i) => n + i.tokens, 0));

    const without = await api.previewContext({ for: 'write', ...params, dropped: [`entry:${mara.id}`] });
    expect(without.items.find((i) => i.key === `entry:${mara.id}`)!.state).toBe('dropped');
    expect(without.tokens).toBeLessThan(view.tokens);
  });

  it('reads earlier scenes’ synopses, and lets the bible go to the cloud only when the project allows', async () => {
    const { project, second } = await novel();
    const view = await api.previewFusionContext({ prompt: 'Tighten it.', document_id: second.document_id, selection: 'the ledger', dropped: [] });
    expect(view!.items.some((i) => i.kind === 'synopsis' && i.label.includes('Fog at the quay'))).toBe(true);
    expect(view!.items.filter((i) => i.kind !== 'instruction' && i.kind !== 'selection').every((i) => !i.cloud)).toBe(true);
    await api.updateProject(project.id, { cloud_context: true });
    const open = await api.previewFusionContext({ prompt: 'Tighten it.', document_id: second.document_id, dropped: [] });
    expect(open!.cloud_context).toBe(true);
    expect(open!.items.every((i) => i.cloud)).toBe(true);
    expect(await api.previewFusionContext({ prompt: 'No scene.', document_id: null })).toBeNull();
  });
});

describe('runs in context', () => {
  it('a chat turn goes to `chat`; a write records what it read, drops marked', async () => {
    const { backend, first, mara } = await novel();
    const reply = await api.chat({ question: 'Is Mara kind?', history: [], selection: '', document_id: first.document_id, dropped: [], seed: null }, () => {}).done;
    expect(reply.text).toBe('Yes.');
    expect(backend.calls.some((c) => c.cmd === 'generate')).toBe(false);

    await api.write({ action: 'continue', selection: '', before: 'Mara counted.', document: '', document_id: first.document_id, dropped: [`entry:${mara.id}`], seed: null }, () => {}).done;
    const [run] = await api.listRuns({ kind: null, mode: null, model: null, since: null, document_id: null });
    const recorded = JSON.parse((await api.getRun(run.id)).settings!) as { context: ContextItem[] };
    expect(recorded.context.find((i) => i.key === `entry:${mara.id}`)!.state).toBe('dropped');
    expect(recorded.context.find((i) => i.key === 'text')!.state).toBe('included');
  });
});
