/**
 * The comparison half of `bench/backend-diff.ts`: two backends' records of the same cases, reduced
 * to relative differences (loss terms, per-parameter gradients, eval-mode outputs).
 */
import { unpack, type BackendRecord, type StepRecord } from './backend-diff-step.ts';

export interface TermDiff {
  term: string;
  ref: number;
  other: number;
  /** |other − ref| / |ref| (absolute difference where ref is 0) */
  rel: number;
}

export interface GradDiff {
  params: number;
  /**
   * parameters whose gradient is zero up to rounding (norm < NULL_GRAD × the median norm): conv
   * biases right before a training-mode BatchNorm, which removes any per-channel shift, so their
   * exact gradient is 0 and a ratio of two rounding residues says nothing about the kernels; and
   * parameters outside the loss (the representation head with the contrastive loss off)
   */
  nullGrads: string[];
  /** ||g_other − g_ref|| / ||g_ref||, over the other parameters */
  max: number;
  median: number;
  /** the same over all parameters as one vector */
  global: number;
  worst: Array<{ param: string; rel: number; norm: number }>;
}

/** see GradDiff.nullGrads */
export const NULL_GRAD = 1e-4;

export interface OutputDiff {
  output: string;
  /** ||o_other − o_ref|| / ||o_ref|| */
  rel: number;
  /** max |o_other − o_ref| / max |o_ref| */
  maxRel: number;
  /** logits: pixels whose argmax differs, of all pixels */
  argmaxFlips?: number;
  pixels?: number;
}

export interface CaseDiff {
  case: string;
  method: string;
  iteration: number;
  semiIteration: number;
  terms: TermDiff[];
  /** logged scalars that are not loss terms (kept_frac, ...), both backends */
  scalars: Array<{ name: string; ref: number; other: number }>;
  grads: GradDiff;
  eval: OutputDiff[];
}

/** ||a − b|| and ||a|| in double precision. */
function norms(a: Float32Array, b: Float32Array): { diff: number; ref: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let d = 0;
  let r = 0;
  for (let i = 0; i < a.length; i++) {
    const e = a[i]! - b[i]!;
    d += e * e;
    r += a[i]! * a[i]!;
  }
  return { diff: Math.sqrt(d), ref: Math.sqrt(r) };
}

/** diff / ref, 0 when both are 0 (a parameter without gradient on either backend). */
const ratio = (diff: number, ref: number): number => (ref > 0 ? diff / ref : diff > 0 ? Infinity : 0);

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : 0;
}

function gradDiff(ref: StepRecord, other: StepRecord): GradDiff {
  const rows: Array<{ param: string; rel: number; norm: number }> = [];
  let d2 = 0;
  let r2 = 0;
  for (const [param, packed] of Object.entries(ref.grads)) {
    const o = other.grads[param];
    if (!o) throw new Error(`${ref.case}: parameter ${param} has no gradient on the other backend`);
    const n = norms(unpack(packed), unpack(o));
    d2 += n.diff * n.diff;
    r2 += n.ref * n.ref;
    rows.push({ param, rel: ratio(n.diff, n.ref), norm: n.ref });
  }
  const floor = NULL_GRAD * median(rows.map((r) => r.norm));
  const kept = rows.filter((r) => r.norm >= floor);
  const rels = kept.map((r) => r.rel);
  return {
    params: rows.length,
    nullGrads: rows.filter((r) => r.norm < floor).map((r) => r.param),
    max: rels.length ? Math.max(...rels) : 0,
    median: median(rels),
    global: ratio(Math.sqrt(d2), Math.sqrt(r2)),
    worst: [...kept].sort((a, b) => b.rel - a.rel).slice(0, 5),
  };
}

function outputDiff(name: string, a: Float32Array, b: Float32Array, channels: number | null): OutputDiff {
  const n = norms(a, b);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < a.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
    maxRef = Math.max(maxRef, Math.abs(a[i]!));
  }
  const out: OutputDiff = { output: name, rel: ratio(n.diff, n.ref), maxRel: ratio(maxDiff, maxRef) };
  if (channels) {
    const argmax = (t: Float32Array, p: number) => {
      let best = 0;
      for (let k = 1; k < channels; k++) if (t[p * channels + k]! > t[p * channels + best]!) best = k;
      return best;
    };
    const pixels = a.length / channels;
    let flips = 0;
    for (let p = 0; p < pixels; p++) if (argmax(a, p) !== argmax(b, p)) flips++;
    Object.assign(out, { argmaxFlips: flips, pixels });
  }
  return out;
}

function caseDiff(ref: StepRecord, other: StepRecord, classes: number): CaseDiff {
  const names = Object.keys(ref.logs);
  const terms = names.filter((k) => k.startsWith('loss')).map((term) => {
    const [a, b] = [ref.logs[term]!, other.logs[term] ?? NaN];
    return { term, ref: a, other: b, rel: a !== 0 ? Math.abs(b - a) / Math.abs(a) : Math.abs(b - a) };
  });
  const scalars = names.filter((k) => !k.startsWith('loss')).map((name) => ({ name, ref: ref.logs[name]!, other: other.logs[name] ?? NaN }));
  const evalDiffs = Object.keys(ref.eval).map((k) =>
    outputDiff(k, unpack(ref.eval[k]!), unpack(other.eval[k] ?? ''), k.endsWith('.logits') ? classes : null),
  );
  return { case: ref.case, method: ref.method, iteration: ref.iteration, semiIteration: ref.semiIteration, terms, scalars, grads: gradDiff(ref, other), eval: evalDiffs };
}

/** Every case of `other` against the same case of `ref`. */
export function compareRecords(ref: BackendRecord, other: BackendRecord, classes: number): CaseDiff[] {
  return ref.cases.map((c) => {
    const o = other.cases.find((x) => x.case === c.case);
    if (!o) throw new Error(`case ${c.case} is missing on ${other.backend}`);
    return caseDiff(c, o, classes);
  });
}
