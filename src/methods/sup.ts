import { z } from 'zod';
import type { Method } from './types.ts';
import { netLayout, type NetsState } from './shared/nets.ts';

/** SupOnly: the first row of every table — the labeled images alone, same model and schedule. */
const configSchema = z.object({}).strict();
type SupConfig = z.infer<typeof configSchema>;
type SupState = NetsState<'student', SupConfig>;

export const sup: Method<SupConfig, SupState> = {
  name: 'sup',
  displayName: 'SupOnly',
  summary: 'supervised baseline on the labeled images only',
  configSchema,
  dataNeeds: () => ({ unlabeled: false, strongViews: 0, boxes: 'none', mixBatch: false, labeledStrong: false }),
  ...netLayout(['student'], 'own', () => 'student'),
  step(s, batch, ctx) {
    const { x, y } = batch.labeled;
    const net = s.nets.student;
    ctx.minimize(() => ({ sup: ctx.supervised(net.forward(x, { training: true, rng: ctx.rng }), y) }), [net]);
  },
};
