// The panel the writer set up, shared by the Fusion page (where it is edited) and the Assist panel's
// "Ask the panel" (where it runs on the selection). The library keeps it between sessions.
import { untrack } from 'svelte';
import * as api from './api';
import { app } from './app.svelte';
import type { FusionParams, PanelChoice } from './types';

const SAVE_DELAY_MS = 400;

class PanelStore {
  choice = $state<PanelChoice | null>(null);
  /** The Assist panel sends its actions to the panel instead of the on-device model. */
  assist = $state(false);
  private loading: Promise<PanelChoice | null> | null = null;
  private saveTimer: ReturnType<typeof setTimeout> | undefined;

  load(): Promise<PanelChoice | null> {
    if (this.choice) return Promise.resolve(this.choice);
    this.loading ??= api
      .panelChoice()
      .then((choice) => (this.choice = choice))
      .catch((e) => {
        app.error(e);
        this.loading = null;
        return null;
      });
    return this.loading;
  }

  /** Keeps the writer's change (saved a moment later, so typing in a field saves once). */
  update(patch: Partial<PanelChoice>) {
    // Read without subscribing: an effect that calls this must not re-run on its own write.
    const current = untrack(() => this.choice);
    if (!current) return;
    const choice = { ...current, ...patch };
    this.choice = choice;
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => void api.savePanelChoice(choice).catch((e) => app.error(e)), SAVE_DELAY_MS);
  }

  /** Offline, or with fewer than two members, the panel is samples of the on-device model. */
  selfFusion = $derived(app.privacy.offline || (this.choice?.members.length ?? 0) < 2);

  /** The panel's part of a run's parameters. */
  params(): Partial<FusionParams> {
    const c = this.choice;
    if (!c) return {};
    return {
      members: this.selfFusion ? [] : c.members,
      judge: this.selfFusion ? null : c.judge,
      mode: c.mode,
      rounds: c.rounds,
      budget_usd: c.budget_usd,
      max_tokens: c.max_tokens,
      personas: c.personas,
      self_fusion: this.selfFusion ? c.samples : null,
    };
  }

  /** The panel in a line: who answers and who judges. */
  summary(): string {
    const c = this.choice;
    if (!c) return 'Loading the panel…';
    if (this.selfFusion) return `Self-fusion: ${c.samples} on-device samples, judged on this computer`;
    const name = (id: string) => (id === 'local' || id.startsWith('local@') ? 'on-device' : id.replace(':', ' · '));
    return `${c.members.map(name).join(', ')} · judge ${name(c.judge ?? c.members[0])} · ${c.mode}`;
  }
}

export const panel = new PanelStore();
