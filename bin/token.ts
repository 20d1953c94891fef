/**
 * Makes a bearer token for token mode (AUTH_MODE=token):
 *   npm run token -- alice
 * Prints the token (give it to the caller) and the API_TOKENS entry that admits it (configure that; only
 * the token's SHA-256 is ever stored). Usage errors exit 2.
 */
import { createHash, randomBytes } from 'node:crypto';

const name = process.argv[2];
if (!name || process.argv.length > 3 || !/^[A-Za-z0-9._@-]{1,64}$/.test(name)) {
  console.error('usage: npm run token -- <caller name: 1-64 letters, digits and ._@->');
  process.exitCode = 2;
} else {
  // 32 random bytes: far beyond guessing, and a token68 as the Authorization header needs it.
  const token = randomBytes(32).toString('base64url');
  const entry = `${name}:${createHash('sha256').update(token).digest('hex')}`;
  console.log(`token (give it to ${name}; it is not stored anywhere):\n  ${token}`);
  console.log(`API_TOKENS entry (add it to the comma-separated list):\n  ${entry}`);
}
