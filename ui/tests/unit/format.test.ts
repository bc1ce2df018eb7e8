import { describe, expect, it } from 'vitest';
import { formatRate, stopReasonLabel } from '../../src/lib/format';

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
