import * as tf from '@tensorflow/tfjs-core';
import { upsampleLogits } from '../../losses/ce.ts';

/** Hard pseudo-labels at label resolution: logits upsampled (align_corners), softmax, max and argmax. */
export interface PseudoLabels {
  /** NHW float, max softmax probability */
  conf: tf.Tensor3D;
  /** NHW int32, argmax class */
  label: tf.Tensor3D;
}

/** From logits (any resolution) to `h`×`w` pseudo-labels; no gradient flows through them. */
export function pseudoLabels(logits: tf.Tensor4D, h: number, w: number): PseudoLabels {
  return tf.tidy(() => {
    const prob = tf.softmax(upsampleLogits(logits, h, w), -1);
    return { conf: tf.max(prob, -1) as tf.Tensor3D, label: tf.cast(tf.argMax(prob, -1), 'int32') as tf.Tensor3D };
  });
}

export function disposePseudo(p: PseudoLabels): void {
  tf.dispose([p.conf, p.label]);
}
