import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatRate, formatUsd, fuzzyScore, highlightParts, lineDiff, relativeTime, stopReasonLabel, wordCount } from '../../src/lib/format';

describe('formatRate', () => {
  it('shows one decimal below 100 and none above', () => {
    expect(formatRate(14.26)).toBe('14.3 tok/s');
    expect(formatRate(173.4)).toBe('173 tok/s');
  });
  it('shows a dash when there is no rate yet', () => {
    expect(formatRate(0)).toBe('– tok/s');
    expect(formatRate(Number.NaN)).toBe('– tok/s');
  });
});

describe('stopReasonLabel', () => {
  it('explains every stop reason', () => {
    expect(stopReasonLabel('cancelled')).toBe('Stopped.');
    expect(stopReasonLabel('max_tokens')).toMatch(/length limit/);
    expect(stopReasonLabel('context_full')).toMatch(/context/);
  });
});

describe('units', () => {
  it('formats bytes, money, durations and counts', () => {
    expect(formatBytes(98_362_432)).toBe('93.8 MB');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatUsd(0)).toBe('$0');
    expect(formatUsd(0.00042)).toBe('$0.0004');
    expect(formatUsd(1.5)).toBe('$1.50');
    expect(formatDuration(75)).toBe('1 min 15 s');
    expect(formatDuration(null)).toBe('–');
    expect(wordCount('  one two\nthree ')).toBe(3);
    expect(wordCount('')).toBe(0);
  });
  it('says how long ago', () => {
    const now = 1_700_000_000_000;
    expect(relativeTime(now - 10_000, now)).toBe('just now');
    expect(relativeTime(now - 5 * 60_000, now)).toBe('5 min ago');
    expect(relativeTime(now - 3 * 3600_000, now)).toBe('3 h ago');
  });
});

describe('highlightParts', () => {
  it('splits search snippets on the private-use markers, never parsing HTML', () => {
    expect(highlightParts('the \uE000gulls\uE001 and <b>\uE000gull\uE001s')).toEqual([
      { text: 'the ', mark: false },
      { text: 'gulls', mark: true },
      { text: ' and <b>', mark: false },
      { text: 'gull', mark: true },
      { text: 's', mark: false },
    ]);
  });
});

describe('lineDiff', () => {
  it('marks added and removed lines', () => {
    expect(lineDiff('a\nb\nc', 'a\nc\nd')).toEqual([
      { kind: 'same', text: 'a' },
      { kind: 'removed', text: 'b' },
      { kind: 'same', text: 'c' },
      { kind: 'added', text: 'd' },
    ]);
  });
});

describe('fuzzyScore', () => {
  it('prefers substrings, accepts subsequences, rejects the rest', () => {
    expect(fuzzyScore('hist', 'Go to History')).toBeGreaterThan(fuzzyScore('gth', 'Go to History'));
    expect(fuzzyScore('gth', 'Go to History')).toBeGreaterThan(0);
    expect(fuzzyScore('xyz', 'Go to History')).toBe(-1);
  });
});
