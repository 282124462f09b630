import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../../util/rng.ts';
import type { ContrastSelection } from '../../losses/u2pl-masks.ts';
import type { ContrastiveConfig } from './config.ts';
import type { MemoryBank } from './memory-bank.ts';

/**
 * U2PL's contrastive loss (docs/methods.md §1.3 step 8, upstream `compute_contra_memobank_loss`),
 * split in two: `prepareContrast` does everything that needs no gradient (enqueue negatives,
 * teacher prototypes, sampling anchors and negatives) before the student's forward pass, and
 * `contrastLoss` runs inside the gradient closure on the student's representation.
 *
 * One deliberate difference from the released code: the second loop indexes anchors and
 * prototypes by the class itself, not by its position among the valid classes (U2PL issue #111);
 * the two agree whenever every class present has reliable pixels.
 */
/** K sampled keys per anchor: anchor row r uses `keys[r / Q]` at row offsets `offsets[r·K + k]`. */
export interface NegativeKeys {
  keys: Float32Array[];
  offsets: Int32Array;
  numQueries: number;
  numNegatives: number;
  dim: number;
}

export interface ContrastPlan {
  /** flat pixel index of each anchor, [M·Q] (M = classes that take part) */
  anchorIdx: tf.Tensor1D;
  /** L2-normalised teacher prototypes of those classes, [M, D] */
  prototypes: tf.Tensor2D;
  /** the negative keys, read in place from the memory bank (never copied into a tensor) */
  negatives: NegativeKeys;
  classes: number[];
  /** Q · number of valid classes (classes with reliable pixels): upstream's divisor */
  divisor: number;
  temperature: number;
}

/** What `prepareContrast` did, for logging and tests. */
export interface ContrastStats {
  enqueued: number[];
  validClasses: number[];
}

/**
 * Enqueue this batch's negative keys (teacher features) — before the loss, as upstream, so the
 * current batch can serve as negatives — then build the plan, or null when the loss is 0
 * (≤ 1 valid class, or no class with both anchors and keys).
 */
export function prepareContrast(
  repT: tf.Tensor4D,
  sel: ContrastSelection,
  bank: MemoryBank,
  c: ContrastiveConfig,
  rng: Rng,
): { plan: ContrastPlan | null; stats: ContrastStats } {
  const [n, h, w, d] = repT.shape;
  const flat = tf.reshape(repT, [n * h * w, d]) as tf.Tensor2D;
  try {
    const enqueued = enqueueNegatives(flat, sel, bank, c);
    const validClasses = [];
    for (let k = 0; k < sel.lowValid.length; k++) if (sel.lowValid[k]!.length > 0) validClasses.push(k);
    const stats = { enqueued, validClasses };
    if (validClasses.length <= 1) return { plan: null, stats };
    const classes = validClasses.filter((k) => sel.anchors[k]!.length > 0 && bank.size(k) > 0);
    if (classes.length === 0) return { plan: null, stats };
    const Q = c.num_queries;
    const K = c.num_negatives;
    const anchorIdx = new Int32Array(classes.length * Q);
    const offsets = new Int32Array(classes.length * Q * K);
    classes.forEach((k, m) => {
      const cand = sel.anchors[k]!;
      for (let q = 0; q < Q; q++) anchorIdx[m * Q + q] = cand[rng.int(0, cand.length)]!;
      offsets.set(bank.sample(k, Q * K, rng), m * Q * K);
    });
    const plan: ContrastPlan = {
      anchorIdx: tf.tensor1d(anchorIdx, 'int32'),
      prototypes: prototypes(flat, sel, classes),
      negatives: { keys: classes.map((k) => bank.buffer(k)), offsets, numQueries: Q, numNegatives: K, dim: d },
      classes,
      divisor: Q * validClasses.length,
      temperature: c.temperature,
    };
    return { plan, stats };
  } finally {
    flat.dispose();
  }
}

export function disposePlan(plan: ContrastPlan | null): void {
  if (plan) tf.dispose([plan.anchorIdx, plan.prototypes]);
}

/** InfoNCE of student anchors against [prototype, negatives] (target index 0), summed per class and divided by the valid-class count. */
export function contrastLoss(rep: tf.Tensor4D, plan: ContrastPlan): tf.Scalar {
  return tf.tidy(() => {
    const [n, h, w, d] = rep.shape;
    const M = plan.classes.length;
    const Q = plan.anchorIdx.shape[0] / M;
    const flat = tf.reshape(rep, [n * h * w, d]) as tf.Tensor2D;
    const anchors = l2Normalise(gatherRows(flat, plan.anchorIdx));
    const pos = tf.sum(tf.mul(tf.reshape(anchors, [M, Q, d]), tf.expandDims(plan.prototypes, 1)), -1);
    const neg = negativeLogits(anchors, plan.negatives);
    const logits = tf.div(tf.concat([tf.reshape(pos, [M * Q, 1]), neg], 1), plan.temperature);
    const ce = tf.sub(tf.logSumExp(logits, 1), tf.squeeze(tf.slice(logits, [0, 0], [-1, 1]), [1]));
    return tf.div(tf.sum(ce), plan.divisor) as tf.Scalar;
  });
}

