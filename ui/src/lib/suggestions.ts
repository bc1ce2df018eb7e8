// Tracked changes in the editor: a panel's revision shown over the text as suggestions (the words it
// strikes, the words it puts in, whose answer they came from), accepted or rejected one by one or all
// at once. Accepting is an ordinary edit (Ctrl+Z takes it back, and the suggestion with it); rejecting
// is undoable too. Suggestions are decorations only: the saved text changes only when one is accepted.
import { invertedEffects } from '@codemirror/commands';
import { type ChangeDesc, type EditorState, type Extension, StateEffect, StateField } from '@codemirror/state';
import { Decoration, type DecorationSet, EditorView, WidgetType } from '@codemirror/view';
import type { Suggestion } from './types';

/** A suggestion as the editor holds it: positions in the text as it is now. */
export interface LiveSuggestion extends Suggestion {
  id: number;
}

function mapped(s: LiveSuggestion, changes: ChangeDesc): LiveSuggestion {
  const from = changes.mapPos(s.from, -1);
  return { ...s, from, to: Math.max(from, changes.mapPos(s.to, 1)) };
}

let nextId = 1;

const mapEffect = (list: LiveSuggestion[], changes: ChangeDesc) => list.map((s) => mapped(s, changes));
const addSuggestions = StateEffect.define<LiveSuggestion[]>({ map: mapEffect });
const removeSuggestions = StateEffect.define<LiveSuggestion[]>({ map: mapEffect });

/** An edit by the writer inside a suggested range drops that suggestion (it no longer says what to
 *  replace); accepting one removes it by its own effect. */
function touched(s: LiveSuggestion, changes: ChangeDesc): boolean {
  return changes.touchesRange(s.from, s.to) !== false;
}

const suggestionField = StateField.define<LiveSuggestion[]>({
  create: () => [],
  update(list, tr) {
    if (!list.length && !tr.effects.length) return list;
    let next = list;
    const removed = new Set<number>();
    for (const e of tr.effects) if (e.is(removeSuggestions)) for (const s of e.value) removed.add(s.id);
    if (removed.size) next = next.filter((s) => !removed.has(s.id));
    if (tr.docChanged) next = next.filter((s) => !touched(s, tr.changes)).map((s) => mapped(s, tr.changes));
    for (const e of tr.effects) {
      if (e.is(addSuggestions)) {
        const known = new Set(next.map((s) => s.id));
        next = [...next, ...e.value.filter((s) => !known.has(s.id))].sort((a, b) => a.from - b.from || a.id - b.id);
      }
    }
    return next;
  },
  provide: (field) => EditorView.decorations.from(field, decorate),
});

/** Undo brings back what a transaction took away: suggestions removed (accepted, rejected, or dropped
 *  by an edit inside them) come back, suggestions added go. */
const undoable = invertedEffects.of((tr) => {
  const effects: StateEffect<LiveSuggestion[]>[] = [];
  const removedIds = new Set<number>();
  for (const e of tr.effects) {
    if (e.is(addSuggestions)) effects.push(removeSuggestions.of(e.value));
    if (e.is(removeSuggestions)) {
      effects.push(addSuggestions.of(e.value));
      for (const s of e.value) removedIds.add(s.id);
    }
  }
  if (tr.docChanged) {
    const dropped = tr.startState.field(suggestionField).filter((s) => !removedIds.has(s.id) && touched(s, tr.changes));
    if (dropped.length) effects.push(addSuggestions.of(dropped));
  }
  return effects;
});

class InsertionWidget extends WidgetType {
  constructor(readonly suggestion: LiveSuggestion) {
    super();
  }
  eq(other: InsertionWidget) {
    return other.suggestion.id === this.suggestion.id && other.suggestion.insert === this.suggestion.insert && other.suggestion.sources.join() === this.suggestion.sources.join();
  }
  toDOM(view: EditorView) {
    const s = this.suggestion;
    const wrap = document.createElement('span');
    wrap.className = 'cm-suggestion';
    wrap.dataset.testid = 'suggestion';
    wrap.dataset.suggestionId = String(s.id);
    wrap.title = sourceLine(s);
    if (s.insert) {
      const ins = document.createElement('ins');
      ins.className = 'cm-suggest-ins';
      ins.textContent = s.insert;
      wrap.append(ins);
    }
    const button = (label: string, text: string, testid: string, run: () => void) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = `cm-suggest-btn ${testid}`;
      b.textContent = text;
      b.title = label;
      b.setAttribute('aria-label', label);
      b.dataset.testid = testid;
      b.onmousedown = (e) => e.preventDefault();
      b.onclick = (e) => {
        e.preventDefault();
        run();
      };
      return b;
    };
    wrap.append(
      button('Accept this change', '✓', 'suggestion-accept', () => acceptSuggestion(view, s.id)),
      button('Reject this change', '✕', 'suggestion-reject', () => rejectSuggestion(view, s.id)),
    );
    return wrap;
  }
  ignoreEvent() {
    return true;
  }
}

