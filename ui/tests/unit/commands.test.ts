import { describe, expect, it, vi } from 'vitest';
import { writeCommands, writeShortcut, type WriteActions } from '../../src/lib/commands';

const actions = (selected: boolean): WriteActions => ({
  newScene: vi.fn(), newChapter: vi.fn(), newPart: vi.fn(), toggleChapterView: vi.fn(), focusBinder: vi.fn(), exportMenu: vi.fn(),
  importManuscript: vi.fn(), newProject: vi.fn(), switchProject: vi.fn(), projectSettings: vi.fn(), saveRevision: vi.fn(), showTab: vi.fn(),
  showBible: vi.fn(), addToBible: vi.fn(), checkContinuity: vi.fn(), hasSelection: () => selected,
});
const key = (k: string, shift = true) => new KeyboardEvent('keydown', { key: k, ctrlKey: true, shiftKey: shift });

describe('the Write view’s story bible shortcuts', () => {
  it('Ctrl+Shift+B adds the selection to the bible, or focuses the binder when nothing is selected', () => {
    const some = actions(true);
    expect(writeShortcut(key('B'), some)).toBe(some.addToBible);
    const none = actions(false);
    expect(writeShortcut(key('B'), none)).toBe(none.focusBinder);
  });
  it('Ctrl+Shift+L shows the Bible tab', () => {
    const a = actions(false);
    expect(writeShortcut(key('L'), a)).toBe(a.showBible);
  });
  it('the palette lists adding the selection and the continuity check', () => {
    const labels = writeCommands(actions(false)).map((c) => c.label);
    expect(labels).toContain('Add selection to story bible');
    expect(labels).toContain('Check continuity of this scene');
    expect(labels).toContain('Show the story bible');
  });
});
