import type { PreparedDataset } from '../data/index.ts';
import { classFrequency, medianFrequencyWeights } from '../data/class-frequency.ts';
import type { LossConfig } from '../losses/supervised.ts';
import { SsssegError } from '../errors.ts';

/**
 * `train.loss.class_weights` as numbers, one per class, and a line saying what they are. Median
 * frequencies come from the split's labeled images only (never its unlabeled ones, whose labels a
 * semi-supervised run must not see), so they are the same on every resume of a run.
 */
export async function resolveClassWeights(
  loss: LossConfig, data: PreparedDataset, labeled: readonly string[], source: string,
): Promise<{ weights?: number[]; line?: string }> {
  const spec = loss.class_weights;
  if (spec === undefined) return {};
  let weights: number[];
  let how: string;
  if (spec === 'median_frequency') {
    const { freq, images } = await classFrequency(data, labeled);
    weights = medianFrequencyWeights(freq);
    how = `median frequency of ${images} labeled images`;
  } else {
    if (spec.length !== data.numClasses) {
      throw new SsssegError(
        'config.classWeights',
        `${source}: train.loss.class_weights has ${spec.length} entries; ${data.name} has ${data.numClasses} classes`,
      );
    }
    weights = spec;
    how = 'from the config';
  }
  const shown = weights.map((w, c) => `${data.classes[c] ?? c} ${w.toFixed(2)}`).join(', ');
  return { weights, line: `class weights (${how}): ${shown}` };
}