/** Who a change came from, as its tooltip says it. */
export function sourceLine(s: Suggestion): string {
  return s.sources.length ? `From ${s.sources.join(' and ')}` : 'Written by the judge';
}

function decorate(list: LiveSuggestion[]): DecorationSet {
  const ranges = [];
  for (const s of list) {
    if (s.to > s.from) ranges.push(Decoration.mark({ class: 'cm-suggest-del', attributes: { 'data-testid': 'suggestion-del', title: sourceLine(s) } }).range(s.from, s.to));
    ranges.push(Decoration.widget({ widget: new InsertionWidget(s), side: 1 }).range(s.to));
  }
  return Decoration.set(ranges, true);
}

// The passages panels are revising, followed through the writer's edits until their suggestions
// arrive (the writer keeps typing while the panel works).
const trackRange = StateEffect.define<{ id: number; from: number; to: number }>();
const untrackRange = StateEffect.define<number>();
const trackedField = StateField.define<Map<number, { from: number; to: number }>>({
  create: () => new Map(),
  update(ranges, tr) {
    let next = ranges;
    // Text typed at either edge stays outside the passage.
    if (tr.docChanged) next = new Map([...ranges].map(([id, r]) => [id, { from: tr.changes.mapPos(r.from, 1), to: Math.max(tr.changes.mapPos(r.from, 1), tr.changes.mapPos(r.to, -1)) }]));
    for (const e of tr.effects) {
      if (e.is(trackRange)) next = new Map(next).set(e.value.id, { from: e.value.from, to: e.value.to });
      if (e.is(untrackRange)) (next = new Map(next)).delete(e.value);
    }
    return next;
  },
});

export const suggestionExtension: Extension = [suggestionField, undoable, trackedField];

/** Follows the range `from`–`to` through later edits; `trackedRange` says where it is now. */
export function track(view: EditorView, from: number, to: number): number {
  const id = nextId++;
  view.dispatch({ effects: trackRange.of({ id, from, to }) });
  return id;
}

/** Stops following a range (a run that ended without a proposal). */
export function untrack(view: EditorView, id: number) {
  if (view.state.field(trackedField).has(id)) view.dispatch({ effects: untrackRange.of(id) });
}

/** Where a tracked range is now (and stops following it). */
export function trackedRange(view: EditorView, id: number): { from: number; to: number } | null {
  const range = view.state.field(trackedField).get(id) ?? null;
  view.dispatch({ effects: untrackRange.of(id) });
  return range;
}

export const suggestionsOf = (state: EditorState): LiveSuggestion[] => state.field(suggestionField, false) ?? [];


/** Shows `suggestions` (offsets into the text from `at`) over the text; the ones already shown go. */
export function propose(view: EditorView, at: number, suggestions: Suggestion[]): LiveSuggestion[] {
  const length = view.state.doc.length;
  const live = suggestions
    .map((s) => ({ ...s, id: nextId++, from: at + s.from, to: at + s.to }))
    .filter((s) => s.from <= s.to && s.to <= length && view.state.sliceDoc(s.from, s.to) === s.delete);
  const old = suggestionsOf(view.state);
  // The cursor goes to the first change: a selection drawn over the passage would hide the strike-through.
  const cursor = live.length ? { selection: { anchor: live[0].from }, scrollIntoView: true } : {};
  view.dispatch({ effects: [...(old.length ? [removeSuggestions.of(old)] : []), addSuggestions.of(live)], ...cursor });
  return live;
}

export function acceptSuggestion(view: EditorView, id: number): boolean {
  return acceptSuggestions(view, suggestionsOf(view.state).filter((s) => s.id === id));
}

export function rejectSuggestion(view: EditorView, id: number): boolean {
  return rejectSuggestions(view, suggestionsOf(view.state).filter((s) => s.id === id));
}

/** Applies `list` in one edit (one undo step). */
export function acceptSuggestions(view: EditorView, list = suggestionsOf(view.state)): boolean {
  if (!list.length) return false;
  const changes = view.state.changes(list.map((s) => ({ from: s.from, to: s.to, insert: s.insert })));
  view.dispatch({ changes, effects: removeSuggestions.of(list), userEvent: 'input.suggestion', selection: { anchor: changes.mapPos(list[list.length - 1].to, 1) } });
  return true;
}

export function rejectSuggestions(view: EditorView, list = suggestionsOf(view.state)): boolean {
  if (!list.length) return false;
  view.dispatch({ effects: removeSuggestions.of(list), userEvent: 'select.suggestion' });
  return true;
}

/** Scrolls to a suggestion and puts the cursor at it. */
export function revealSuggestion(view: EditorView, id: number) {
  const s = suggestionsOf(view.state).find((x) => x.id === id);
  if (!s) return;
  view.dispatch({ selection: { anchor: s.from }, scrollIntoView: true });
  view.focus();
}
