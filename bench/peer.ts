/**
 * The PyTorch peer of the `u2pl` benchmark (bench/peer/u2pl_peer.py) as a child process spoken to
 * in JSON lines, so that its steps and ours can alternate in one run on one machine. The peer
 * builds the same network (bench/peer/model.py) and loads the weights of one of our networks,
 * exported through safetensors in PyTorch layout; `check` compares its eval-mode forward with ours
 * on the same input, so both sides provably time the same network.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type { ExperimentConfig } from '../src/config/schema.ts';
import { writeSafetensors, type StoredTensor } from '../src/io/safetensors.ts';
import { buildSegNet, type SegNet } from '../src/models/index.ts';
import { torchStateDict } from '../src/models/pretrained.ts';
import type { U2plConfig } from '../src/methods/u2pl/config.ts';
import { alphaAt } from '../src/methods/u2pl/config.ts';
import { Rng } from '../src/util/rng.ts';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'peer', 'u2pl_peer.py');
/** relative forward difference above which the two networks are not the same */
export const CHECK_TOLERANCE = 1e-3;

export type StepKind = 'sup' | 'u2pl';
export type Precision = 'fp32' | 'bf16';

/** The first of $SSSSEG_PEER_PYTHON, python3, /usr/bin/python3 that imports torch, or why none does. */
export function findTorchPython(): { python: string; torch: string } | { unavailable: string } {
  const candidates = [process.env['SSSSEG_PEER_PYTHON'], 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);
  for (const python of [...new Set(candidates)]) {
    const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return { python, torch: r.stdout.trim() };
  }
  return { unavailable: `no python with torch among ${candidates.join(', ')} (apt-get install python3-torch, or set SSSSEG_PEER_PYTHON)` };
}

/** Why the peer cannot build this config's network, or null when it can. */
export function peerUnsupported(cfg: ExperimentConfig): string | null {
  const m = cfg.model;
  if (m.backbone !== 'resnet50' && m.backbone !== 'resnet101') return `backbone ${m.backbone} (the peer has bottleneck ResNets only)`;
  if (!m.deep_stem || m.head !== 'deeplabv3plus_u2pl' || m.rep_dim == null || m.aux || m.frozen_bn) {
    return 'the peer builds the deep stem with deeplabv3plus_u2pl and its representation head, no aux head, trained BN';
  }
  return null;
}

export interface PeerInfo {
  python: string;
  torch: string;
  threads: number;
  capability: string | null;
  /** PyTorch's reason why bf16 autocast does not run here, or null */
  bf16_unsupported: string | null;
}

export interface ForwardCheck {
  logits: { max_abs_diff: number; max_abs: number };
  rep: { max_abs_diff: number; max_abs: number };
}

/**
 * Our network with every BN statistic and affine parameter drawn at random (fresh ones are 0/1,
 * and zero-init residual gammas would hide the bottleneck convs from the comparison).
 */
function checkNet(cfg: ExperimentConfig, numClasses: number): SegNet {
  const net = buildSegNet(cfg.model, numClasses, cfg.seed);
  const rng = new Rng(cfg.seed + 7);
  for (const p of net.params()) {
    const n = p.variable.size;
    const draw = (f: () => number) => p.variable.assign(tf.tensor(Float32Array.from({ length: n }, f), p.variable.shape));
    if (p.kind === 'bn_weight' || p.kind === 'running_var') draw(() => 0.5 + rng.next());
    else if (p.kind === 'bn_bias' || p.kind === 'running_mean') draw(() => 0.1 * rng.normal());
  }
  return net;
}

/** Weights (PyTorch names and layout), a test input and our eval-mode outputs on it, as one file. */
async function exportCheck(file: string, cfg: ExperimentConfig, numClasses: number): Promise<void> {
  const net = checkNet(cfg, numClasses);
  try {
    const tensors: Map<string, StoredTensor> = torchStateDict(net.params());
    const crop = cfg.data.crop;
    const rng = new Rng(cfg.seed + 11);
    const input = Float32Array.from({ length: 2 * crop * crop * 3 }, () => rng.normal());
    const x = tf.tensor4d(input, [2, crop, crop, 3]);
    const out = net.forward(x, { training: false });
    x.dispose();
    const stored = (t: tf.Tensor): StoredTensor => ({ dtype: 'F32', shape: [...t.shape], data: t.dataSync() as Float32Array });
    tensors.set('input', { dtype: 'F32', shape: [2, crop, crop, 3], data: input });
    tensors.set('logits', stored(out.logits));
    tensors.set('rep', stored(out.rep!));
    tf.dispose([out.logits, out.rep!]);
    await writeSafetensors(file, tensors);
  } finally {
    net.dispose();
  }
}

