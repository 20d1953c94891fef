/**
 * Variants of the project's serverless.yml for tests that run the local stack with some functions left out
 * or some settings changed (handler paths stay relative to the project root, where the runtime resolves them).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { SERVERLESS_YML } from '../../local/resources.ts';

interface ServerlessFile {
  functions: Record<string, Record<string, unknown>>;
  resources: { Resources: Record<string, { Properties: Record<string, unknown> }> };
  provider: { environment: Record<string, unknown> };
}

/** Writes an edited copy of serverless.yml into a fresh temporary directory and returns its path. */
export function serverlessVariant(edit: (file: ServerlessFile) => void): string {
  const file = parse(readFileSync(SERVERLESS_YML, 'utf8')) as ServerlessFile;
  edit(file);
  const path = join(mkdtempSync(join(tmpdir(), 'cvmp-sls-')), 'serverless.yml');
  writeFileSync(path, stringify(file));
  return path;
}

/** serverless.yml without the named functions (their queues then keep every message sent to them). */
export function serverlessWithout(...names: string[]): string {
  return serverlessVariant((file) => {
    for (const name of names) delete file.functions[name];
  });
}
