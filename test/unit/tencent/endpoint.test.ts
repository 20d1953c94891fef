import { MockAgent } from 'undici';
import { describe, expect, it } from 'vitest';
import { createTencentClient } from '../../../lib/tencent/client.ts';
import { staticCredentials } from '../../../lib/tencent/credentials.ts';
import { DEFAULT_ENDPOINT, parseEndpoint, regionalEndpoint } from '../../../lib/tencent/endpoint.ts';

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

describe('regionalEndpoint', () => {
  it.each([
    ['ap-guangzhou', 'https://cvm.ap-guangzhou.tencentcloudapi.com'],
    ['ap-shanghai-fsi', 'https://cvm.ap-shanghai-fsi.tencentcloudapi.com'],
    ['na-siliconvalley', 'https://cvm.na-siliconvalley.tencentcloudapi.com'],
  ])('sends calls for %s to its own host', (region, url) => {
    expect(regionalEndpoint(region)).toBe(url);
  });

  it('uses the nearest access point for a call that names no region', () => {
    expect(regionalEndpoint(undefined)).toBe(DEFAULT_ENDPOINT);
  });

  it.each(['evil.example.com/', 'ap-guangzhou.attacker', 'AP-GUANGZHOU', ''])(
    'refuses %j as a region',
    (region) => {
      expect(() => regionalEndpoint(region)).toThrow('is not a region id');
    },
  );
});

describe('a client without TENCENTCLOUD_ENDPOINT', () => {
  it("calls each region's own host, signing that host", async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    const seen: string[] = [];
    for (const region of ['ap-guangzhou', 'ap-shanghai-fsi']) {
      agent
        .get(`https://cvm.${region}.tencentcloudapi.com`)
        .intercept({ path: '/', method: 'POST' })
        .reply(200, (request) => {
          seen.push(
            `${region} ${String((request.headers as Record<string, string>).authorization).includes('tc3_request')}`,
          );
          return { Response: { RequestId: 'r' } };
        });
    }
    const client = createTencentClient({
      signMethod: 'TC3-HMAC-SHA256',
      credentials: staticCredentials('AKIDexample', 'secret'),
      dispatcher: agent,
    });
    await client.call('DescribeInstances', { Limit: 1 }, { region: 'ap-guangzhou' });
    await client.call('DescribeInstances', { Limit: 1 }, { region: 'ap-shanghai-fsi' });
    expect(seen).toEqual(['ap-guangzhou true', 'ap-shanghai-fsi true']);
    await client.close();
    await agent.close();
  });
});
