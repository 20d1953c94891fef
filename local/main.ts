/**
 * `npm start`: the local stack on http://127.0.0.1:${PORT:-3000}, data under .data/ (docs/local-stack.md).
 * Ctrl-C stops it.
 */
import { readFileSync } from 'node:fs';
import { startLocalStack } from './stack.ts';

const port = Number(process.env.PORT ?? 3000);
const stack = await startLocalStack({ port });
const example = JSON.stringify(
  JSON.parse(readFileSync(new URL('../events/seed/example-2.json', import.meta.url), 'utf8')),
);
const token = stack.devToken ?? '<one of your API_TOKENS>';
const functions = stack.functions
  .map((fn) => {
    const events = fn.events.map((event) =>
      event.kind === 'httpApi' ? event.routeKey : event.kind === 'sqs' ? `SQS ${event.queue}` : 'schedule',
    );
    return `  ${fn.name.padEnd(10)}${events.join(' · ')}`;
  })
  .join('\n');
const idle = stack.unconsumedQueues.length
  ? `\n  Nothing consumes ${stack.unconsumedQueues.join(', ')} yet: jobs stay QUEUED until the submitter exists.\n`
  : '';

console.log(`
cvm-provisioner local stack
  API        ${stack.url}
  token      ${token}   (caller "dev"; Authorization: Bearer …)
  DynamoDB   ${stack.emulators.dynamodbEndpoint}   table ${stack.tableName} (data in .data/)
  SQS        ${stack.emulators.sqsEndpoint}
  Tencent    ${stack.tencentEndpoint}${stack.simulator ? '   (the local CVM simulator)' : ''}

Functions (serverless.yml):
${functions}
${idle}
Create the seed's example 2 (a prepaid S1.SMALL1 in ap-guangzhou-2):

  curl -sS -i -X POST ${stack.url}/v1/run-instances \\
    -H 'Authorization: Bearer ${token}' \\
    -H 'Content-Type: application/json' \\
    --data '${example}'

Then GET the Location it answers with (same Authorization header). Ctrl-C stops the stack.
`);
if (stack.requeued > 0) console.log(`Re-enqueued ${stack.requeued} job(s) left QUEUED by an earlier run.`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping…');
    void stack.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
