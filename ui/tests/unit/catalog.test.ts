import { afterEach, describe, expect, it } from 'vitest';
import { clearMocks } from '@tauri-apps/api/mocks';
import * as api from '../../src/lib/api';
import {
  activeDownloads,
  cardAction,
  chipText,
  downloadChanges,
  downloadTime,
  finishedMessage,
  firstRunItem,
  formatMinutes,
  formatSize,
  machineSummary,
  percent,
  timeLeft,
} from '../../src/lib/catalog';
import type { CatalogItem, DownloadState, DownloadStatus } from '../../src/lib/types';
import { installMockBackend } from '../mock-backend';

afterEach(() => clearMocks());

const state = (over: Partial<DownloadState> = {}): DownloadState => ({
  entry_id: 'ministral-3-3b-q4_k_m', name: 'Ministral 3 3B Instruct 2512 · Q4_K_M', status: 'receiving', downloaded: 0, total: 2_145_615_808,
  bytes_per_second: null, eta_seconds: null, message: null, model_id: null, make_default: true, ...over,
});

describe('sizes and times', () => {
  it('gives sizes in decimal units, as the backend’s reasons do', () => {
    expect(formatSize(2_145_615_808)).toBe('2.1 GB');
    expect(formatSize(14_333_026_240)).toBe('14.3 GB');
    expect(formatSize(98_362_432)).toBe('98 MB');
    expect(formatSize(512)).toBe('512 B');
    expect(formatSize(null)).toBe('–');
  });

  it('rounds time up to whole minutes and says when under one', () => {
    expect(formatMinutes(20)).toBe('under a minute');
    expect(formatMinutes(61)).toBe('2 min');
    expect(formatMinutes(3600)).toBe('1 h');
    expect(formatMinutes(4900)).toBe('1 h 22 min');
    expect(timeLeft(150)).toBe('3 min left');
    expect(timeLeft(null)).toBeNull();
  });

  it('estimates a download from an earlier speed, or not at all', () => {
    expect(downloadTime(2_145_615_808, 10_000_000)).toBe('4 min');
    expect(downloadTime(2_145_615_808, null)).toBeNull();
    expect(downloadTime(2_145_615_808, 0)).toBeNull();
  });
});

describe('the status bar chip', () => {
  it('shows percent and time left while receiving', () => {
    expect(percent(state({ downloaded: 910_000_000 }))).toBe(42);
    expect(chipText(state({ downloaded: 910_000_000, eta_seconds: 150 }))).toBe('42% · 3 min left');
    expect(chipText(state({ downloaded: 910_000_000 }))).toBe('42%');
  });

  it('shows bytes when the size is unknown, and each other state in words', () => {
    expect(percent(state({ total: null }))).toBeNull();
    expect(chipText(state({ total: null, downloaded: 5_000_000 }))).toBe('5 MB');
    expect(chipText(state({ status: 'verifying' }))).toBe('checking the file…');
    expect(chipText(state({ status: 'paused', downloaded: 1_072_807_904 }))).toBe('paused at 50%');
    expect(chipText(state({ status: 'failed' }))).toBe('stopped');
  });

  it('leaves finished downloads out', () => {
    const list = [state(), state({ entry_id: 'b', status: 'done' }), state({ entry_id: 'c', status: 'failed' })];
    expect(activeDownloads(list).map((d) => d.entry_id)).toEqual(['ministral-3-3b-q4_k_m', 'c']);
  });

  it('announces a download that finished or failed once, and not one already over when the window opened', () => {
    const before = new Map<string, DownloadStatus>([['a', 'verifying'], ['b', 'receiving'], ['c', 'done']]);
    const list = [state({ entry_id: 'a', status: 'done' }), state({ entry_id: 'b', status: 'failed' }), state({ entry_id: 'c', status: 'done' }), state({ entry_id: 'd', status: 'done' })];
    const changes = downloadChanges(before, list);
    expect(changes.finished.map((d) => d.entry_id)).toEqual(['a']);
    expect(changes.failed.map((d) => d.entry_id)).toEqual(['b']);
    expect(finishedMessage(state())).toBe('Ministral 3 3B Instruct 2512 · Q4_K_M is ready and is now your model.');
    expect(finishedMessage(state({ make_default: false }))).toBe('Ministral 3 3B Instruct 2512 · Q4_K_M is ready.');
  });
});

