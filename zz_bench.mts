import { METHODS } from './src/methods/index.ts';
import { u2pl } from './src/methods/u2pl.ts';
(METHODS as Record<string, unknown>)['u2pl'] = u2pl;
const { benchmark } = await import('./bench/u2pl.ts');
const r = await benchmark.run(process.argv.slice(2), (l) => process.stderr.write(l + '\n'));
console.log(r.table); console.log(JSON.stringify(r.json));
