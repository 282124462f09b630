/**
 * A drop-in `engine.gradients` (what tf.grads / tf.variableGrads call) that frees memory while it
 * walks the tape. tfjs-core 4.22 keeps every tensor saved for the backward pass, every
 * intermediate of every gradient function and the gradient of every activation alive until the
 * whole backward pass ends, so a training step peaked at about twice its forward activations
 * (ResNet-50 at 129×129, batch 4: 1 GB of activations, 3.6 GB peak; U2PL ran out of the 4 GB
 * wasm heap). Here, once a node's input gradients are computed:
 *   - the gradient function's own intermediates are released (one tidy per node),
 *   - the node's saved tensors are released (each node owns its saved clones),
 *   - the gradients of the node's outputs are released (the tape is in topological order, so
 *     nothing later needs them), unless they are a requested gradient or the seed dy.
 * Everything else, including errors and the final tape cleanup, follows tfjs-core's
 * engine.gradients and tape.backpropagateGradients (pinned 4.22.0) line by line. Higher-order
 * gradients (gradientDepth > 0) need the saved tensors afterwards and keep them, as tfjs does.
 */
import * as tf from '@tensorflow/tfjs-core';

interface TapeNode {
  id: number;
  kernelName: string;
  outputs: tf.Tensor[];
  inputs: Record<string, tf.Tensor>;
  gradient?: (dys: Array<tf.Tensor | null>) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(nameOrFn: string | (() => T), fn?: () => T): T;
  gradients: GradientsFn;
}

type GradientsFn = (
  f: () => tf.Tensor,
  xs: tf.Tensor[],
  dy?: tf.Tensor,
  allowNoGradients?: boolean,
) => { value: tf.Tensor; grads: tf.Tensor[] };

/** tape.getFilteredNodesXToY: the nodes on a path from some x to y, inputs pruned to those from x. */
export function filterTape(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set<number>(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      node.outputs.forEach((o) => fromX.add(o.id));
      nodesFromX.add(node.id);
    }
  }
  const toY = new Set<number>([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    if (node.outputs.some((o) => toY.has(o.id))) {
      for (const t of Object.values(node.inputs)) {
        toY.add(t.id);
        nodesToY.add(node.id);
      }
    }
  }
  return tape
    .filter((n) => nodesFromX.has(n.id) && nodesToY.has(n.id))
    .map((n) => {
      const inputs: Record<string, tf.Tensor> = {};
      for (const [name, t] of Object.entries(n.inputs)) if (fromX.has(t.id)) inputs[name] = t;
      return { ...n, inputs, outputs: n.outputs };
    });
}

/** Gradient map with a reference count per tensor object: gradient functions may return dy itself. */
class GradMap {
  private readonly byId = new Map<number, tf.Tensor>();
  private readonly refs = new Map<tf.Tensor, number>();

  get(id: number): tf.Tensor | undefined {
    return this.byId.get(id);
  }

  set(id: number, t: tf.Tensor): void {
    this.drop(id);
    this.byId.set(id, t);
    this.refs.set(t, (this.refs.get(t) ?? 0) + 1);
  }

  /** Removes the entry; disposes its tensor when nothing else refers to it. */
  drop(id: number): void {
    const t = this.byId.get(id);
    if (t == null) return;
    this.byId.delete(id);
    const r = (this.refs.get(t) ?? 1) - 1;
    if (r > 0) {
      this.refs.set(t, r);
    } else {
      this.refs.delete(t);
      t.dispose();
    }
  }

  holds(t: tf.Tensor): boolean {
    return this.refs.has(t);
  }
}

function checkGrad(node: TapeNode, name: string, dx: tf.Tensor, x: tf.Tensor): void {
  if (dx.dtype !== 'float32') {
    throw new Error(
      `Error in gradient for op ${node.kernelName}. The gradient of input ${name} must have 'float32' dtype, but has '${dx.dtype}'`,
    );
  }
  if (!tf.util.arraysEqual(dx.shape, x.shape)) {
    throw new Error(
      `Error in gradient for op ${node.kernelName}. The gradient of input '${name}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`,
    );
  }
}

function backprop(engine: EngineInternals, acc: GradMap, tape: TapeNode[], keep: Set<number>, lean: boolean): void {
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    const dys = node.outputs.map((o) => acc.get(o.id) ?? null);
    const gradient = node.gradient;
    if (gradient == null) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
    const dxs = engine.tidy(() => {
      const fns = gradient(dys);
      const out: Record<string, tf.Tensor> = {};
      for (const name in node.inputs) {
        const fn = fns[name];
        if (fn == null) {
          throw new Error(`Cannot backprop through input ${name}. Available gradients found: ${Object.keys(fns)}.`);
        }
        out[name] = fn();
      }
      return out;
    });
    for (const name in node.inputs) {
      const x = node.inputs[name]!;
      const dx = dxs[name]!;
      checkGrad(node, name, dx, x);
      const cur = acc.get(x.id);
      acc.set(x.id, cur == null ? dx : tf.add(cur, dx));
    }
    if (!lean) continue;
    for (const o of node.outputs) if (!keep.has(o.id)) acc.drop(o.id);
    for (const t of node.saved ?? []) if (!acc.holds(t)) t.dispose();
  }
}

function leanGradients(this: EngineInternals, ...args: Parameters<GradientsFn>): ReturnType<GradientsFn> {
  const [f, xs, dy, allowNoGradients = false] = args;
  tf.util.assert(xs.length > 0, () => 'gradients() received an empty list of xs.');
  if (dy != null && dy.dtype !== 'float32') throw new Error(`dy must have 'float32' dtype, but has '${dy.dtype}'`);
  const y = this.scopedRun(
    () => this.startTape(),
    () => this.endTape(),
    () => this.tidy('forward', f),
  );
  tf.util.assert(y instanceof tf.Tensor, () => 'The result y returned by f() must be a tensor.');
  const filtered = filterTape(this.state.activeTape ?? [], xs, y);
  if (!allowNoGradients && filtered.length === 0 && xs.length > 0) {
    throw new Error(
      'Cannot compute gradient of y=f(x) with respect to x. Make sure that the f you passed encloses all operations that lead from x to y.',
    );
  }
  return this.tidy('backward', () => {
    const acc = new GradMap();
    acc.set(y.id, dy ?? tf.ones(y.shape));
    const keep = new Set<number>([y.id, ...xs.map((x) => x.id)]);
    backprop(this, acc, filtered, keep, this.state.gradientDepth === 0);
    const grads = xs.map((x) => acc.get(x.id)) as tf.Tensor[];
    if (this.state.gradientDepth === 0) {
      // as tfjs: release what the tape saved (a second dispose is a no-op)
      (this.state.activeTape ?? []).forEach((node) => (node.saved ?? []).forEach((t) => t.dispose()));
      this.state.activeTape = null;
    }
    return { value: y, grads } as unknown as tf.TensorContainer;
  }) as unknown as ReturnType<GradientsFn>;
}

let installed = false;

/** Replaces the engine's gradients method (idempotent). */
export function installLeanBackprop(): void {
  if (installed) return;
  installed = true;
  (tf.engine() as unknown as EngineInternals).gradients = leanGradients;
}
