// A fusion panel's members as their events arrive: what the Fusion page's columns and the Assist
// panel's list both show (queued, writing, retrying, done with its tokens, or failed with the reason).
import type { FusionEvent, MemberInfo } from './types';

export interface Seat {
  info: MemberInfo;
  text: string;
  round: number;
  status: 'waiting' | 'queued' | 'streaming' | 'done' | 'failed' | 'retrying';
  tokens: number;
  latency?: number;
  cost?: number | null;
  error?: string;
}

/** The seats after `e`: a new list when the run starts, else the same list with its member updated. */
export function seatsAfter(seats: Seat[], e: FusionEvent): Seat[] {
  if (e.type === 'run_started') return e.members.map((info) => ({ info, text: '', round: 0, status: 'waiting', tokens: 0 }));
  if (!('member' in e) || !seats[e.member]) return seats;
  const seat = seats[e.member];
  switch (e.type) {
    case 'member_queued':
      seat.status = 'queued';
      break;
    case 'member_started':
      if (e.round > 0) seat.text = '';
      seat.round = e.round;
      seat.status = 'streaming';
      break;
    case 'member_delta':
      seat.text += e.text;
      seat.tokens += 1;
      break;
    case 'member_retrying':
      seat.status = 'retrying';
      seat.error = `${e.reason} — retrying`;
      break;
    case 'member_finished':
      seat.status = 'done';
      seat.error = undefined;
      seat.tokens = e.usage.completion_tokens;
      seat.latency = e.latency_ms;
      seat.cost = e.usage.cost_usd;
      break;
    case 'member_failed':
      seat.status = 'failed';
      seat.error = e.error;
      break;
  }
  return seats;
}

/** How a seat is named: the on-device model by its name, a cloud one with its provider. */
export const seatName = (seat: Seat) => (seat.info.provider === 'local' ? seat.info.model : `${seat.info.provider} · ${seat.info.model}`);