export class Peer {
  private readonly lines: Interface;
  private readonly pending: Array<(line: string) => void> = [];
  private stderr = '';
  private exited: string | null = null;

  private constructor(private readonly child: ChildProcessWithoutNullStreams, readonly info: PeerInfo) {
    this.lines = createInterface({ input: child.stdout });
    this.lines.on('line', (line) => this.pending.shift()?.(line));
    child.stderr.on('data', (d: Buffer) => void (this.stderr = (this.stderr + d.toString()).slice(-2000)));
    child.on('exit', (code) => {
      this.exited = `the peer exited (code ${code}): ${this.stderr.trim().split('\n').at(-1) ?? ''}`;
      for (const f of this.pending.splice(0)) f('');
    });
  }

  /**
   * Starts the peer with the config's network, weights shared with ours, `threads` threads, and
   * the config's batch, crop and SGD; u2pl settings from `u2plCfg` at `epoch` of `totalEpochs`.
   */
  static async start(
    python: { python: string; torch: string },
    cfg: ExperimentConfig,
    opts: { threads: number; numClasses: number; u2pl: U2plConfig; epoch: number; totalEpochs: number },
  ): Promise<{ peer: Peer; check: ForwardCheck }> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sssseg-peer-'));
    const child = spawn(python.python, [SCRIPT], {
      // no __pycache__ written into the checkout
      env: { ...process.env, OMP_NUM_THREADS: String(opts.threads), PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const peer = new Peer(child, { python: python.python, torch: python.torch, threads: 0, capability: null, bf16_unsupported: null });
    try {
      const weights = path.join(dir, 'check.safetensors');
      await exportCheck(weights, cfg, opts.numClasses);
      const t = cfg.train;
      const u = opts.u2pl;
      const spec = {
        threads: opts.threads,
        seed: cfg.seed,
        weights,
        model: cfg.model,
        classes: opts.numClasses,
        crop: cfg.data.crop,
        train: {
          lr: t.lr, head_lr_mult: t.head_lr_mult, momentum: t.momentum, weight_decay: t.weight_decay,
          batch_size: t.batch_size, unlabeled_batch_size: t.unlabeled_batch_size ?? t.batch_size,
        },
        u2pl: {
          ema_decay: u.ema_decay, cutmix_p: u.cutmix_p, unsup_weight: u.unsup_weight,
          drop_percent: 100 - alphaAt(u, opts.epoch, opts.totalEpochs),
          contrastive: u.contrastive.enabled, num_queries: u.contrastive.num_queries,
          num_negatives: u.contrastive.num_negatives, temperature: u.contrastive.temperature,
        },
      };
      const info = await peer.request<Omit<PeerInfo, 'python' | 'torch'>>({ cmd: 'init', spec });
      Object.assign(peer.info, info);
      const check = await peer.request<ForwardCheck>({ cmd: 'check' });
      return { peer, check };
    } catch (err) {
      peer.close();
      throw err;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  private request<T>(msg: Record<string, unknown>): Promise<T> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    return new Promise<T>((resolve, reject) => {
      this.pending.push((line) => {
        if (line === '') return reject(new Error(this.exited ?? 'the peer closed its output'));
        const reply = JSON.parse(line) as T & { error?: string };
        if (reply.error) reject(new Error(`peer: ${reply.error}`));
        else resolve(reply);
      });
      this.child.stdin.write(JSON.stringify(msg) + '\n');
    });
  }

  /** One peer step, seconds as the peer measured it (around the step only). */
  async step(kind: StepKind, precision: Precision = 'fp32'): Promise<number> {
    return (await this.request<{ seconds: number }>({ cmd: 'step', kind, precision })).seconds;
  }

  close(): void {
    if (this.exited == null) this.child.stdin.end(JSON.stringify({ cmd: 'quit' }) + '\n');
    this.lines.close();
  }
}

/** max |ours − peer| / max |peer| of one output */
export const relative = (o: ForwardCheck['logits']): number => o.max_abs_diff / o.max_abs;

/** Largest relative difference of the check. */
export const checkError = (c: ForwardCheck): number => Math.max(relative(c.logits), relative(c.rep));
