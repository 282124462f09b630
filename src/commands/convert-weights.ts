import path from 'node:path';
import { readWeightsFile } from '../models/pretrained.ts';
import { writeSafetensors } from '../io/safetensors.ts';

/**
 * `.pth` → `.safetensors` with the state_dict names and PyTorch layouts unchanged (conv OIHW), so
 * the output is what safetensors distributions of the same weights look like and loads through
 * the same name mapping. Only the tensors of the state dict are kept.
 */
export async function convertWeights(input: string, output: string): Promise<{ tensors: number; values: number }> {
  const tensors = await readWeightsFile(input);
  let values = 0;
  for (const t of tensors.values()) values += t.shape.reduce((a, b) => a * b, 1);
  await writeSafetensors(output, tensors, { format: 'pt', converted_from: path.basename(input) });
  return { tensors: tensors.size, values };
}
