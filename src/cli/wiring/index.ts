import type { RegisterCommand } from '../context.ts';
import { registerPrepareVoc } from './prepare-voc.ts';
import { registerPrepareCityscapes } from './prepare-cityscapes.ts';
import { registerPrepareCamvid } from './prepare-camvid.ts';
import { registerSynthetic } from './synthetic.ts';
import { registerSplit } from './split.ts';
import { registerTrain } from './train.ts';
import { registerStPlusPlus } from './st-plus-plus.ts';
import { registerEval } from './eval.ts';
import { registerTable } from './table.ts';
import { registerSweep } from './sweep.ts';
import { registerReport } from './report.ts';
import { registerInfo } from './info.ts';
import { registerConvertWeights } from './convert-weights.ts';
import { registerQuickstart } from './quickstart.ts';

/** Every subcommand, in the order `sssseg --help` lists them. */
export const COMMANDS: RegisterCommand[] = [
  registerQuickstart,
  registerPrepareVoc,
  registerPrepareCityscapes,
  registerPrepareCamvid,
  registerSynthetic,
  registerSplit,
  registerTrain,
  registerStPlusPlus,
  registerEval,
  registerTable,
  registerSweep,
  registerReport,
  registerInfo,
  registerConvertWeights,
];
