// Word goals and the per-day chart of a project: pure helpers over what `projectProgress` returns.

export interface DayWords {
  /** Local date, YYYY-MM-DD. */
  day: string;
  /** The project's words after that day. */
  words: number;
  /** Words added that day (negative when more was cut than written). */
  written: number;
}

/** A Date as the backend names a local day. */
export function localDay(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The last `days` days up to `today`, oldest first, days without writing filled in (nothing written,
 *  the total as it stood). */
export function lastDays(progress: readonly DayWords[], days: number, today = new Date()): DayWords[] {
  const known = new Map(progress.map((p) => [p.day, p]));
  const sorted = [...progress].sort((a, b) => a.day.localeCompare(b.day));
  const out: DayWords[] = [];
  for (let back = days - 1; back >= 0; back--) {
    const date = new Date(today.getFullYear(), today.getMonth(), today.getDate() - back);
    const day = localDay(date);
    const hit = known.get(day);
    if (hit) {
      out.push({ ...hit });
    } else {
      const before = sorted.filter((p) => p.day < day).at(-1);
      out.push({ day, words: before?.words ?? 0, written: 0 });
    }
  }
  return out;
}

/** How far `words` is towards `goal`, 0–100 (0 without a goal). */
export function percentOf(words: number, goal: number | null | undefined): number {
  if (!goal || goal <= 0) return 0;
  return Math.max(0, Math.min(100, Math.round((words / goal) * 100)));
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** "12 Mar" for a YYYY-MM-DD day. */
export function shortDay(day: string): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y, m - 1, d).toLocaleDateString('en-GB', { day: 'numeric', month: 'short' });
}

/** One sentence a screen reader reads for the chart. */
export function progressSummary(bars: readonly DayWords[]): string {
  if (bars.length === 0) return 'No writing recorded yet.';
  const total = bars.reduce((n, b) => n + b.written, 0);
  const days = bars.filter((b) => b.written > 0).length;
  const best = bars.reduce((a, b) => (b.written > a.written ? b : a), bars[0]);
  const span = `in the last ${bars.length} days`;
  if (days === 0) return `No words written ${span}.`;
  return `${formatCount(total)} words written ${span}, on ${days} ${days === 1 ? 'day' : 'days'}; the best day was ${shortDay(best.day)} with ${formatCount(best.written)}.`;
}

/** Bars for an SVG chart `height` high: each day's written words scaled to the largest day (cuts
 *  show as short bars below the baseline). */
export function barHeights(bars: readonly DayWords[], height: number): { up: number; down: number }[] {
  const max = Math.max(1, ...bars.map((b) => Math.abs(b.written)));
  return bars.map((b) => {
    const h = b.written === 0 ? 0 : Math.max(2, Math.round((Math.abs(b.written) / max) * height));
    return b.written >= 0 ? { up: h, down: 0 } : { up: 0, down: Math.min(h, Math.round(height / 4)) };
  });
}
