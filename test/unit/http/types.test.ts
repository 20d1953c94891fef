import { describe, expect, it } from 'vitest';
import { header, jsonResponse } from '../../../lib/http/types.ts';

describe('header', () => {
  it('finds a header whatever the case of its name', () => {
    expect(header({ headers: { 'Idempotency-Key': 'k1' } }, 'idempotency-key')).toBe('k1');
  });

  it('returns undefined for a missing header', () => {
    expect(header({ headers: {} }, 'content-type')).toBeUndefined();
  });
});

describe('jsonResponse', () => {
  it('serializes the body with content-type application/json and no caching', () => {
    expect(jsonResponse(200, { a: 1 })).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: '{"a":1}',
    });
  });
});
