import { describe, expect, it } from 'vitest';
import { actionOf, replacesSelection } from '../../src/lib/actions';
import { matches } from '../../src/lib/app.svelte';

describe('writing actions', () => {
  it('know which replace the selection', () => {
    expect(replacesSelection('rewrite')).toBe(true);
    expect(replacesSelection('shorten')).toBe(true);
    expect(replacesSelection('continue')).toBe(false);
    expect(replacesSelection('critique')).toBe(false);
  });
  it('are read back from the label History keeps', () => {
    expect(actionOf('rewrite:vivid')).toBe('rewrite');
    expect(actionOf('continue')).toBe('continue');
    expect(actionOf('chat')).toBeNull();
    expect(actionOf(null)).toBeNull();
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
