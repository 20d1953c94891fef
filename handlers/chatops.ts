import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { handleSlashCommand } from '../lib/chatops/command.ts';
import { createChatDeps } from '../lib/deps/http.ts';
import { instrument } from '../lib/invocation.ts';

const deps = createChatDeps();

/**
 * POST /v1/chatops/slack (no IAM authorizer: the platform's signature or token is the authentication). The
 * signature covers the raw bytes, which API Gateway hands over base64-encoded for a form body.
 */
export const handler = instrument(deps.observability, async (event: APIGatewayProxyEventV2) => {
  const rawBody = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  const headers = Object.fromEntries(
    Object.entries(event.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
  );
  return handleSlashCommand(deps, { headers, rawBody });
});
