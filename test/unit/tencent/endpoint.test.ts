import { describe, expect, it } from 'vitest';
import { parseEndpoint } from '../../../lib/tencent/endpoint.ts';

describe('parseEndpoint', () => {
  it('accepts the https API host with path /', () => {
    expect(parseEndpoint('https://cvm.tencentcloudapi.com')).toEqual({
      origin: 'https://cvm.tencentcloudapi.com',
      host: 'cvm.tencentcloudapi.com',
      hostname: 'cvm.tencentcloudapi.com',
      path: '/',
    });
  });

  it('keeps the legacy gateway path', () => {
    expect(parseEndpoint('https://cvm.api.qcloud.com/v2/index.php').path).toBe('/v2/index.php');
  });

  it.each(['http://127.0.0.1:3001', 'http://localhost:3001', 'http://[::1]:3001'])(
    'allows plain http to loopback %s',
    (url) => {
      expect(parseEndpoint(url).origin).toBe(new URL(url).origin);
    },
  );

  it('signs the host with its port for v1 and without it for TC3', () => {
    const endpoint = parseEndpoint('http://127.0.0.1:3001');
    expect(endpoint.host).toBe('127.0.0.1:3001');
    expect(endpoint.hostname).toBe('127.0.0.1');
  });

  it.each([
    'http://cvm.tencentcloudapi.com',
    'http://10.0.0.1',
    'ftp://127.0.0.1',
    'not a url',
    'https://u:p@cvm.tencentcloudapi.com',
  ])('refuses %s', (url) => {
    expect(() => parseEndpoint(url)).toThrow();
  });
});
