// The catalog's background downloads as the whole app sees them: the backend pushes the full list on
// every change (watch_downloads); the status bar's chip and the Models view's cards read it here, and
// a download that finishes or fails is announced once, with a toast.
import * as api from './api';
import { app } from './app.svelte';
import { activeDownloads, downloadChanges, finishedMessage } from './catalog';
import type { DownloadState, DownloadStatus } from './types';

class Downloads {
  list = $state<DownloadState[]>([]);
  /** Goes up each time a download finishes, so views that show the library refresh. */
  finished = $state(0);
  private seen = new Map<string, DownloadStatus>();
  private watching = false;

  /** What the status bar shows: everything not yet done. */
  get active(): DownloadState[] {
    return activeDownloads(this.list);
  }

  of(entryId: string): DownloadState | undefined {
    return this.list.find((d) => d.entry_id === entryId);
  }

  async start() {
    if (this.watching) return;
    this.watching = true;
    try {
      await api.watchDownloads((list) => this.update(list));
    } catch (e) {
      this.watching = false;
      app.error(e);
    }
  }

  update(list: DownloadState[]) {
    const { finished, failed } = downloadChanges(this.seen, list);
    this.seen = new Map(list.map((d) => [d.entry_id, d.status]));
    this.list = list;
    for (const d of finished) {
      this.finished += 1;
      const modelId = d.model_id;
      // The backend loads a default-to-be itself; any other one is a click away.
      const action = !d.make_default && modelId != null ? { label: 'Use it', run: () => void app.useModel(modelId) } : undefined;
      app.toast(finishedMessage(d), 'success', action, 8000);
      void app.refreshLibrary();
    }
    for (const d of failed) {
      app.toast(`${d.name}: ${d.message ?? 'the download stopped.'}`, 'error', { label: 'Retry', run: () => void this.download(d.entry_id, d.make_default) }, 10000);
    }
  }

  /** Starts or resumes a catalog download; `makeDefault`: it becomes the model once verified. */
  async download(entryId: string, makeDefault: boolean) {
    try {
      const state = await api.startCatalogDownload(entryId, makeDefault);
      // The watch brings the same state; keep it now in case the watch is slower than the reply.
      if (!this.of(entryId) || this.of(entryId)?.status === 'failed' || this.of(entryId)?.status === 'paused') {
        this.update([...this.list.filter((d) => d.entry_id !== entryId), state]);
      }
    } catch (e) {
      app.error(e);
    }
  }

  async pause(entryId: string) {
    try {
      await api.pauseCatalogDownload(entryId);
    } catch (e) {
      app.error(e);
    }
  }
}

export const downloads = new Downloads();
