import { initBackend, type BackendChoice } from '../../src/backend/index.ts';

/** Tests run on wasm (the embedded default) unless SSSSEG_TEST_BACKEND says otherwise. */
export async function useTestBackend(name?: BackendChoice): Promise<void> {
  const chosen = name ?? ((process.env['SSSSEG_TEST_BACKEND'] as BackendChoice | undefined) ?? 'wasm');
  await initBackend(chosen);
}