describe('the catalog against the mock (an 8 GB laptop, and a 2 GB machine)', () => {
  it('judges each model and offers the 4-bit Ministral 3 3B first', async () => {
    installMockBackend();
    const view = await api.modelCatalog();
    const verdict = Object.fromEntries(view.items.map((i) => [i.entry.id, [i.fit.verdict, i.recommended]]));
    expect(verdict).toEqual({
      'ministral-3-3b-q4_k_m': ['runs_well', true],
      'ministral-3-3b-q8_0': ['tight', false],
      'ministral-3-8b-q4_k_m': ['tight', true],
      'mistral-small-3.2-24b-q4_k_m': ['too_big', false],
      'smollm2-135m-q4_1': ['runs_well', true],
      // Judged on OpenVINO's Intel GPU, which shares the laptop's memory.
      'mistral-7b-instruct-v0.1-int4-ov': ['tight', true],
    });
    const openvino = view.items.find((i) => i.entry.id === 'mistral-7b-instruct-v0.1-int4-ov')!;
    expect(openvino.fit.runs_on).toBe('Intel(R) Iris(R) Xe Graphics (iGPU) (OpenVINO)');
    expect(cardAction(openvino, undefined, false, null)).toEqual({
      kind: 'folder',
      command: 'huggingface-cli download OpenVINO/mistral-7b-instruct-v0.1-int4-ov --local-dir mistral-7b-instruct-v0.1-int4-ov',
    });
    expect(view.first_run).toBe('ministral-3-3b-q4_k_m');
    expect(firstRunItem(view).offer?.entry.size_bytes).toBe(2_145_615_808);
    expect(view.items.find((i) => i.entry.builtin)?.installed?.id).toBe(1);
    const summary = machineSummary(view.machine, view.items[0].fit.free_disk);
    expect(summary[0]).toBe('Memory: 8.6 GB, 5.2 GB free');
    expect(summary[1]).toBe('CPU: Intel(R) Core(TM) i7-1165G7 @ 2.80GHz, 2 threads, avx512-vnni kernels');
    expect(summary[2]).toContain('GPU: this build of Atelier runs on the CPU');
    expect(summary[3]).toBe('NPU: no NPU found');
    expect(summary[4]).toBe(
      'OpenVINO 2026.4.1-20836-e31fdb0bb5b: CPU (Intel(R) Core(TM) i7-1165G7 @ 2.80GHz), GPU (Intel(R) Iris(R) Xe Graphics (iGPU))',
    );
    expect(summary[5]).toBe('Disk: 120.0 GB free for models');
  });

  it('offers nothing on a machine too small, and says why through the first-run entry', async () => {
    installMockBackend({ machine: 'small' });
    const view = await api.modelCatalog();
    expect(view.first_run).toBeNull();
    const { offer, fallback } = firstRunItem(view);
    expect(offer).toBeNull();
    expect(fallback?.fit.reason).toBe('needs about 3.1 GB; this machine has 2.1 GB in all');
    expect(view.items.find((i) => i.entry.id === 'ministral-3-3b-q8_0')?.fit.disk_ok).toBe(false);
    // No OpenVINO in this build: the folder does not run here, and the reason says what would.
    const openvino = view.items.find((i) => i.entry.id === 'mistral-7b-instruct-v0.1-int4-ov')!;
    expect(openvino.fit.verdict).toBe('needs_openvino');
    expect(openvino.fit.reason).toContain('--features openvino');
    expect(openvino.recommended).toBe(false);
  });

  it('chooses each card’s button from its download, the library and the machine', async () => {
    installMockBackend();
    const view = await api.modelCatalog();
    const item = (id: string) => view.items.find((i) => i.entry.id === id) as CatalogItem;
    const q4 = item('ministral-3-3b-q4_k_m');
    expect(cardAction(q4, undefined, false, null)).toEqual({ kind: 'download', disabled: null });
    expect(cardAction(q4, undefined, true, null)).toEqual({ kind: 'download', disabled: 'Offline mode is on: turn it off to download' });
    expect(cardAction(item('mistral-small-3.2-24b-q4_k_m'), undefined, false, null)).toEqual({ kind: 'download', disabled: 'Too big for this machine' });
    expect(cardAction(q4, state({ downloaded: 910_000_000 }), false, null)).toEqual({ kind: 'downloading', percent: 42 });
    expect(cardAction(q4, state({ status: 'paused' }), false, null)).toEqual({ kind: 'paused', percent: 0 });
    expect(cardAction(q4, state({ status: 'failed', message: 'disk full' }), false, null)).toEqual({ kind: 'failed', message: 'disk full' });
    const smol = item('smollm2-135m-q4_1');
    expect(cardAction(smol, undefined, false, smol.installed!.path)).toEqual({ kind: 'installed', loaded: true });
    expect(cardAction(smol, undefined, false, '/elsewhere.gguf')).toEqual({ kind: 'installed', loaded: false });
  });
});

