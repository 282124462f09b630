/**
 * `npm run bench -- u2pl [--json] [--profile] [--config FILE] [--set key=value] [--reps N] [--warmup N] [--backend NAME]
 * [--precision fp32|bf16] [--no-peer]`:
 * wall time of one full U2PL iteration (teacher pseudo-labels, CutMix coin, teacher train-mode pass,
 * student forward/backward with sup + unsup + contrastive losses, SGD, EMA) and of one supervised
 * iteration on the same model and batch, median of `reps` after `warmup` iterations, plus the
 * process's peak RSS. Default config: experiments/peer/u2pl-r50-c129.yaml.
 *
 * Side by side: when a python with torch is found (bench/peer.ts), the PyTorch peer
 * (bench/peer/u2pl_peer.py) builds the same network with our weights, checks once that its forward
 * equals ours, and its steps alternate with ours (peer, ours, ours, peer, …) with the same thread
 * count; the ratio is ours / peer's, medians of the same run. Without torch the table says so.
 * --precision bf16 runs our convolutions in bf16 (refused in one line where the CPU has no bf16
 * kernels) and the peer's forward passes under torch.autocast("cpu", dtype=torch.bfloat16).
 * The machinery (synthetic batch, timed step) is bench/train-step.ts, shared with `methods`.
 */
import { loadConfig } from '../src/config/load.ts';
import type { ExperimentConfig } from '../src/config/schema.ts';
import { u2pl } from '../src/methods/u2pl.ts';
import { sup } from '../src/methods/sup.ts';
import { backendFromArgs, intOption, option, options, round } from './args.ts';
import { assertPrecision, type Precision } from '../src/backend/precision.ts';
import { CHECK_TOLERANCE, checkError, findTorchPython, Peer, peerUnsupported, relative, type ForwardCheck, type StepKind } from './peer.ts';
import { median, NUM_CLASSES, peakRssMb, prepareIteration, type KernelShare } from './train-step.ts';
import type { Benchmark, BenchResult } from './types.ts';

export const PEER_CONFIG = 'experiments/peer/u2pl-r50-c129.yaml';
const TOTAL_EPOCHS = 80;

/** `--profile`: where one more (untimed) iteration spends its kernel time, top 15 kernels. */
function profileTable(title: string, shares: KernelShare[] | undefined): string {
  if (!shares) return `${title}: no profile`;
  const total = shares.reduce((s, k) => s + k.ms, 0);
  const rows = shares.slice(0, 15).map((k) => `| ${k.kernel} | ${k.calls} | ${k.ms.toFixed(0)} | ${((100 * k.ms) / total).toFixed(1)} % |`);
  return [`${title} iteration, kernel time ${total.toFixed(0)} ms:`, '', '| kernel | calls | ms | share |', '|---|---:|---:|---:|', ...rows].join('\n');
}

interface KindResult {
  ours: number[];
  peer: number[];
  error?: string;
  profile?: KernelShare[];
}

interface PeerState {
  peer: Peer | null;
  /** why there is no peer */
  reason?: string;
  check?: ForwardCheck;
}

