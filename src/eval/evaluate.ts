/**
 * Evaluate a predictor over a stream of labelled samples: the heavy part of `sssseg eval`,
 * and of every method's per-epoch validation, free of checkpoint and dataset code.
 */
import { SsssegError } from '../errors.ts';
import { ConfusionMatrix, IGNORE_INDEX } from './metrics.ts';
import { segment, type PredictFn, type Region } from './inference.ts';
import { describeProtocol, type InferenceProtocol } from './protocol.ts';

export interface EvalSample {
  id: string;
  /** H×W×3 normalised image */
  image: Float32Array;
  /** H×W class ids, 255 = ignore */
  label: Uint8Array;
  h: number;
  w: number;
}

export interface PredictionEvent {
  id: string;
  index: number;
  /** H×W class ids (255 outside the evaluated region) */
  pred: Uint8Array;
  label: Uint8Array;
  h: number;
  w: number;
  /** H×W×C mean probabilities, only when `keepProbs` is set */
  probs?: Float32Array;
}

export interface EvaluateOptions {
  samples: AsyncIterable<EvalSample> | Iterable<EvalSample>;
  predict: PredictFn;
  protocol: InferenceProtocol;
  numClasses: number;
  /** U2PL rule for classes absent from GT and prediction (IoU 0, counted); default ST++ (excluded) */
  absentAsZero?: boolean;
  keepProbs?: boolean;
  /** called after each image, awaited (e.g. to save the prediction) */
  onPrediction?: (p: PredictionEvent) => void | Promise<void>;
}

export interface EvalResult {
  miou: number;
  /** per-class IoU; NaN for a class left out of the mean */
  iou: number[];
  pixelAcc: number;
  meanAcc: number;
  /** per-class accuracy (recall), same absent-class rule as `iou` */
  acc: number[];
  /** rows = GT, columns = prediction */
  confusion: number[][];
  /** human-readable protocol, e.g. "whole, scales 1, no flip" */
  protocol: string;
  absentAsZero: boolean;
  /** images evaluated */
  n: number;
}

export async function evaluate(opts: EvaluateOptions): Promise<EvalResult> {
  const protocol = describeProtocol(opts.protocol);
  const cm = new ConfusionMatrix(opts.numClasses);
  let n = 0;
  for await (const sample of opts.samples) {
    checkSample(sample);
    const seg = await segment(sample.image, sample.h, sample.w, opts.predict, opts.protocol, { keepProbs: opts.keepProbs });
    cm.add(maskOutside(sample.label, sample.w, seg.region), seg.pred);
    if (opts.onPrediction) {
      await opts.onPrediction({ id: sample.id, index: n, pred: seg.pred, label: sample.label, h: sample.h, w: sample.w, probs: seg.probs });
    }
    n++;
  }
  const m = cm.metrics({ absentAsZero: opts.absentAsZero });
  return {
    miou: m.miou,
    iou: m.iou,
    pixelAcc: m.pixelAcc,
    meanAcc: m.meanAcc,
    acc: m.acc,
    confusion: cm.toArray(),
    protocol,
    absentAsZero: Boolean(opts.absentAsZero),
    n,
  };
}

function checkSample(s: EvalSample): void {
  if (s.label.length !== s.h * s.w) {
    throw new SsssegError('eval.shapeMismatch', `sample "${s.id}": label has ${s.label.length} pixels, expected ${s.h}×${s.w}`);
  }
}

/**
 * U2PL's center-crop validation crops the label with the image, so pixels outside the window are
 * not scored at all: mark them ignore. The full-image region returns the label untouched.
 */
function maskOutside(label: Uint8Array, w: number, r: Region): Uint8Array {
  const h = label.length / w;
  if (r.top === 0 && r.left === 0 && r.height === h && r.width === w) return label;
  const out = new Uint8Array(label.length).fill(IGNORE_INDEX);
  for (let y = r.top; y < r.top + r.height; y++) {
    out.set(label.subarray(y * w + r.left, y * w + r.left + r.width), y * w + r.left);
  }
  return out;
}
