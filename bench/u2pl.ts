/**
 * `npm run bench -- u2pl [--json] [--profile] [--config FILE] [--set key=value] [--reps N] [--warmup N] [--backend NAME]`:
 * wall time of one full U2PL iteration (teacher pseudo-labels, CutMix coin, teacher train-mode pass,
 * student forward/backward with sup + unsup + contrastive losses, SGD, EMA) and of one supervised
 * iteration on the same model and batch, median of `reps` after `warmup` iterations, plus the
 * process's peak RSS. Default config: experiments/peer/u2pl-r50-c129.yaml, for which the official
 * PyTorch code takes 2.73 s (U2PL) and 0.97 s (supervised) per iteration on this machine's CPU.
 * The machinery (synthetic batch, timed step) is bench/train-step.ts, shared with `methods`.
 */
import { loadConfig } from '../src/config/load.ts';
import { u2pl } from '../src/methods/u2pl.ts';
import { sup } from '../src/methods/sup.ts';
import { backendFromArgs, intOption, option, options, round } from './args.ts';
import { peakRssMb, timeIteration, type KernelShare } from './train-step.ts';
import type { Benchmark, BenchResult } from './types.ts';

/** `--profile`: where one more (untimed) iteration spends its kernel time, top 15 kernels. */
function profileTable(title: string, shares: KernelShare[] | undefined): string {
  if (!shares) return `${title}: no profile`;
  const total = shares.reduce((s, k) => s + k.ms, 0);
  const rows = shares.slice(0, 15).map((k) => `| ${k.kernel} | ${k.calls} | ${k.ms.toFixed(0)} | ${((100 * k.ms) / total).toFixed(1)} % |`);
  return [`${title} iteration, kernel time ${total.toFixed(0)} ms:`, '', '| kernel | calls | ms | share |', '|---|---:|---:|---:|', ...rows].join('\n');
}

export const PEER_CONFIG = 'experiments/peer/u2pl-r50-c129.yaml';
export const PYTORCH_CPU_S = { u2pl: 2.73, sup: 0.97 };

export const benchmark: Benchmark = {
  async run(args: string[], progress: (line: string) => void): Promise<BenchResult> {
    const file = option(args, '--config', PEER_CONFIG);
    const reps = intOption(args, '--reps', 5, 1);
    const warmup = intOption(args, '--warmup', 2);
    const backend = await backendFromArgs(args);
    const cfg = await loadConfig(file, options(args, '--set'));
    progress(`u2pl bench: ${file}, backend ${backend.name}, ${warmup} warm-up + ${reps} timed iterations each`);
    const profile = args.includes('--profile');
    const supT = await timeIteration(sup, {}, cfg, { reps, warmup, profile });
    const supS = supT.median_s;
    progress(`sup: ${supS.toFixed(2)} s/iter`);
    // U2PL's student pass is on labeled + unlabeled together (twice the supervised batch); report
    // a failure (e.g. the wasm 4 GB heap) next to the supervised figure instead of losing both
    let u2plS: number | null = null;
    let u2plError: string | undefined;
    let u2plProfile: KernelShare[] | undefined;
    try {
      const t = await timeIteration(u2pl, u2pl.configSchema.parse(cfg.method === 'u2pl' ? cfg.methodConfig : {}), cfg, { reps, warmup, profile });
      u2plS = t.median_s;
      u2plProfile = t.profile;
      progress(`u2pl: ${u2plS.toFixed(2)} s/iter`);
    } catch (err) {
      u2plError = err instanceof Error ? err.message : String(err);
      progress(`u2pl: failed: ${u2plError}`);
    }
    const peak = peakRssMb();
    const json = {
      config: file,
      backend: backend.name,
      u2pl_iter_s: u2plS === null ? null : round(u2plS),
      ...(u2plError ? { u2pl_error: u2plError } : {}),
      sup_iter_s: round(supS),
      peak_rss_mb: peak,
      u2pl_vs_pytorch_cpu: u2plS === null ? null : round(u2plS / PYTORCH_CPU_S.u2pl),
      sup_vs_pytorch_cpu: round(supS / PYTORCH_CPU_S.sup),
      ...(profile ? { profile: { u2pl: u2plProfile?.slice(0, 15), sup: supT.profile?.slice(0, 15) } } : {}),
    };
    const table = [
      '| iteration | sssseg (s) | PyTorch CPU (s) | ratio |',
      '|---|---|---|---|',
      `| U2PL | ${json.u2pl_iter_s ?? `failed: ${u2plError}`} | ${PYTORCH_CPU_S.u2pl} | ${json.u2pl_vs_pytorch_cpu ?? '–'}× |`,
      `| supervised | ${json.sup_iter_s} | ${PYTORCH_CPU_S.sup} | ${json.sup_vs_pytorch_cpu}× |`,
      '',
      `peak RSS ${peak} MB, backend ${backend.name}, ${file}`,
      ...(profile ? ['', profileTable('U2PL', u2plProfile), '', profileTable('supervised', supT.profile)] : []),
    ].join('\n');
    const rows = [
      { figure: 'U2PL iteration', value: json.u2pl_iter_s ?? `failed: ${u2plError}`, unit: 's' },
      { figure: 'supervised iteration', value: json.sup_iter_s, unit: 's' },
      { figure: 'peak RSS', value: peak, unit: 'MB' },
    ];
    return { table, json, rows };
  },
};
