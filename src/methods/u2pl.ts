import * as tf from '@tensorflow/tfjs-core';
import type { Method } from './types.ts';
import { SsssegError } from '../errors.ts';
import { buildNets, pickNet } from './shared/nets.ts';
import { u2plConfigSchema, type U2plConfig } from './u2pl/config.ts';
import { MemoryBank } from './u2pl/memory-bank.ts';
import { semiStep, supOnlyStep, type U2plState } from './u2pl/step.ts';

/**
 * U2PL (Wang et al., CVPR 2022): EMA teacher pseudo-labels with entropy-based dropping of
 * unreliable pixels, plus a contrastive loss that uses those unreliable pixels as negatives
 * through a per-class memory bank (docs/methods.md §1). The pieces live in ./u2pl/.
 */
const BANK_PREFIX = 'u2pl/memory_bank/';

export const u2pl: Method<U2plConfig, U2plState> = {
  name: 'u2pl',
  displayName: 'U2PL',
  summary: 'U2PL: EMA teacher, entropy-filtered pseudo-labels, contrastive loss on unreliable pixels',
  configSchema: u2plConfigSchema,
  dataNeeds: () => ({ unlabeled: true, strongViews: 0, boxes: 'u2pl', mixBatch: false, labeledStrong: false }),

  async init(ctx, c) {
    const repDim = ctx.model.rep_dim;
    if (c.contrastive.enabled && repDim == null) {
      throw new SsssegError('u2pl.noRep', `${ctx.source}: u2pl.contrastive needs a representation head`, 'set model.rep_dim (256 in U2PL) or u2pl.contrastive.enabled: false');
    }
    // same starting weights; the teacher's BN statistics stay its own from here on
    const nets = await buildNets(ctx, ['student', 'teacher'], 'copy');
    const caps = Array.from({ length: ctx.numClasses }, (_, k) => (k === 0 ? c.contrastive.queue_size_bg : c.contrastive.queue_size));
    const bank = c.contrastive.enabled ? new MemoryBank(repDim!, caps) : null;
    return { nets, cfg: c, numClasses: ctx.numClasses, bank };
  },

  nets: (s) => s.nets,
  // upstream validates the student during the supervised-only epochs, the teacher afterwards
  evalNet: (s, epoch) => pickNet(s.nets, epoch < s.cfg.sup_only_epoch ? 'student' : 'teacher'),

  teachers: (s) => [[s.nets.teacher, s.nets.student]],
  semiStart: (s, itersPerEpoch) => s.cfg.sup_only_epoch * itersPerEpoch,
  step(s, batch, ctx) {
    if (ctx.semiIteration < 0) supOnlyStep(s, batch, ctx);
    else semiStep(s, batch, ctx);
  },

  saveExtra(s) {
    const out = new Map<string, tf.Tensor>();
    const bank = s.bank;
    if (!bank) return out;
    for (let k = 0; k < bank.numClasses; k++) {
      if (bank.size(k) > 0) out.set(`${BANK_PREFIX}${k}`, tf.tensor2d(bank.snapshot(k), [bank.size(k), bank.dim]));
    }
    return out;
  },

  loadExtra(s, tensors) {
    const bank = s.bank;
    if (!bank) return;
    for (let k = 0; k < bank.numClasses; k++) {
      bank.clear(k);
      const t = tensors.get(`${BANK_PREFIX}${k}`);
      if (!t) continue;
      if (t.rank !== 2 || t.shape[1] !== bank.dim) {
        throw new SsssegError('u2pl.bankShape', `checkpoint memory bank queue ${k} has shape [${t.shape}], expected [n, ${bank.dim}]`);
      }
      bank.restore(k, t.dataSync() as Float32Array);
    }
  },
};
