/**
 * Kernels and gradients that tfjs 4.22 lacks or runs slowly on some backends
 * (wasm Conv2DBackpropFilter/Input, dilated conv gradients). Installed once per backend.
 */
export function installKernels(_backend: string): void {
  // filled in by the conv-gradient work (issue #2)
}
