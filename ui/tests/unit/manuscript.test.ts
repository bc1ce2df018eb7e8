import { describe, expect, it } from 'vitest';
import { dropKind, exportFormats } from '../../src/lib/manuscript';

describe('export formats', () => {
  it('offers Fountain first for a screenplay and last otherwise', () => {
    expect(exportFormats('screenplay').map((f) => f.id)).toEqual(['fountain', 'docx', 'epub', 'md', 'txt']);
    expect(exportFormats('novel').map((f) => f.id)).toEqual(['docx', 'epub', 'md', 'txt', 'fountain']);
  });
});

describe('files dropped on the window', () => {
  it('sends models to Models and manuscripts to the import preview', () => {
    expect(dropKind('/models/Ministral-3-3B.Q4_K_M.GGUF')).toBe('model');
    expect(dropKind('/home/writer/Salt Road.docx')).toBe('manuscript');
    expect(dropKind('C:\\Users\\writer\\draft.fountain')).toBe('manuscript');
    expect(dropKind('/home/writer/notes.md')).toBe('manuscript');
    expect(dropKind('/home/writer/plain.txt')).toBe('manuscript');
    expect(dropKind('/home/writer/book.epub')).toBeNull();
    expect(dropKind('/home/writer/README')).toBeNull();
  });
});