describe('catalog downloads against the mock', () => {
  it('reports progress on the watch, then joins the library as the default and loads it', async () => {
    const backend = installMockBackend({ downloadMs: 140, loadMs: 1 });
    const seen: DownloadState[][] = [];
    await api.watchDownloads((list) => seen.push(list));
    const first = await api.startCatalogDownload('ministral-3-3b-q4_k_m', true);
    expect(first).toMatchObject({ status: 'receiving', downloaded: 0, make_default: true });
    await expect.poll(() => seen.at(-1)?.[0]?.status, { timeout: 2000 }).toBe('done');
    const statuses = seen.map((l) => l[0]?.status);
    expect(statuses[0]).toBeUndefined();
    expect(statuses).toContain('receiving');
    expect(statuses).toContain('verifying');
    const done = seen.at(-1)![0];
    expect(done.downloaded).toBe(done.total);
    const models = await api.listModels();
    const added = models.find((m) => m.id === done.model_id)!;
    expect(added).toMatchObject({ name: 'Ministral 3 3B Instruct 2512', quantization: 'Q4_K_M', is_default: true });
    expect(models.filter((m) => m.is_default)).toHaveLength(1);
    expect((await api.modelCatalog()).items.find((i) => i.entry.id === 'ministral-3-3b-q4_k_m')?.installed?.id).toBe(added.id);
    expect(backend.calls.map((c) => c.cmd)).toContain('start_catalog_download');
  });

  it('pauses, keeps what arrived, and resumes from there', async () => {
    installMockBackend({ downloadMs: 600 });
    const seen: DownloadState[][] = [];
    await api.watchDownloads((list) => seen.push(list));
    await api.startCatalogDownload('ministral-3-3b-q8_0', false);
    await expect.poll(() => seen.at(-1)?.[0]?.downloaded ?? 0).toBeGreaterThan(0);
    expect(await api.pauseCatalogDownload('ministral-3-3b-q8_0')).toBe(true);
    await expect.poll(() => seen.at(-1)?.[0]?.status).toBe('paused');
    const paused = seen.at(-1)![0];
    expect(paused.message).toContain('paused');
    expect(await api.pauseCatalogDownload('ministral-3-3b-q8_0')).toBe(false);
    const resumed = await api.startCatalogDownload('ministral-3-3b-q8_0', false);
    expect(resumed.downloaded).toBe(paused.downloaded);
    await expect.poll(() => seen.at(-1)?.[0]?.status, { timeout: 3000 }).toBe('done');
  });

  it('refuses an id the catalog does not have, naming those it has', async () => {
    installMockBackend();
    await expect(api.startCatalogDownload('gpt-5', true)).rejects.toMatchObject({ kind: 'invalid' });
  });
});
