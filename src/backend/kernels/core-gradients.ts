/**
 * tfjs-core's CommonJS bundle (what `import '@tensorflow/tfjs-core'` loads in Node) carries no
 * gradient functions: they ship only as the ESM sources behind
 * `@tensorflow/tfjs-core/dist/register_all_gradients.js`, which the `@tensorflow/tfjs` union
 * package would normally load. Those sources use extension-less relative imports, some of which
 * (`./gradients`) also name a directory, so Node/tsx cannot resolve them as written. A tiny resolve
 * hook, scoped to importers inside tfjs-core/dist, tries `<specifier>.js` first.
 *
 * The ESM copy of tfjs-core shares the engine and the kernel/gradient registries with the CJS one
 * (tfjs keeps them on globalThis precisely so that several copies can coexist), so registering
 * from it is equivalent. Loading takes ~2 s, hence it happens once and only when a backend starts.
 */
import { register } from 'node:module';

const RESOLVE_HOOK = `
export async function resolve(specifier, context, next) {
  const parent = context.parentURL;
  if (parent && parent.includes('/@tensorflow/tfjs-core/dist/') && specifier.startsWith('.') &&
      !specifier.endsWith('.js')) {
    try { return await next(specifier + '.js', context); } catch { /* not a file: fall through */ }
  }
  return next(specifier, context);
}`;

let loading: Promise<void> | null = null;

/** Registers every tfjs-core gradient (idempotent). Must finish before our overrides register. */
export function loadCoreGradients(): Promise<void> {
  loading ??= (async () => {
    register('data:text/javascript,' + encodeURIComponent(RESOLVE_HOOK));
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  })();
  return loading;
}
