// What the manuscript screens name and offer: project kinds, scene statuses, export formats, and which
// dropped files are manuscripts. Pure: no backend calls.

import type { Format, ProjectKind, SceneStatus } from './types';

export const PROJECT_KINDS: { id: ProjectKind; label: string }[] = [
  { id: 'novel', label: 'Novel' },
  { id: 'short_fiction', label: 'Short fiction' },
  { id: 'screenplay', label: 'Screenplay' },
  { id: 'other', label: 'Other' },
];

export const STATUSES: { id: SceneStatus; label: string }[] = [
  { id: 'idea', label: 'Idea' },
  { id: 'draft', label: 'Draft' },
  { id: 'revised', label: 'Revised' },
  { id: 'final', label: 'Final' },
];

export const kindName = (kind: ProjectKind) => PROJECT_KINDS.find((k) => k.id === kind)?.label ?? 'Project';
export const statusName = (status: SceneStatus) => STATUSES.find((s) => s.id === status)?.label ?? status;

export interface FormatChoice {
  id: Format;
  label: string;
  detail: string;
}

const FORMATS: FormatChoice[] = [
  { id: 'docx', label: 'Word (.docx)', detail: 'standard manuscript format' },
  { id: 'epub', label: 'EPUB', detail: 'an e-book' },
  { id: 'md', label: 'Markdown', detail: 'headings and paragraphs' },
  { id: 'txt', label: 'Plain text', detail: 'no formatting' },
  { id: 'fountain', label: 'Fountain', detail: 'screenplay format' },
];

/** The export formats in the order a writer of `kind` reaches for them: Fountain first for a
 *  screenplay, last for anything else. */
export function exportFormats(kind: ProjectKind | undefined): FormatChoice[] {
  if (kind !== 'screenplay') return FORMATS;
  return [FORMATS[4], ...FORMATS.slice(0, 4)];
}

export const formatLabel = (format: Format) => FORMATS.find((f) => f.id === format)?.label ?? format;

const MANUSCRIPT_EXTENSIONS = ['docx', 'md', 'markdown', 'txt', 'fountain'];

/** What a file dropped on the window is: a model to add, a manuscript to import, or neither. */
export function dropKind(path: string): 'model' | 'manuscript' | null {
  const name = path.split(/[\\/]/).pop() ?? '';
  const ext = name.includes('.') ? name.split('.').pop()!.toLowerCase() : '';
  if (ext === 'gguf') return 'model';
  return MANUSCRIPT_EXTENSIONS.includes(ext) ? 'manuscript' : null;
}

/** Last-open ids live in the webview's storage (the backend's settings are an allowlist). */
const LAST_PROJECT = 'atelier.lastProject';
const lastNodeKey = (projectId: number) => `atelier.lastNode.${projectId}`;
const collapsedKey = (projectId: number) => `atelier.collapsed.${projectId}`;

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, value: string) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Storage full or unavailable: the app opens the first project instead.
  }
}

const readId = (key: string) => {
  const n = Number(read(key));
  return Number.isInteger(n) && n > 0 ? n : null;
};

export const remembered = {
  project: () => readId(LAST_PROJECT),
  setProject: (id: number) => write(LAST_PROJECT, String(id)),
  node: (projectId: number) => readId(lastNodeKey(projectId)),
  setNode: (projectId: number, id: number) => write(lastNodeKey(projectId), String(id)),
  collapsed: (projectId: number): number[] => {
    try {
      const ids = JSON.parse(read(collapsedKey(projectId)) ?? '[]');
      return Array.isArray(ids) ? ids.filter((x) => Number.isInteger(x)) : [];
    } catch {
      return [];
    }
  },
  setCollapsed: (projectId: number, ids: number[]) => write(collapsedKey(projectId), JSON.stringify(ids)),
};
