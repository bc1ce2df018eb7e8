import { describe, expect, it } from 'vitest';
import { buildPrompt, replacesSelection } from '../../src/lib/actions';
import { matches } from '../../src/lib/app.svelte';

describe('buildPrompt', () => {
  const base = { selection: '', before: 'It was night. The sea', document: 'Title\n\nIt was night. The sea was calm.' };
  it('continues from the text before the cursor when nothing is selected', () => {
    const p = buildPrompt({ ...base, action: 'continue' });
    expect(p).toContain('next paragraph');
    expect(p.endsWith('It was night. The sea')).toBe(true);
  });
  it('rewrites the selection in the chosen tone', () => {
    const p = buildPrompt({ ...base, action: 'rewrite', tone: 'playful', selection: 'The sea was calm.' });
    expect(p).toContain('playful');
    expect(p.endsWith('The sea was calm.')).toBe(true);
  });
  it('puts a free instruction before the context', () => {
    expect(buildPrompt({ ...base, action: 'custom', instruction: 'Translate to French', selection: 'Hello' })).toBe('Translate to French\n\nHello');
  });
  it('keeps long documents to their last few thousand characters', () => {
    const long = 'x'.repeat(10_000);
    expect(buildPrompt({ action: 'critique', selection: '', before: '', document: long }).length).toBeLessThan(4200);
  });
  it('knows which actions replace the selection', () => {
    expect(replacesSelection('rewrite')).toBe(true);
    expect(replacesSelection('continue')).toBe(false);
  });
});

describe('shortcuts', () => {
  const key = (k: string, mods: Partial<KeyboardEvent> = {}) => ({ key: k, ctrlKey: false, metaKey: false, shiftKey: false, ...mods }) as KeyboardEvent;
  it('match with Ctrl or Cmd and exact modifiers', () => {
    expect(matches('Ctrl+K', key('k', { ctrlKey: true }))).toBe(true);
    expect(matches('Ctrl+K', key('k', { metaKey: true }))).toBe(true);
    expect(matches('Ctrl+K', key('k'))).toBe(false);
    expect(matches('Ctrl+Shift+O', key('O', { ctrlKey: true, shiftKey: true }))).toBe(true);
    expect(matches('Ctrl+Enter', key('Enter', { ctrlKey: true }))).toBe(true);
  });
});
