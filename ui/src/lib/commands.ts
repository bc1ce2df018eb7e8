// The Write view's commands: its entries in the command palette and its keyboard shortcuts.
import type { Command } from './app.svelte';

export interface WriteActions {
  newScene: () => void;
  newChapter: () => void;
  newPart: () => void;
  toggleChapterView: () => void;
  focusBinder: () => void;
  exportMenu: () => void;
  importManuscript: () => void;
  newProject: () => void;
  switchProject: () => void;
  projectSettings: () => void;
  saveRevision: () => void;
  showTab: (tab: 'scene' | 'chat' | 'revisions') => void;
  /** The Bible tab, with the keyboard in its filter. */
  showBible: () => void;
  /** A new story bible entry drafted from the selected text. */
  addToBible: () => void;
  checkContinuity: () => void;
  /** Text is selected in a scene (Ctrl+Shift+B then adds it to the bible instead of focusing the binder). */
  hasSelection: () => boolean;
}

export function writeCommands(a: WriteActions): Command[] {
  return [
    { id: 'new-scene', label: 'New scene', shortcut: 'Ctrl+N', run: a.newScene },
    { id: 'new-chapter', label: 'New chapter', shortcut: 'Ctrl+Shift+H', run: a.newChapter },
    { id: 'new-part', label: 'New part', run: a.newPart },
    { id: 'toggle-chapter-view', label: 'Toggle chapter view (the whole chapter as one text)', shortcut: 'Ctrl+Shift+D', run: a.toggleChapterView },
    { id: 'focus-binder', label: 'Focus the binder', shortcut: 'Ctrl+Shift+B', run: a.focusBinder },
    { id: 'bible-from-selection', label: 'Add selection to story bible', shortcut: 'Ctrl+Shift+B', run: a.addToBible },
    { id: 'tab-bible', label: 'Show the story bible', shortcut: 'Ctrl+Shift+L', run: a.showBible },
    { id: 'continuity', label: 'Check continuity of this scene', run: a.checkContinuity },
    { id: 'export', label: 'Export the manuscript…', shortcut: 'Ctrl+Shift+E', run: a.exportMenu },
    { id: 'import', label: 'Import a manuscript…', shortcut: 'Ctrl+O', run: a.importManuscript },
    { id: 'new-project', label: 'New project…', run: a.newProject },
    { id: 'switch-project', label: 'Switch project…', run: a.switchProject },
    { id: 'project-settings', label: 'Project settings…', run: a.projectSettings },
    { id: 'save-revision', label: 'Save a snapshot now', shortcut: 'Ctrl+S', run: a.saveRevision },
    { id: 'tab-scene', label: 'Show the scene inspector', run: () => a.showTab('scene') },
    { id: 'tab-chat', label: 'Chat about this scene', run: () => a.showTab('chat') },
    { id: 'tab-revisions', label: 'Show the scene’s history', run: () => a.showTab('revisions') },
  ];
}

/** What a key press asks of the Write view, if anything. */
export function writeShortcut(e: KeyboardEvent, a: WriteActions): (() => void) | null {
  if (!(e.ctrlKey || e.metaKey) || e.altKey) return null;
  const key = e.key.toLowerCase();
  if (!e.shiftKey && key === 'n') return a.newScene;
  if (!e.shiftKey && key === 's') return a.saveRevision;
  if (!e.shiftKey && key === 'o') return a.importManuscript;
  if (e.shiftKey && key === 'n' && !e.defaultPrevented) return a.newScene;
  if (e.shiftKey && key === 'h') return a.newChapter;
  // With text selected in a scene, Ctrl+Shift+B adds it to the story bible; else it goes to the binder.
  if (e.shiftKey && key === 'b') return a.hasSelection() ? a.addToBible : a.focusBinder;
  if (e.shiftKey && key === 'l') return a.showBible;
  if (e.shiftKey && key === 'd') return a.toggleChapterView;
  if (e.shiftKey && key === 'e') return a.exportMenu;
  return null;
}
