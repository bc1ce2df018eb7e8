// Writing actions: how each becomes a prompt for the model.

export type Tone = 'plainer' | 'more vivid' | 'formal' | 'playful';
export const TONES: Tone[] = ['plainer', 'more vivid', 'formal', 'playful'];

export type ActionId = 'continue' | 'rewrite' | 'shorten' | 'expand' | 'brainstorm' | 'critique' | 'custom';

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

export const SYSTEM_PROMPT =
  'You are Atelier, a careful writing partner for novelists, screenwriters and copywriters. ' +
  'Reply with the requested text only: no preamble, no explanations unless asked.';

export interface ActionInput {
  action: ActionId;
  tone?: Tone;
  instruction?: string;
  selection: string;
  /** Text before the cursor, for Continue without a selection. */
  before: string;
  document: string;
}

const tail = (text: string, chars: number) => (text.length > chars ? '…' + text.slice(text.length - chars) : text);

/** The prompt sent to the model for an action. */
export function buildPrompt(input: ActionInput): string {
  const passage = input.selection.trim();
  switch (input.action) {
    case 'continue': {
      const context = passage || tail(input.before, 3000) || tail(input.document, 3000);
      return `Continue this text in the same voice, tense and style. Write only the next paragraph.\n\n${context}`;
    }
    case 'rewrite':
      return `Rewrite this passage to be ${input.tone ?? 'plainer'}, keeping its meaning. Reply with the rewritten passage only.\n\n${passage}`;
    case 'shorten':
      return `Shorten this passage to about half its length without losing what matters. Reply with the shorter passage only.\n\n${passage}`;
    case 'expand':
      return `Expand this passage with concrete sensory detail, keeping its voice. Reply with the expanded passage only.\n\n${passage}`;
    case 'brainstorm':
      return `Brainstorm five distinct ideas for what could happen next, one line each.\n\n${passage || tail(input.document, 3000)}`;
    case 'critique':
      return `Give a candid editorial critique: what works, what drags, and three concrete suggestions.\n\n${passage || tail(input.document, 4000)}`;
    case 'custom':
      return `${(input.instruction ?? '').trim()}\n\n${passage || tail(input.document, 3000)}`.trim();
  }
}

/** Whether the action's result naturally replaces the selection (rewrites) or goes after it. */
export function replacesSelection(action: ActionId): boolean {
  return action === 'rewrite' || action === 'shorten' || action === 'expand';
}
