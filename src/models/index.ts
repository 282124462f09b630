/** The model package: configs, networks, parameter and FLOP counts. */
export { modelConfigSchema, modelConfig, type ModelConfig, type ModelConfigInput } from './config.ts';
export type { ParamKind, ParamGroup } from './nn/params.ts';
export { buildSegNet, type SegNet, type ParamInfo, type SegOutputs, type ForwardOptions } from './segnet.ts';
export { modelCost } from './cost.ts';
