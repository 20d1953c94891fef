import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The boundaries docs/architecture.md draws, checked on the source itself: a boundary a test does not
 * hold is a boundary the next change crosses.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function filesUnder(dir: string, extension = '.ts'): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) out.push(...filesUnder(path, extension));
    else if (name.endsWith(extension)) out.push(path);
  }
  return out;
}

const source = (file: string) => readFileSync(join(ROOT, file), 'utf8');
/** Every module a file imports or re-exports, whatever the formatter did to the statement's lines. */
const importsOf = (file: string) =>
  [...source(file).matchAll(/^(?:import|export)\b[^;]*?\bfrom '([^']+)';/gms)].map((m) => m[1] ?? '');
const resolved = (file: string, spec: string) => relative(ROOT, join(ROOT, file, '..', spec));
const LIB = filesUnder('lib');

describe('the job item is written only through the lifecycle', () => {
  it('sends UpdateItem only from the store, the idempotency records and the ClientToken reservations', () => {
    const updaters = LIB.filter((file) => /new UpdateCommand\(/.test(source(file)));
    expect(updaters.sort()).toEqual([
      'lib/jobs/client-tokens.ts',
      'lib/jobs/idempotency.ts',
      'lib/jobs/store.ts',
    ]);
  });

  it('calls the store write engine (writeJob) only from the lifecycle table and the outbox', () => {
    const writers = LIB.filter((file) => file !== 'lib/jobs/store.ts' && /\bwriteJob\(/.test(source(file)));
    expect(writers.sort()).toEqual(['lib/jobs/lifecycle.ts', 'lib/jobs/outbox.ts']);
  });

  it('puts items at a job key only to create a job or settle its unknown write', () => {
    const store = source('lib/jobs/store.ts');
    expect([...store.matchAll(/new PutCommand\(/g)]).toHaveLength(2);
    expect(LIB.filter((file) => file !== 'lib/jobs/store.ts' && /jobKey\(/.test(source(file)))).toEqual([]);
  });
});

describe('dependencies point one way', () => {
  it('sees every import of a file, those the formatter spread over lines included', () => {
    const accept = importsOf('lib/jobs/accept.ts');
    expect(accept).toContain('../errors.ts');
    expect(accept).toContain('../run-instances/index.ts');
    expect(accept.length).toBe([...source('lib/jobs/accept.ts').matchAll(/^import /gm)].length);
  });

  it('reads the environment only in lib/config.ts', () => {
    const readers = [...LIB, ...filesUnder('handlers')].filter((file) => /process\.env/.test(source(file)));
    expect(readers).toEqual(['lib/config.ts']);
  });

  it('builds AWS and Tencent clients only in the composition root', () => {
    const builders = [...LIB, ...filesUnder('handlers')].filter((file) =>
      /new (DynamoDBClient|SQSClient|SecretsManagerClient)\(|createTencentClient\(/.test(source(file)),
    );
    expect(builders.sort()).toEqual(['lib/deps.ts', 'lib/deps/aws.ts', 'lib/tencent/client.ts'].sort());
  });

  it('keeps lib/tencent free of configuration and of the request model', () => {
    for (const file of filesUnder('lib/tencent')) {
      for (const spec of importsOf(file)) {
        const target = resolved(file, spec);
        expect(target, `${file} imports ${spec}`).not.toMatch(/^lib\/(config|run-instances|jobs|api|http)/);
      }
    }
  });

  it('keeps HTTP out of the job engine: lib/jobs imports nothing from lib/http or lib/api', () => {
    for (const file of filesUnder('lib/jobs')) {
      for (const spec of importsOf(file))
        expect(resolved(file, spec), `${file} imports ${spec}`).not.toMatch(/^lib\/(http|api)\//);
      expect(source(file), file).not.toMatch(/statusCode|HttpEvent|HttpResponse/);
    }
  });

  it('defines the CVM API version once', () => {
    const definitions = [...LIB, ...filesUnder('local')].filter((file) => /'2017-03-12'/.test(source(file)));
    expect(definitions).toEqual(['lib/tencent/wire.ts']);
  });
});

describe('the repository stands alone', () => {
  /**
   * What a file cites, checked by one rule each rather than by a list of names: every Markdown file it names
   * exists in the repository (beside it, from the root, or under docs/), no relative path climbs out of the
   * repository, and a section sign belongs to a public source on the same line (an RFC, a URL).
   */
  /** Whether a path, relative to the repository's root, names something inside it. */
  const inRepo = (path: string) => {
    if (path.startsWith('..')) return false;
    try {
      statSync(join(ROOT, path));
      return true;
    } catch {
      return false;
    }
  };
  /** A path cut short where a template fills it in (`example-${n}.json`): some entry of its folder starts so. */
  const startsInRepo = (path: string) =>
    inRepo(dirname(path)) &&
    readdirSync(join(ROOT, dirname(path))).some((entry) => entry.startsWith(basename(path)));
  function outsideReferences(file: string, original = source(file)): string[] {
    const text = original.replace(/https?:\/\/\S+/g, '');
    const here = (path: string) => relative(ROOT, join(ROOT, file, '..', path));
    const found: string[] = [];
    for (const [name = ''] of text.matchAll(/[\w./-]*\w\.md\b/g))
      if (![here(name), name, join('docs', name)].some(inRepo)) found.push(name);
    for (const [path = ''] of text.matchAll(/(?:\.\.\/)+[\w.-]+(?:\/[\w.-]*\w)*/g))
      if (!inRepo(here(path)) && !startsInRepo(here(path))) found.push(path);
    for (const line of original.split('\n'))
      if (line.includes('§') && !/RFC \d+|https?:\/\//.test(line)) found.push(line.trim());
    return [...new Set(found)];
  }
  /** This file states the rules, so it names what they catch. */
  const CHECKER = 'test/unit/architecture.test.ts';

  it.each(['lib', 'handlers', 'local', 'bin', 'bench', 'test', 'docs'])(
    'points at nothing outside the repository from %s/',
    (dir) => {
      const files = [...filesUnder(dir, '.ts'), ...filesUnder(dir, '.md'), ...filesUnder(dir, '.yml')];
      const offenders = files
        .filter((file) => file !== CHECKER)
        .flatMap((file) => outsideReferences(file).map((what) => `${file}: ${what}`));
      expect(offenders).toEqual([]);
    },
  );

  it('points at nothing outside the repository from the README and serverless.yml', () => {
    expect(outsideReferences('README.md')).toEqual([]);
    expect(outsideReferences('serverless.yml')).toEqual([]);
  });

  it('catches what it is for: an absent Markdown file, a path out of the repository, a bare section sign', () => {
    // Put together here, so that this file itself names no such file or path.
    const absent = ['NOTES', 'md'].join('.');
    const outside = ['..', '..', '..', 'shared', 'x.md'].join('/');
    const line = `see ${absent} and docs/aws.md, ${outside}, ../../lib and ../nowhere, the design § 4`;
    expect(outsideReferences('test/unit/probe.ts', `${line}\nRFC 9110 §11.1`)).toEqual([
      absent,
      outside,
      '../nowhere',
      line,
    ]);
  });
});
