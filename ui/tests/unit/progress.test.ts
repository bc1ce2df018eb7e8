import { describe, expect, it } from 'vitest';
import { barHeights, lastDays, localDay, percentOf, progressSummary } from '../../src/lib/progress';

describe('lastDays', () => {
  it('fills the days without writing, carrying the total forward', () => {
    const today = new Date(2026, 2, 14);
    const bars = lastDays(
      [
        { day: '2026-03-10', words: 1000, written: 400 },
        { day: '2026-03-12', words: 1300, written: 300 },
        { day: '2026-03-14', words: 1250, written: -50 },
      ],
      6,
      today,
    );
    expect(bars.map((b) => b.day)).toEqual(['2026-03-09', '2026-03-10', '2026-03-11', '2026-03-12', '2026-03-13', '2026-03-14']);
    expect(bars.map((b) => b.written)).toEqual([0, 400, 0, 300, 0, -50]);
    expect(bars.map((b) => b.words)).toEqual([0, 1000, 1000, 1300, 1300, 1250]);
  });

  it('names local days as the backend does', () => {
    expect(localDay(new Date(2026, 0, 5))).toBe('2026-01-05');
  });
});

describe('goals and the chart', () => {
  it('clamps progress to 0–100 and reads 0 without a goal', () => {
    expect(percentOf(500, 1000)).toBe(50);
    expect(percentOf(5000, 1000)).toBe(100);
    expect(percentOf(500, null)).toBe(0);
  });

  it('scales bars to the best day, cuts below the line', () => {
    const h = barHeights(
      [
        { day: 'a', words: 0, written: 100 },
        { day: 'b', words: 0, written: 50 },
        { day: 'c', words: 0, written: 0 },
        { day: 'd', words: 0, written: -100 },
      ],
      40,
    );
    expect(h).toEqual([{ up: 40, down: 0 }, { up: 20, down: 0 }, { up: 0, down: 0 }, { up: 0, down: 10 }]);
  });

  it('summarises the days for a screen reader', () => {
    expect(progressSummary([])).toBe('No writing recorded yet.');
    expect(progressSummary([{ day: '2026-03-12', words: 10, written: 0 }])).toBe('No words written in the last 1 days.');
    expect(
      progressSummary([
        { day: '2026-03-12', words: 300, written: 300 },
        { day: '2026-03-13', words: 1500, written: 1200 },
      ]),
    ).toBe('1,500 words written in the last 2 days, on 2 days; the best day was 13 Mar with 1,200.');
  });
});
