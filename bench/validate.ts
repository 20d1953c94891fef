/**
 * Validations per second of seed example 2, as JSON and as the flattened form (issue 2's goal: >= 50,000/s on
 * one core, i.e. under 20 µs of validation per request). Prints figures; asserts nothing.
 *   npm run bench:validate
 */
import { readFileSync } from 'node:fs';
import { validateFlattenedRunInstances, validateRunInstances } from '../lib/run-instances/index.ts';

const json = readFileSync(new URL('../events/seed/example-2.json', import.meta.url), 'utf8');
const form = readFileSync(new URL('../events/seed/example-2.form', import.meta.url), 'utf8');
const parsed: unknown = JSON.parse(json);
const profile = 'seed-2017' as const;

const cases: Record<string, () => boolean> = {
  'JSON, parsed object': () => validateRunInstances(parsed, { profile }).ok,
  'JSON, text incl. JSON.parse': () => validateRunInstances(JSON.parse(json), { profile }).ok,
  'flattened form text': () => validateFlattenedRunInstances(form, { profile }).ok,
};

/** Runs fn for about `ms` milliseconds and returns calls per second. */
function measure(fn: () => boolean, ms: number): number {
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 1000; i++) if (!fn()) throw new Error('seed example 2 failed validation');
    calls += 1000;
    elapsed = performance.now() - start;
  }
  return (calls / elapsed) * 1000;
}

console.log(
  `node ${process.version}, profile ${profile}, seed example 2; median of 5 runs of 1 s after 1 s warm-up`,
);
for (const [name, fn] of Object.entries(cases)) {
  measure(fn, 1000);
  const runs = Array.from({ length: 5 }, () => measure(fn, 1000)).sort((a, b) => a - b);
  const median = runs[2] ?? 0;
  console.log(
    `${name.padEnd(30)} ${Math.round(median).toLocaleString('en-US').padStart(10)} validations/s  ` +
      `(${(1e6 / median).toFixed(1)} µs each; goal >= 50,000/s)`,
  );
}
