// Writing actions as the panel shows them. The prompts, budgets and answer lengths live in Rust
// (crates/studio/src/writing.rs): the UI sends the action and its inputs.
import type { Tone, WritingAction } from './types';

export type ActionId = WritingAction;

/** Tones as the Rust side names them, with the words the menu shows. */
export const TONES: { id: Tone; label: string }[] = [
  { id: 'plainer', label: 'plainer' },
  { id: 'vivid', label: 'more vivid' },
  { id: 'formal', label: 'formal' },
  { id: 'playful', label: 'playful' },
];

export interface ActionDef {
  id: ActionId;
  label: string;
  shortcut?: string;
  /** Whether the action works on the selection (else on the text before the cursor or the document). */
  needsSelection: boolean;
  description: string;
}

export const ACTIONS: ActionDef[] = [
  { id: 'continue', label: 'Continue', shortcut: 'Ctrl+Enter', needsSelection: false, description: 'Write the next paragraph in your voice' },
  { id: 'rewrite', label: 'Rewrite', needsSelection: true, description: 'Say it again in another tone' },
  { id: 'shorten', label: 'Shorten', needsSelection: true, description: 'Tighten the passage' },
  { id: 'expand', label: 'Expand', needsSelection: true, description: 'Add detail and texture' },
  { id: 'brainstorm', label: 'Brainstorm', needsSelection: false, description: 'Ideas for where to go next' },
  { id: 'critique', label: 'Critique', needsSelection: false, description: 'An honest editorial read' },
  { id: 'custom', label: 'Ask…', needsSelection: false, description: 'Your own instruction' },
];

/** Whether the action's result naturally replaces the selection (rewrites) or goes after it. */
export function replacesSelection(action: ActionId): boolean {
  return ACTIONS.find((a) => a.id === action)?.needsSelection ?? false;
}

/** The action a History entry names: `rewrite:vivid` → rewrite. */
export function actionOf(label: string | null): ActionId | null {
  const id = (label ?? '').split(':')[0];
  return ACTIONS.some((a) => a.id === id) ? (id as ActionId) : null;
}
