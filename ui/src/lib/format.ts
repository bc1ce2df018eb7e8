import type { StopReason } from './types';

export function formatRate(tokensPerSecond: number): string {
  if (!Number.isFinite(tokensPerSecond) || tokensPerSecond <= 0) return '– tok/s';
  return `${tokensPerSecond >= 100 ? Math.round(tokensPerSecond) : tokensPerSecond.toFixed(1)} tok/s`;
}

export function stopReasonLabel(reason: StopReason): string {
  switch (reason) {
    case 'end_of_turn':
      return 'Done.';
    case 'max_tokens':
      return 'Stopped at the length limit.';
    case 'stop_string':
      return 'Stopped at a stop sequence.';
    case 'context_full':
      return 'Stopped: the context is full.';
    case 'cancelled':
      return 'Stopped.';
  }
}