async function startPeer(cfg: ExperimentConfig, threads: number, noPeer: boolean): Promise<PeerState> {
  if (noPeer) return { peer: null, reason: '--no-peer' };
  const unsupported = peerUnsupported(cfg);
  if (unsupported) return { peer: null, reason: `the peer cannot build this model: ${unsupported}` };
  const py = findTorchPython();
  if ('unavailable' in py) return { peer: null, reason: py.unavailable };
  const u2plCfg = u2pl.configSchema.parse(cfg.method === 'u2pl' ? cfg.methodConfig : {});
  try {
    const { peer, check } = await Peer.start(py, cfg, {
      threads, numClasses: NUM_CLASSES, u2pl: u2plCfg, epoch: Math.max(1, u2plCfg.sup_only_epoch), totalEpochs: TOTAL_EPOCHS,
    });
    const err = checkError(check);
    if (err > CHECK_TOLERANCE) {
      peer.close();
      return { peer: null, check, reason: `its forward differs from ours (relative ${err.toExponential(1)} > ${CHECK_TOLERANCE}): not timed` };
    }
    return { peer, check };
  } catch (e) {
    return { peer: null, reason: `failed to start: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** warmup + reps steps of ours and the peer's, alternating which goes first; times after warm-up. */
async function alternate(
  kind: StepKind, cfg: ExperimentConfig, peer: Peer | null, o: { reps: number; warmup: number; profile: boolean; precision: Precision },
): Promise<KindResult> {
  const runner = kind === 'sup'
    ? await prepareIteration(sup, {}, cfg)
    : await prepareIteration(u2pl, u2pl.configSchema.parse(cfg.method === 'u2pl' ? cfg.methodConfig : {}), cfg);
  const r: KindResult = { ours: [], peer: [] };
  try {
    for (let i = 0; i < o.warmup + o.reps; i++) {
      const timed = i >= o.warmup;
      const peerStep = async () => {
        if (!peer) return;
        const s = await peer.step(kind, o.precision);
        if (timed) r.peer.push(s);
      };
      if (i % 2 === 0) await peerStep();
      const s = runner.step();
      if (timed) r.ours.push(s);
      if (i % 2 === 1) await peerStep();
    }
    if (o.profile) r.profile = await runner.profile();
  } finally {
    runner.dispose();
  }
  return r;
}

const fmt = (v: number | null | undefined): string => (v == null ? '–' : String(round(v)));

export const benchmark: Benchmark = {
  async run(args: string[], progress: (line: string) => void): Promise<BenchResult> {
    const file = option(args, '--config', PEER_CONFIG);
    const reps = intOption(args, '--reps', 5, 1);
    const warmup = intOption(args, '--warmup', 2);
    const profile = args.includes('--profile');
    const backend = await backendFromArgs(args);
    const precisionArg = option(args, '--precision');
    const cfg = await loadConfig(file, [...options(args, '--set'), ...(precisionArg ? [`train.precision=${precisionArg}`] : [])]);
    const precision = cfg.train.precision;
    assertPrecision(precision, backend);
    const threads = backend.name === 'native' ? (backend.native.threads ?? 1) : 1;
    progress(`u2pl bench: ${file}, backend ${backend.name}, precision ${precision}, ${warmup} warm-up + ${reps} timed iterations each`);
    const ps = await startPeer(cfg, threads, args.includes('--no-peer'));
    if (ps.peer && precision === 'bf16' && ps.peer.info.bf16_unsupported) {
      ps.peer.close();
      ps.reason = `PyTorch's bf16 autocast does not run here: ${ps.peer.info.bf16_unsupported}`;
      ps.peer = null;
    }
    const peerLine = ps.peer
      ? `peer: PyTorch ${ps.peer.info.torch} (${ps.peer.info.python}, ${ps.peer.info.threads} threads, ${ps.peer.info.capability ?? '?'}); ` +
        `forward check max |ours − peer| / max |peer|: logits ${relative(ps.check!.logits).toExponential(1)}, rep ${relative(ps.check!.rep).toExponential(1)}`
      : `peer: not available: ${ps.reason}`;
    progress(peerLine);
    const results: Partial<Record<StepKind, KindResult>> = {};
    try {
      for (const kind of ['sup', 'u2pl'] as const) {
        try {
          results[kind] = await alternate(kind, cfg, ps.peer, { reps, warmup, profile, precision });
          const r = results[kind]!;
          progress(`${kind}: ${median(r.ours).toFixed(2)} s/iter${r.peer.length ? `, peer ${median(r.peer).toFixed(2)} s/iter` : ''}`);
        } catch (err) {
          // report a failure (e.g. the wasm 4 GB heap) next to the other figure instead of losing both
          const error = err instanceof Error ? err.message : String(err);
          results[kind] = { ours: [], peer: [], error };
          progress(`${kind}: failed: ${error}`);
        }
      }
    } finally {
      ps.peer?.close();
    }
    const peak = peakRssMb();
    const fig = (kind: StepKind) => {
      const r = results[kind]!;
      const ours = r.ours.length ? median(r.ours) : null;
      const peer = r.peer.length ? median(r.peer) : null;
      const pairs = r.peer.length === r.ours.length && peer ? r.ours.map((s, i) => s / r.peer[i]!) : [];
      return { ours, peer, ratio: ours != null && peer != null ? ours / peer : null, pairs, error: r.error };
    };
    const f = { sup: fig('sup'), u2pl: fig('u2pl') };
    const json = {
      config: file,
      backend: backend.name,
      precision,
      threads,
      reps,
      warmup,
      u2pl_iter_s: f.u2pl.ours === null ? null : round(f.u2pl.ours),
      ...(f.u2pl.error ? { u2pl_error: f.u2pl.error } : {}),
      sup_iter_s: f.sup.ours === null ? null : round(f.sup.ours),
      ...(f.sup.error ? { sup_error: f.sup.error } : {}),
      u2pl_times_s: results.u2pl!.ours.map((v) => round(v)),
      sup_times_s: results.sup!.ours.map((v) => round(v)),
      peak_rss_mb: peak,
      peer: ps.peer
        ? {
            available: true, ...ps.peer.info, forward_check: ps.check,
            u2pl_iter_s: f.u2pl.peer === null ? null : round(f.u2pl.peer), sup_iter_s: f.sup.peer === null ? null : round(f.sup.peer),
            u2pl_times_s: results.u2pl!.peer.map((v) => round(v)), sup_times_s: results.sup!.peer.map((v) => round(v)),
          }
        : { available: false, reason: ps.reason, ...(ps.check ? { forward_check: ps.check } : {}) },
      u2pl_vs_peer: f.u2pl.ratio === null ? null : round(f.u2pl.ratio),
      sup_vs_peer: f.sup.ratio === null ? null : round(f.sup.ratio),
      ...(profile ? { profile: { u2pl: results.u2pl!.profile?.slice(0, 15), sup: results.sup!.profile?.slice(0, 15) } } : {}),
    };
    const row = (title: string, k: ReturnType<typeof fig>) => {
      const spread = k.pairs.length > 1 ? ` (pairs ${round(Math.min(...k.pairs), 2)}–${round(Math.max(...k.pairs), 2)})` : '';
      return `| ${title} | ${k.error ? `failed: ${k.error}` : fmt(k.ours)} | ${fmt(k.peer)} | ${k.ratio === null ? '–' : `${round(k.ratio)}×${spread}`} |`;
    };
    const table = [
      '| iteration | sssseg (s) | PyTorch peer (s) | sssseg / peer |',
      '|---|---:|---:|---|',
      row('U2PL', f.u2pl),
      row('supervised', f.sup),
      '',
      `medians of ${reps} after ${warmup} warm-up, steps alternating with the peer; peak RSS ${peak} MB, backend ${backend.name}, ${threads} threads, precision ${precision}, ${file}`,
      peerLine,
      ...(profile ? ['', profileTable('U2PL', results.u2pl!.profile), '', profileTable('supervised', results.sup!.profile)] : []),
    ].join('\n');
    const rows = [
      { figure: 'U2PL iteration', value: f.u2pl.error ? `failed: ${f.u2pl.error}` : json.u2pl_iter_s, unit: 's' },
      { figure: 'supervised iteration', value: f.sup.error ? `failed: ${f.sup.error}` : json.sup_iter_s, unit: 's' },
      ...(ps.peer
        ? [
            { figure: 'U2PL iteration, PyTorch peer (same run)', value: f.u2pl.peer === null ? null : round(f.u2pl.peer), unit: 's' },
            { figure: 'supervised iteration, PyTorch peer (same run)', value: f.sup.peer === null ? null : round(f.sup.peer), unit: 's' },
          ]
        : []),
      { figure: 'peak RSS', value: peak, unit: 'MB' },
    ];
    return { table, json, rows, notes: [peerLine] };
  },
};
