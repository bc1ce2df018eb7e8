// The page's editors: a SceneBlock per scene on the page (one, or a chapter's), the words on screen as
// typed, their saves, the selection, AI text put in after a snapshot, and a revision compared with the
// text and restored. What is on the page is the workspace's (workspace.svelte.ts).
import { tick } from 'svelte';
import * as api from './api';
import { app } from './app.svelte';
import type { SaveState } from './autosave';
import { wordCount } from './format';
import type { DiffRow, Document, Revision, SceneText, Suggestion } from './types';
import type { LiveSuggestion } from './suggestions';

/** Where a panel's revision goes: a passage of a scene, followed through the writer's edits. */
export interface Passage {
  documentId: number;
  trackId: number;
}
import type SceneBlock from '../components/SceneBlock.svelte';

export class Page {
  /** Words on screen per document, as typed (saved or not). */
  liveWords = $state<Record<number, number>>({});
  saveStates = $state<Record<number, SaveState>>({});
  selection = $state('');
  comparing = $state<{ revision: Revision; rows: DiffRow[] } | null>(null);
  restoring = $state(false);
  /** Bumped when the scene's history has a new revision. */
  historyVersion = $state(0);
  /** The panel's suggestions shown over each scene's text, by document id. */
  suggestions = $state<Record<number, LiveSuggestion[]>>({});
  /** The editors on the page, by document id. */
  readonly blocks: Record<number, SceneBlock | null> = {};
  /** The page's saves, together. */
  saveState = $derived.by<SaveState>(() => {
    const all = Object.values(this.saveStates);
    return all.includes('failed') ? 'failed' : all.includes('saving') ? 'saving' : all.includes('dirty') ? 'dirty' : 'saved';
  });

  private activeId: () => number | null;
  /** A save (or a restore) reached the library. */
  saved: (doc: Document, words: number) => void;

  constructor(activeId: () => number | null, saved: (doc: Document, words: number) => void) {
    this.activeId = activeId;
    this.saved = saved;
  }

  /** The editor of the scene the writer is in. */
  activeBlock = () => {
    const id = this.activeId();
    return id === null ? null : (this.blocks[id] ?? null);
  };

  words = (scenes: SceneText[]) => scenes.reduce((n, s) => n + (this.liveWords[s.document.id] ?? 0), 0);

  /** Saves every scene on the page; false when a save failed (the error is on screen, retried). */
  flush = async (): Promise<boolean> => {
    const results = await Promise.all(Object.values(this.blocks).map((b) => b?.flush() ?? Promise.resolve(true)));
    return results.every(Boolean);
  };

  /** The panels go on either way (the model reads the text on screen). */
  flushed = async (): Promise<void> => {
    await this.flush();
  };

  /** The page was emptied. */
  closed() {
    this.comparing = null;
    this.suggestions = {};
    this.saveStates = {};
    this.selection = '';
  }

  /** The page shows `list`, freshly opened. */
  opened(list: SceneText[]) {
    this.comparing = null;
    this.suggestions = {};
    this.saveStates = {};
    this.liveWords = Object.fromEntries(list.map((s) => [s.document.id, wordCount(s.document.body)]));
    this.selection = '';
  }

  /** The chapter on the page was loaded again (its editors stay as they are). */
  reloaded(list: SceneText[]) {
    for (const s of list) this.liveWords[s.document.id] ??= wordCount(s.document.body);
  }

  /** Puts AI text in the scene the writer is in, after keeping the text as it stands as a revision
   *  ("before AI: <action>"), so the change is one restore away (Ctrl+Z works too). */
  putAiText = async (how: 'insert' | 'replace', text: string, action = 'fusion') => {
    const block = this.activeBlock();
    if (!block) {
      app.toast('Open a scene first: the text goes into the scene you are in.', 'info');
      return;
    }
    const kept = await block.save(`before AI: ${action}`);
    if (!kept) {
      app.toast('The text could not be saved first, so nothing was inserted. Try again in a moment.', 'error');
      return;
    }
    if (how === 'insert') block.insertAfterSelection(text);
    else block.replaceSelection(text);
    this.historyVersion++;
  };

  suggestionsChanged = (documentId: number, list: LiveSuggestion[]) => {
    this.suggestions[documentId] = list;
  };

  /** Starts following the passage a panel will revise: the selection in the scene the writer is in
   *  (for a Continue, the point after it). */
  track = (at: 'selection' | 'end'): Passage | null => {
    const block = this.activeBlock();
    const trackId = block?.trackSelection(at === 'end') ?? null;
    return block && trackId !== null ? { documentId: block.documentId(), trackId } : null;
  };

  /** Stops following a passage whose run brought no suggestions. */
  untrack = (passage: Passage) => this.blocks[passage.documentId]?.untrack(passage.trackId);

  /** Shows a panel's revision of `original` over the text as suggestions, after keeping the text as it
   *  stands as a revision ("before AI: panel <action>"); how many are shown (0: the passage is no
   *  longer in the text as it was, or the scene is closed). */
  propose = async (passage: Passage, original: string, list: Suggestion[], action: string): Promise<number> => {
    const block = this.blocks[passage.documentId];
    if (!block) return 0;
    if (!(await block.save(`before AI: panel ${action}`))) {
      app.toast('The text could not be saved first, so the suggestions were not shown. Try again in a moment.', 'error');
      return 0;
    }
    this.historyVersion++;
    return block.proposeAt(passage.trackId, original, list, action === 'continue');
  };

  compare = async (revision: Revision) => {
    await this.flush();
    try {
      const rows = await api.revisionDiff(revision.id);
      this.comparing = { revision, rows };
      await tick();
      document.querySelector<HTMLElement>('[data-testid="diff-close"]')?.focus();
    } catch (e) {
      app.error(e);
    }
  };

  restore = async () => {
    if (!this.comparing) return;
    const { revision } = this.comparing;
    this.restoring = true;
    try {
      if (!(await this.flush())) return;
      const doc = await api.restoreRevision(revision.id);
      this.blocks[doc.id]?.setDocument(doc);
      this.liveWords[doc.id] = wordCount(doc.body);
      this.saved(doc, wordCount(doc.body));
      this.comparing = null;
      this.historyVersion++;
      app.toast('Snapshot restored.', 'success');
      await tick();
      this.blocks[doc.id]?.focusEditor();
    } catch (e) {
      app.error(e);
    } finally {
      this.restoring = false;
    }
  };

  closeCompare = () => {
    this.comparing = null;
    void tick().then(() => this.activeBlock()?.focusEditor());
  };
}
