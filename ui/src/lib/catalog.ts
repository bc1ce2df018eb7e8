// Pure helpers for the model catalog and its background downloads: sizes, time left, what the status
// bar's chip and a catalog card say. No state and no backend calls, so they are unit-tested directly.
import type { CatalogItem, CatalogView, DownloadState, DownloadStatus, FitVerdict, Machine } from './types';

export const FIT_LABELS: Record<FitVerdict, string> = {
  runs_well: 'Runs well',
  tight: 'Tight',
  too_big: 'Too big for this machine',
  needs_openvino: 'Needs OpenVINO',
};

/** Sizes as the catalog's reasons give them (decimal, like the backend and Hugging Face): "2.1 GB", "98 MB". */
export function formatSize(bytes: number | null | undefined): string {
  if (bytes == null || !Number.isFinite(bytes) || bytes < 0) return '–';
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${Math.round(bytes / 1e6)} MB`;
  if (bytes >= 1e3) return `${Math.round(bytes / 1e3)} KB`;
  return `${bytes} B`;
}

/** "under a minute", "4 min", "1 h 20 min". */
export function formatMinutes(seconds: number): string {
  if (seconds < 60) return 'under a minute';
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m ? `${h} h ${m} min` : `${h} h`;
}

/** "3 min left", or null while the backend has no estimate yet. */
export function timeLeft(seconds: number | null | undefined): string | null {
  if (seconds == null || !Number.isFinite(seconds) || seconds < 0) return null;
  return `${formatMinutes(seconds)} left`;
}

/** How long `bytes` takes at a speed measured earlier; null when there is none. */
export function downloadTime(bytes: number, bytesPerSecond: number | null | undefined): string | null {
  if (!bytesPerSecond || !Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) return null;
  return formatMinutes(bytes / bytesPerSecond);
}

/** Whole percent received (0–100), or null when the size is unknown. */
export function percent(d: Pick<DownloadState, 'downloaded' | 'total'>): number | null {
  if (!d.total || d.total <= 0) return null;
  return Math.min(100, Math.max(0, Math.floor((d.downloaded / d.total) * 100)));
}

/** What the status bar says about a download, after its name. */
export function chipText(d: DownloadState): string {
  const pct = percent(d);
  const got = pct == null ? formatSize(d.downloaded) : `${pct}%`;
  switch (d.status) {
    case 'receiving': {
      const left = timeLeft(d.eta_seconds);
      return left ? `${got} · ${left}` : got;
    }
    case 'verifying':
      return 'checking the file…';
    case 'paused':
      return `paused at ${got}`;
    case 'failed':
      return 'stopped';
    case 'done':
      return 'ready';
  }
}

/** The ones the status bar shows: finished downloads leave it (after their toast). */
export function activeDownloads(list: DownloadState[]): DownloadState[] {
  return list.filter((d) => d.status !== 'done');
}

/** Downloads that finished or failed since `before` (the statuses last seen). One not seen before
 *  (already over when the window opened) is not news. */
export function downloadChanges(before: Map<string, DownloadStatus>, list: DownloadState[]): { finished: DownloadState[]; failed: DownloadState[] } {
  const changed = (d: DownloadState, status: DownloadStatus) => d.status === status && before.has(d.entry_id) && before.get(d.entry_id) !== status;
  return { finished: list.filter((d) => changed(d, 'done')), failed: list.filter((d) => changed(d, 'failed')) };
}

/** The toast for a finished download. */
export function finishedMessage(d: DownloadState): string {
  return d.make_default ? `${d.name} is ready and is now your model.` : `${d.name} is ready.`;
}

/** What a catalog card's button does, given its download (if any) and the machine's state. */
export type CardAction =
  | { kind: 'downloading'; percent: number | null }
  | { kind: 'verifying' }
  | { kind: 'paused'; percent: number | null }
  | { kind: 'failed'; message: string }
  | { kind: 'installed'; loaded: boolean }
  | { kind: 'download'; disabled: string | null }
  /** An OpenVINO folder: fetched whole from its repository, then imported (`command` does the fetch). */
  | { kind: 'folder'; command: string };

export function cardAction(item: CatalogItem, download: DownloadState | undefined, offline: boolean, loadedPath: string | null): CardAction {
  switch (download?.status) {
    case 'receiving':
      return { kind: 'downloading', percent: percent(download) };
    case 'verifying':
      return { kind: 'verifying' };
    case 'paused':
      return { kind: 'paused', percent: percent(download) };
    case 'failed':
      return { kind: 'failed', message: download.message ?? 'The download stopped.' };
  }
  if (item.installed) return { kind: 'installed', loaded: item.installed.path === loadedPath };
  if (item.entry.format === 'openvino') return { kind: 'folder', command: folderCommand(item.entry.url) };
  if (item.fit.verdict === 'too_big') return { kind: 'download', disabled: 'Too big for this machine' };
  if (offline) return { kind: 'download', disabled: 'Offline mode is on: turn it off to download' };
  return { kind: 'download', disabled: null };
}

/** How an OpenVINO repository (https://huggingface.co/owner/name) comes down whole, into a folder of its name. */
export function folderCommand(repositoryUrl: string): string {
  const repository = repositoryUrl.replace(/^https:\/\/huggingface\.co\//, '');
  return `huggingface-cli download ${repository} --local-dir ${repository.split('/').pop()}`;
}

/** The machine in one line per part, as the catalog judged it. */
export function machineSummary(machine: Machine, freeDisk: number | null): string[] {
  const memory =
    machine.total_memory == null
      ? 'Memory: unknown'
      : `Memory: ${formatSize(machine.total_memory)}${machine.available_memory == null ? '' : `, ${formatSize(machine.available_memory)} free`}`;
  const cpu = `CPU: ${machine.cpu.name ?? 'unknown'}, ${machine.cpu.threads} threads, ${machine.cpu.kernels} kernels`;
  const gpu = machine.gpus.length
    ? `GPU: ${machine.gpus.map((g) => (g.memory ? `${g.name} (${formatSize(g.memory)})` : g.name)).join(', ')}`
    : `GPU: ${machine.gpu_note ?? 'none'}`;
  const parts = [memory, cpu, gpu, `NPU: ${machine.npu.note}`, openVinoSummary(machine)];
  if (freeDisk != null) parts.push(`Disk: ${formatSize(freeDisk)} free for models`);
  return parts;
}

/** OpenVINO's devices (the backend for NPUs and Intel GPUs), or why it has none. */
export function openVinoSummary(machine: Machine): string {
  const { devices, note, version } = machine.openvino;
  if (!devices.length) return `OpenVINO: ${note ?? 'no devices'}`;
  const listed = devices.map((d) => (d.name ? `${d.id} (${d.name})` : d.id)).join(', ');
  return `OpenVINO${version ? ` ${version}` : ''}: ${listed}`;
}

/** The entry the first-run screen offers, or (when nothing fits) the first-run family's own entry, to
 *  say why not. */
export function firstRunItem(view: CatalogView): { offer: CatalogItem | null; fallback: CatalogItem | null } {
  const offer = view.first_run ? (view.items.find((i) => i.entry.id === view.first_run) ?? null) : null;
  return { offer, fallback: offer ? null : (view.items.find((i) => i.entry.first_run) ?? null) };
}
