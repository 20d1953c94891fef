/**
 * `npm run chaos -- [--jobs N] [--seed S]`: the fault-injection run of test/e2e/chaos.test.ts at any scale
 * (test/helpers/chaos.ts says what it does to the local stack), printing the invariants as a table and what was
 * injected. Exits 1 when an invariant was broken. The stack's and the functions' log lines (warn and above
 * unless --log-level says otherwise) go to the file --log names, or nowhere.
 */
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatReport, runChaos } from '../test/helpers/chaos.ts';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '200' },
    seed: { type: 'string' },
    log: { type: 'string' },
    'log-level': { type: 'string', default: 'warn' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('usage: npm run chaos -- [--jobs N] [--seed S] [--log FILE] [--log-level info|warn|error]');
  process.exit(0);
}
const jobs = Number(values.jobs);
if (!Number.isInteger(jobs) || jobs < 10) {
  console.error(`--jobs must be a whole number of at least 10 (got "${values.jobs}")`);
  process.exit(2);
}
const seed = values.seed === undefined ? undefined : Number(values.seed);
if (seed !== undefined && !Number.isInteger(seed)) {
  console.error(`--seed must be a whole number (got "${values.seed}")`);
  process.exit(2);
}
const log = values.log ? createWriteStream(values.log) : undefined;
const report = await runChaos({
  jobs,
  ...(seed === undefined ? {} : { seed }),
  // Waiting for the end grows with the jobs: the submitters drain 9 RunInstances a second.
  settleTimeoutMs: 180_000 + jobs * 200,
  logLevel: values['log-level'],
  ...(log ? { logSink: (line: string) => log.write(`${line}\n`) } : {}),
  progress: (line) => console.log(line),
});
log?.end();
console.log(formatReport(report));
process.exit(report.invariants.every((invariant) => invariant.violations.length === 0) ? 0 : 1);
