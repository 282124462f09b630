/**
 * ReLU gradient from the op's output instead of its input (x > 0 ⇔ relu(x) > 0). tfjs-core's saves
 * the input, which for conv → BN → ReLU is the BN output: a full-size tensor that nothing else
 * needs. The ReLU output is saved by the next conv anyway, so the tape then holds one tensor per
 * activation instead of two.
 */
import * as tf from '@tensorflow/tfjs-core';

export const reluGradConfig: tf.GradConfig = {
  kernelName: tf.Relu,
  outputsToSave: [true],
  gradFunc: (dy, saved) => {
    const [y] = saved as [tf.Tensor];
    return { x: () => tf.mul(dy as tf.Tensor, tf.step(y)) };
  },
};
