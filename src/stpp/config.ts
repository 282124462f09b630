/** Helpers over a loaded ST / ST++ config: its section, stage lengths, scored checkpoints. */
import type { ExperimentConfig } from '../config/schema.ts';
import { SsssegError } from '../errors.ts';
import { stConfigSchema, stppConfigSchema, type StConfig, type StppConfig } from '../methods/pipelines.ts';

/** The pipeline's section of a loaded config, parsed again so the type is known here. */
export function pipelineConfig(cfg: ExperimentConfig): { name: 'st'; c: StConfig } | { name: 'stpp'; c: StppConfig } {
  if (cfg.method === 'st') return { name: 'st', c: stConfigSchema.parse(cfg.methodConfig ?? {}) };
  if (cfg.method === 'stpp') return { name: 'stpp', c: stppConfigSchema.parse(cfg.methodConfig ?? {}) };
  throw new SsssegError('stpp.method', `${cfg.source}: method "${cfg.method}" is not a self-training pipeline (st, stpp)`);
}

/** Epochs of training stage `i` (0 = teacher): `stage_epochs[i]`, else train.epochs. */
export function stageEpochs(cfg: ExperimentConfig, c: StConfig | StppConfig, i: number): number {
  const e = c.stage_epochs?.[i] ?? cfg.train.epochs;
  if (e === undefined) {
    throw new SsssegError(
      'stpp.needsEpochs',
      `${cfg.source}: ${cfg.method} counts its stages in epochs: set train.epochs (not train.iterations) or ${cfg.method}.stage_epochs`,
    );
  }
  return e;
}

/**
 * The teacher epochs whose checkpoints are scored: ST++ keeps `(epoch+1) in [E//3, 2E//3, E]`;
 * generalised to floor(k·E/K), never below epoch 1 (tiny smoke runs).
 */
export function checkpointEpochs(epochs: number, k: number): number[] {
  return Array.from({ length: k }, (_, i) => Math.max(1, Math.floor(((i + 1) * epochs) / k)));
}

/** A stage's training config: the experiment config with method `sup` and the stage's epochs. */
export function stageConfig(cfg: ExperimentConfig, epochs: number): ExperimentConfig {
  const { iterations: _drop, ...train } = cfg.train;
  return { ...cfg, method: 'sup', methodConfig: {}, train: { ...train, epochs } };
}
