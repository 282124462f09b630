import { initBackend } from './src/backend/index.ts';
import { installKernels } from './src/backend/kernels/index.ts';
await initBackend('wasm');
await installKernels('wasm');
