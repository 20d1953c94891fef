/**
 * `npm run bench`: runs every `bench:*` script of package.json one after another and writes bench/REPORT.md —
 * each figure a script prints beside its goal, counts first (calls per request, per job, per poll), then
 * ratios measured side by side in one run, then absolute figures, with the machine, Node version and date;
 * then every script's whole output. The scripts assert nothing; neither does this.
 *   npm run bench                 every script
 *   npm run bench -- api poll     only bench:api and bench:poll (the report says which ran)
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

const ROOT = new URL('../', import.meta.url);
const scripts = Object.keys(
  (JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as { scripts: Record<string, string> })
    .scripts,
)
  .filter((name) => name.startsWith('bench:'))
  .map((name) => name.slice('bench:'.length));
const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !scripts.includes(name));
if (unknown.length) {
  console.error(`no bench:${unknown.join(', bench:')}; there are ${scripts.join(', ')}`);
  process.exit(2);
}
const chosen = wanted.length ? scripts.filter((name) => wanted.includes(name)) : scripts;

type Kind = 'count' | 'ratio' | 'absolute';
interface Figure {
  bench: string;
  kind: Kind;
  line: string;
}

/** What a goal line measures: a count (calls, jobs), a ratio (`…x`), or an absolute rate or time. */
function kindOf(line: string): Kind {
  if (/\d(\.\d+)?x\b|\bratio\b|\/ bare/.test(line)) return 'ratio';
  if (/\bcalls?\b|\bper job\b|\bgoal 0\b|Σ|\bQuery\b|\bwrite\b/.test(line) && !/\/s\b/.test(line))
    return 'count';
  return 'absolute';
}

const figures: Figure[] = [];
const outputs: Array<{ bench: string; seconds: number; status: number | null; text: string }> = [];
for (const bench of chosen) {
  console.log(`bench:${bench} …`);
  const started = performance.now();
  const run = spawnSync('npm', ['run', '-s', `bench:${bench}`], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = (performance.now() - started) / 1000;
  const text = `${run.stdout ?? ''}${run.stderr ? `\n${run.stderr}` : ''}`.trimEnd();
  outputs.push({ bench, seconds, status: run.status, text });
  for (const line of text.split('\n')) {
    if (/\bgoals?\b/i.test(line)) figures.push({ bench, kind: kindOf(line), line: line.trim() });
    // bench:cold's table: one row per function, its goal in the heading.
    else if (bench === 'cold' && /^\w+\s+sqs \+ .*\d\.\d\dx/.test(line))
      figures.push({ bench, kind: 'ratio', line: `${line.trim().replace(/\s{2,}/g, '  ')}  (goal <= 1.3x)` });
  }
  console.log(`  ${run.status === 0 ? 'done' : `exit ${run.status}`} in ${seconds.toFixed(0)} s`);
}

const cpu = cpus();
const machine = `${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown CPU'}), ${Math.round(totalmem() / 2 ** 30)} GiB, ${process.platform} ${process.arch}, Node ${process.version}`;
const cell = (text: string) => text.replaceAll('|', '\\|');
const section = (kind: Kind, title: string) => {
  const rows = figures.filter((f) => f.kind === kind);
  if (!rows.length) return '';
  return [
    `## ${title}`,
    '',
    '| bench | the figure, with its goal |',
    '|---|---|',
    ...rows.map((f) => `| ${f.bench} | ${cell(f.line)} |`),
    '',
  ].join('\n');
};

const report = [
  '# Benchmark report',
  '',
  `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${machine}.`,
  `Scripts run: ${chosen.map((name) => `\`bench:${name}\``).join(', ')}.`,
  'Each line is a figure a script printed beside its goal. Counts do not depend on the machine; ratios are',
  'measured side by side in one run; absolute figures differ by 3-4x between machines and are given with this',
  'one. The scripts assert nothing: a missed goal is read here; why each is missed, and what would close it, is in',
  '[docs/testing.md](../docs/testing.md) ("Benchmarks").',
  '',
  section('count', 'Counts'),
  section('ratio', 'Ratios (side by side, one run)'),
  section('absolute', 'Absolute figures (this machine)'),
  '## Every script’s output',
  '',
  ...outputs.flatMap((o) => [
    `### bench:${o.bench} (${o.seconds.toFixed(0)} s${o.status === 0 ? '' : `, exit ${o.status}`})`,
    '',
    '```',
    o.text,
    '```',
    '',
  ]),
].join('\n');
writeFileSync(new URL('bench/REPORT.md', ROOT), report);
console.log(`bench/REPORT.md: ${figures.length} figures with goals from ${chosen.length} scripts`);
if (outputs.some((o) => o.status !== 0)) process.exitCode = 1;
