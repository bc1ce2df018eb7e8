// App-wide state: the current view, the model, privacy, appearance, notifications, commands.
import * as api from './api';
import type { ModelEntry, ModelStatus, PrivacyStatus } from './types';

export type View = 'write' | 'fusion' | 'history' | 'models' | 'settings' | 'privacy';

export const VIEWS: { id: View; label: string; shortcut: string }[] = [
  { id: 'write', label: 'Write', shortcut: 'Ctrl+1' },
  { id: 'fusion', label: 'Fusion', shortcut: 'Ctrl+2' },
  { id: 'history', label: 'History', shortcut: 'Ctrl+3' },
  { id: 'models', label: 'Models', shortcut: 'Ctrl+4' },
  { id: 'settings', label: 'Settings', shortcut: 'Ctrl+5' },
  { id: 'privacy', label: 'Privacy', shortcut: 'Ctrl+6' },
];

export interface Toast {
  id: number;
  kind: 'info' | 'error' | 'success';
  message: string;
  action?: { label: string; run: () => void };
}

export interface Command {
  id: string;
  label: string;
  shortcut?: string;
  run: () => void;
}

export type Theme = 'system' | 'light' | 'dark';

class AppState {
  view = $state<View>('write');
  model = $state<ModelStatus>({ state: 'loading', info: null, device: null, backend: null, error: null, load_ms: null });
  privacy = $state<PrivacyStatus>({ offline: false, cloud_models: 0, cloud_providers: [] });
  theme = $state<Theme>('system');
  fontSize = $state(17);
  toasts = $state<Toast[]>([]);
  paletteOpen = $state(false);
  /** What one view hands another: History → Write opens a document and re-runs a generation there;
   * History → Fusion sets up a recorded panel again. */
  handoff = $state<{ view: View; prompt?: string; params?: unknown; rerun?: { runId: number; action: string | null } } | null>(null);
  /** Where fused or generated text can be inserted: set by the Write view, which keeps a snapshot of the
   * text first (a revision "before AI: <action>"), so the AI change can be undone from the history. */
  insertTarget = $state<{ insert: (text: string, action?: string) => Promise<void>; replace: (text: string, action?: string) => Promise<void>; selection: () => string } | null>(null);
  currentDocumentId = $state<number | null>(null);
  /** The models in the library (the top bar's switch lists them; Models refreshes it). */
  library = $state<ModelEntry[]>([]);
  /** The first-run screen is up: set at start until the writer makes its one choice. */
  onboarding = $state(false);
  private extraCommands = $state<Command[]>([]);
  private nextToast = 0;

  async start() {
    api.watchModelStatus((s) => (this.model = s)).catch((e) => this.error(e));
    await this.refreshPrivacy();
    try {
      const settings = await api.getSettings();
      if (settings.theme === 'light' || settings.theme === 'dark' || settings.theme === 'system') this.theme = settings.theme;
      if (typeof settings.font_size === 'number') this.fontSize = settings.font_size;
      this.onboarding = settings.first_run_done !== true;
    } catch (e) {
      this.error(e);
    }
    api.uiReady().catch(() => {});
    void this.refreshLibrary();
  }

  async refreshLibrary() {
    try {
      this.library = await api.listModels();
    } catch (e) {
      this.error(e);
    }
  }

  /** Switches the on-device model; the status watch shows the load, the pill its name. */
  async useModel(id: number) {
    try {
      await api.loadModel(id);
      await this.refreshLibrary();
    } catch (e) {
      this.error(e);
    }
  }

  /** The writer made the first-run choice: the screen does not come back. */
  async finishOnboarding() {
    this.onboarding = false;
    await api.setSetting('first_run_done', true).catch((e) => this.error(e));
  }

  async refreshPrivacy() {
    try {
      this.privacy = await api.privacyStatus();
    } catch (e) {
      this.error(e);
    }
  }

  async setOffline(offline: boolean) {
    try {
      this.privacy = await api.setOffline(offline);
      this.toast(offline ? 'Offline: nothing leaves this computer.' : 'Cloud models are allowed again.', 'info');
    } catch (e) {
      this.error(e);
    }
  }

  async setTheme(theme: Theme) {
    this.theme = theme;
    await api.setSetting('theme', theme).catch((e) => this.error(e));
  }

  async setFontSize(size: number) {
    this.fontSize = Math.min(24, Math.max(13, size));
    await api.setSetting('font_size', this.fontSize).catch((e) => this.error(e));
  }

  go(view: View) {
    this.view = view;
  }

  toast(message: string, kind: Toast['kind'] = 'info', action?: Toast['action'], ms = 5000) {
    const id = this.nextToast++;
    this.toasts = [...this.toasts, { id, kind, message, action }];
    setTimeout(() => this.dismiss(id), ms);
  }

  error(e: unknown) {
    this.toast(api.toAtelierError(e).message, 'error', undefined, 8000);
  }

  dismiss(id: number) {
    this.toasts = this.toasts.filter((t) => t.id !== id);
  }

  /** Views register their own commands for the palette while they are shown. */
  registerCommands(commands: Command[]): () => void {
    this.extraCommands = [...this.extraCommands, ...commands];
    return () => {
      this.extraCommands = this.extraCommands.filter((c) => !commands.includes(c));
    };
  }

  get commands(): Command[] {
    const nav: Command[] = VIEWS.map((v) => ({ id: `go-${v.id}`, label: `Go to ${v.label}`, shortcut: v.shortcut, run: () => this.go(v.id) }));
    return [
      ...this.extraCommands,
      ...nav,
      { id: 'offline', label: this.privacy.offline ? 'Turn offline mode off' : 'Turn offline mode on', shortcut: 'Ctrl+Shift+O', run: () => this.setOffline(!this.privacy.offline) },
      { id: 'theme-light', label: 'Theme: light', run: () => this.setTheme('light') },
      { id: 'theme-dark', label: 'Theme: dark', run: () => this.setTheme('dark') },
      { id: 'theme-system', label: 'Theme: follow the system', run: () => this.setTheme('system') },
      { id: 'font-bigger', label: 'Larger text', shortcut: 'Ctrl+=', run: () => this.setFontSize(this.fontSize + 1) },
      { id: 'font-smaller', label: 'Smaller text', shortcut: 'Ctrl+-', run: () => this.setFontSize(this.fontSize - 1) },
    ];
  }
}

export const app = new AppState();

/** "Ctrl+Shift+O" matches a keyboard event (Cmd counts as Ctrl on macOS). */
export function matches(shortcut: string, e: KeyboardEvent): boolean {
  const parts = shortcut.split('+');
  const key = parts[parts.length - 1].toLowerCase();
  const ctrl = parts.includes('Ctrl');
  const shift = parts.includes('Shift');
  const eventKey = e.key === 'Enter' ? 'enter' : e.key.toLowerCase();
  return (e.ctrlKey || e.metaKey) === ctrl && e.shiftKey === shift && eventKey === key;
}
