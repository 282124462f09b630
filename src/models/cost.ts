import type { ModelConfig } from './config.ts';
import { architectureForward, buildArchitecture } from './architecture.ts';
import { ParamStore } from './nn/params.ts';
import { ShapeExec } from './nn/shape-exec.ts';

export interface ModelCost {
  /** learnable parameters (PyTorch `model.parameters()`: BN running stats excluded) */
  params: number;
  /** forward GFLOPs for one image: 2 × conv multiply-adds of every conv the forward runs */
  gflops: number;
  /** multiply-adds per conv layer, by parameter prefix */
  perLayer: Map<string, number>;
}

/** Walks the real forward on shapes (no tensors), so the figures cannot drift from the network. */
export function modelCostDetailed(cfg: ModelConfig, numClasses: number, h: number, w: number): ModelCost {
  const store = new ParamStore(null);
  const arch = buildArchitecture(store, cfg, numClasses);
  const ex = new ShapeExec();
  architectureForward(ex, arch, { n: 1, h, w, c: 3 });
  let params = 0;
  for (const p of store.params) {
    if (p.decl.kind === 'running_mean' || p.decl.kind === 'running_var') continue;
    params += p.decl.shape.reduce((a, b) => a * b, 1);
  }
  return { params, gflops: (2 * ex.macs) / 1e9, perLayer: ex.perLayer };
}

export function modelCost(cfg: ModelConfig, numClasses: number, h: number, w: number): { params: number; gflops: number } {
  const { params, gflops } = modelCostDetailed(cfg, numClasses, h, w);
  return { params, gflops };
}
