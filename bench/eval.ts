/**
 * `npm run bench -- eval [--json] [--config FILE] [--set key=value] [--eval-images N]
 * [--small-model FILE] [--backend NAME]`: inference images/s of `sssseg eval`'s whole-image
 * protocol (forward in eval mode, argmax, confusion matrix; src/eval/evaluate.ts as validation runs
 * it) on N synthetic images (default 8) after one untimed image:
 *  - the config's model (default experiments/peer/u2pl-r50-c129.yaml: ResNet-50 OS8 with U2PL's
 *    decoder, 21 classes) at its crop, 129×129: `eval_images_per_s`;
 *  - the small CPU model (experiments/models/small-cpu.yaml, 11 CamVid classes) at CamVid's
 *    prepared 180×240: `small_cpu_eval_images_per_s`.
 * Weights are random: the cost of a forward does not depend on them.
 */
import { promises as fs } from 'node:fs';
import yaml from 'js-yaml';
import { loadConfig } from '../src/config/load.ts';
import { normalize } from '../src/data/index.ts';
import { evaluate, type EvalSample } from '../src/eval/evaluate.ts';
import { buildSegNet, modelConfigSchema, type ModelConfig } from '../src/models/index.ts';
import { Rng } from '../src/util/rng.ts';
import { backendFromArgs, intOption, option, options, round } from './args.ts';
import { PEER_CONFIG } from './u2pl.ts';
import type { Benchmark, BenchResult } from './types.ts';

const SMALL_MODEL = 'experiments/models/small-cpu.yaml';
const SMALL_SIZE = { h: 180, w: 240 };
const SMALL_CLASSES = 11;

/** `count` random images (uint8, normalised as the loader does) with random labels. */
function samples(count: number, h: number, w: number, numClasses: number, seed: number): EvalSample[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, (_, i) => ({
    id: `synthetic-${i}`,
    image: normalize(Uint8Array.from({ length: h * w * 3 }, () => rng.int(0, 256))),
    label: Uint8Array.from({ length: h * w }, () => rng.int(0, numClasses)),
    h,
    w,
  }));
}

/** Images/s of whole-image evaluation of a randomly initialised `model`, after one untimed image. */
async function imagesPerSecond(model: ModelConfig, numClasses: number, h: number, w: number, count: number): Promise<number> {
  const net = buildSegNet(model, numClasses, 17);
  try {
    const run = (list: EvalSample[]) =>
      evaluate({ samples: list, predict: (x) => net.forward(x, { training: false }).logits, protocol: { mode: 'whole' }, numClasses });
    await run(samples(1, h, w, numClasses, 1));
    const list = samples(count, h, w, numClasses, 2);
    const t0 = performance.now();
    await run(list);
    return count / ((performance.now() - t0) / 1000);
  } finally {
    net.dispose();
  }
}

export const benchmark: Benchmark = {
  async run(args: string[], progress: (line: string) => void): Promise<BenchResult> {
    const file = option(args, '--config', PEER_CONFIG);
    const smallFile = option(args, '--small-model', SMALL_MODEL);
    const count = intOption(args, '--eval-images', 8, 1);
    const backend = await backendFromArgs(args);
    const cfg = await loadConfig(file, options(args, '--set'));
    const size = cfg.eval.crop ?? cfg.data.crop;
    progress(`eval bench: ${count} synthetic images, whole-image protocol, backend ${backend.name}`);
    const peer = await imagesPerSecond(cfg.model, 21, size, size, count);
    progress(`${file} at ${size}×${size}: ${peer.toFixed(2)} images/s`);
    const doc = yaml.load(await fs.readFile(smallFile, 'utf8')) as { model?: unknown };
    const smallModel = modelConfigSchema.parse(doc.model ?? {});
    const small = await imagesPerSecond(smallModel, SMALL_CLASSES, SMALL_SIZE.h, SMALL_SIZE.w, count);
    progress(`${smallFile} at ${SMALL_SIZE.h}×${SMALL_SIZE.w}: ${small.toFixed(2)} images/s`);
    const json = {
      backend: backend.name,
      images: count,
      protocol: 'whole',
      config: file,
      size: `${size}x${size}`,
      eval_images_per_s: round(peer, 2),
      small_cpu_model: smallFile,
      small_cpu_size: `${SMALL_SIZE.h}x${SMALL_SIZE.w}`,
      small_cpu_eval_images_per_s: round(small, 2),
    };
    const table = [
      '| model | input | images/s |',
      '|---|---|---|',
      `| ${file} (${cfg.model.backbone} OS${cfg.model.output_stride}, ${cfg.model.head}) | ${size}×${size} | ${json.eval_images_per_s} |`,
      `| ${smallFile} (${smallModel.backbone} OS${smallModel.output_stride}, ${smallModel.head}) | ${SMALL_SIZE.h}×${SMALL_SIZE.w} | ${json.small_cpu_eval_images_per_s} |`,
      '',
      `whole-image protocol, ${count} synthetic images after 1 untimed, backend ${backend.name}`,
    ].join('\n');
    const rows = [
      { figure: `eval, ${cfg.model.backbone} OS${cfg.model.output_stride} ${cfg.model.head} at ${size}×${size}`, value: json.eval_images_per_s, unit: 'images/s' },
      { figure: `eval, ${smallFile} at ${SMALL_SIZE.h}×${SMALL_SIZE.w}`, value: json.small_cpu_eval_images_per_s, unit: 'images/s' },
    ];
    return { table, json, rows };
  },
};