/** The tail of each class's negatives (older ones would fall out of the queue at once), gathered in one call. */
function enqueueNegatives(flat: tf.Tensor2D, sel: ContrastSelection, bank: MemoryBank, c: ContrastiveConfig): number[] {
  const take = sel.negatives.map((idx, k) => idx.subarray(Math.max(0, idx.length - bank.capacities[k]!)));
  const total = take.reduce((s, a) => s + a.length, 0);
  const all = new Int32Array(total);
  let off = 0;
  for (const a of take) {
    all.set(a, off);
    off += a.length;
  }
  const d = flat.shape[1];
  let keys: Float32Array = new Float32Array(0);
  if (total > 0) {
    const idx = tf.tensor1d(all, 'int32');
    const rows = tf.gather(flat, idx);
    keys = rows.dataSync() as Float32Array;
    tf.dispose([idx, rows]);
  }
  off = 0;
  take.forEach((a, k) => {
    if (!c.memory_bank) bank.clear(k);
    bank.push(k, keys.subarray(off * d, (off + a.length) * d), a.length);
    off += a.length;
  });
  return sel.negatives.map((a) => a.length);
}

/** Mean teacher feature over each class's reliable pixels (one sparse segment sum), normalised. */
function prototypes(flat: tf.Tensor2D, sel: ContrastSelection, classes: number[]): tf.Tensor2D {
  const lists = classes.map((k) => sel.lowValid[k]!);
  const total = lists.reduce((s, a) => s + a.length, 0);
  const idx = new Int32Array(total);
  const seg = new Int32Array(total);
  const counts = new Float32Array(classes.length);
  let off = 0;
  lists.forEach((a, m) => {
    idx.set(a, off);
    seg.fill(m, off, off + a.length);
    counts[m] = a.length;
    off += a.length;
  });
  return tf.tidy(() => {
    const sums = tf.sparse.sparseSegmentSum(flat, tf.tensor1d(idx, 'int32'), tf.tensor1d(seg, 'int32'));
    return l2Normalise(tf.div(sums, tf.tensor2d(counts, [classes.length, 1])) as tf.Tensor2D);
  });
}

/**
 * cos(anchor_r, key_{r,k}) for the K sampled keys of each anchor row, [M·Q, K], computed in JS
 * straight from the memory bank: as a tensor the keys would be M·Q·K·D floats (21 classes × 256 ×
 * 50 × 256 = 275 MB per step at U2PL's settings). The keys are constants, so the gradient is
 * dA_r = Σ_k dy_{r,k} · key_{r,k}, also in JS.
 */
function negativeLogits(anchors: tf.Tensor2D, n: NegativeKeys): tf.Tensor2D {
  const { offsets, numQueries: Q, numNegatives: K, dim: D } = n;
  const rows = anchors.shape[0];
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const a = (args[0] as tf.Tensor).dataSync() as Float32Array;
    const out = new Float32Array(rows * K);
    for (let r = 0; r < rows; r++) {
      const keys = n.keys[Math.floor(r / Q)]!;
      for (let k = 0; k < K; k++) {
        const o = offsets[r * K + k]!;
        let s = 0;
        for (let j = 0; j < D; j++) s += a[r * D + j]! * keys[o + j]!;
        out[r * K + k] = s;
      }
    }
    return {
      value: tf.tensor2d(out, [rows, K]),
      gradFunc: (dy: tf.Tensor) => {
        const g = dy.dataSync() as Float32Array;
        const ga = new Float32Array(rows * D);
        for (let r = 0; r < rows; r++) {
          const keys = n.keys[Math.floor(r / Q)]!;
          for (let k = 0; k < K; k++) {
            const o = offsets[r * K + k]!;
            const gk = g[r * K + k]!;
            for (let j = 0; j < D; j++) ga[r * D + j]! += gk * keys[o + j]!;
          }
        }
        return tf.tensor2d(ga, [rows, D]);
      },
    };
  });
  return f(anchors) as tf.Tensor2D;
}

/** x / max(‖x‖, 1e-8) per row, as torch.cosine_similarity clamps. */
function l2Normalise(x: tf.Tensor2D): tf.Tensor2D {
  return tf.div(x, tf.maximum(tf.sqrt(tf.sum(tf.square(x), 1, true)), 1e-8));
}

/**
 * tf.gather of rows whose gradient is a scatter-add: the stock gradient needs UnsortedSegmentSum,
 * which the wasm backend lacks. scatterND sums duplicate indices (anchors are drawn with replacement).
 */
function gatherRows(x: tf.Tensor2D, idx: tf.Tensor1D): tf.Tensor2D {
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const input = args[0] as tf.Tensor;
    return {
      value: tf.gather(input, idx),
      gradFunc: (dy: tf.Tensor) => tf.scatterND(tf.expandDims(idx, 1), dy, input.shape),
    };
  });
  return f(x) as tf.Tensor2D;
}
