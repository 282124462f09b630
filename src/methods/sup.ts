import { z } from 'zod';
import type { Method } from './types.ts';
import type { SegNet } from '../models/index.ts';
import type { TrainConfig } from '../config/schema.ts';
import { supervisedLoss } from '../losses/supervised.ts';

/** SupOnly: the first row of every table — the labeled images alone, same model and schedule. */
const configSchema = z.object({}).strict();
type SupConfig = z.infer<typeof configSchema>;
interface SupState {
  net: SegNet;
  loss: TrainConfig['loss'];
}

export const sup: Method<SupConfig, SupState> = {
  name: 'sup',
  summary: 'supervised baseline on the labeled images only',
  configSchema,
  dataNeeds: () => ({ unlabeled: false, strongViews: 0, boxes: 'none', mixBatch: false, labeledStrong: false }),
  async init(ctx) {
    return { net: await ctx.buildNet(), loss: ctx.cfg.train.loss };
  },
  nets: (s) => ({ student: s.net }),
  evalNet: (s) => ({ name: 'student', net: s.net }),
  step(s, batch, ctx) {
    const { x, y } = batch.labeled;
    const loss = ctx.minimize(() => supervisedLoss(s.net.forward(x, { training: true, rng: ctx.rng }), y, s.loss), [s.net]);
    ctx.log('loss_sup', loss);
  },
  dispose: (s) => s.net.dispose(),
};
