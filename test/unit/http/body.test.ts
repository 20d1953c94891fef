import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../../../lib/errors.ts';
import { bodyBytes, MAX_BODY_BYTES, parseRequestBody } from '../../../lib/http/body.ts';
import { formRunEvent, jsonRunEvent, runInstancesEvent } from '../../helpers/events.ts';
import { seedExample, seedForm } from '../../helpers/requests.ts';

describe('bodyBytes', () => {
  it('returns the UTF-8 bytes of a plain body', () => {
    expect(bodyBytes({ body: 'é', isBase64Encoded: false })).toEqual(Buffer.from([0xc3, 0xa9]));
  });

  it('decodes a base64 body', () => {
    expect(bodyBytes({ body: Buffer.from('a=1').toString('base64'), isBase64Encoded: true }).toString()).toBe(
      'a=1',
    );
  });

  it('treats a missing body as empty', () => {
    expect(bodyBytes({ isBase64Encoded: false })).toHaveLength(0);
  });

  it('accepts a plain body of exactly 64 KiB', () => {
    expect(bodyBytes({ body: 'x'.repeat(MAX_BODY_BYTES), isBase64Encoded: false })).toHaveLength(
      MAX_BODY_BYTES,
    );
  });

  it('refuses a plain body one byte over 64 KiB with 413', () => {
    expect(() => bodyBytes({ body: 'x'.repeat(MAX_BODY_BYTES + 1), isBase64Encoded: false })).toThrow(
      PayloadTooLargeError,
    );
  });

  it('counts bytes, not characters: 32 Ki two-byte characters plus one is over the limit', () => {
    expect(() => bodyBytes({ body: `${'é'.repeat(MAX_BODY_BYTES / 2)}x`, isBase64Encoded: false })).toThrow(
      PayloadTooLargeError,
    );
  });

  it.each([MAX_BODY_BYTES - 2, MAX_BODY_BYTES - 1, MAX_BODY_BYTES])(
    'accepts a base64 body that decodes to %i bytes',
    (size) => {
      const body = Buffer.alloc(size, 0x61).toString('base64');
      expect(bodyBytes({ body, isBase64Encoded: true })).toHaveLength(size);
    },
  );

  it.each([MAX_BODY_BYTES + 1, MAX_BODY_BYTES + 2, MAX_BODY_BYTES + 3, MAX_BODY_BYTES * 4])(
    'refuses a base64 body that decodes to %i bytes with 413',
    (size) => {
      const body = Buffer.alloc(size, 0x61).toString('base64');
      expect(() => bodyBytes({ body, isBase64Encoded: true })).toThrow(PayloadTooLargeError);
    },
  );

  it('honours the limit for any decoded size (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 256 }), (size) => {
        const body = Buffer.alloc(size, 0x62).toString('base64');
        if (size <= 128) expect(bodyBytes({ body, isBase64Encoded: true }, 128)).toHaveLength(size);
        else expect(() => bodyBytes({ body, isBase64Encoded: true }, 128)).toThrow(PayloadTooLargeError);
      }),
    );
  });
});

describe('parseRequestBody', () => {
  it('parses a JSON body into the nested object', () => {
    expect(parseRequestBody(jsonRunEvent(seedExample(1)), 'seed-2017')).toEqual(seedExample(1));
  });

  it('decodes a base64 form body into the nested shape', () => {
    expect(parseRequestBody(formRunEvent(seedForm(1), { base64: true }), 'seed-2017')).toEqual({
      Action: 'RunInstances',
      Version: '2017-03-12',
      Placement: { Zone: 'ap-guangzhou-2' },
      ImageId: 'img-pmqg1cw7',
    });
  });

  it('reads the media type case-insensitively', () => {
    const event = runInstancesEvent({ contentType: 'Application/JSON', body: '{}' });
    expect(parseRequestBody(event, 'seed-2017')).toEqual({});
  });

  it('refuses a missing content type with 415', () => {
    expect(() => parseRequestBody(runInstancesEvent({ body: '{}' }), 'seed-2017')).toThrow(
      UnsupportedMediaTypeError,
    );
  });

  it('checks the media type before the size', () => {
    const event = runInstancesEvent({ contentType: 'text/plain', body: 'x'.repeat(MAX_BODY_BYTES + 1) });
    expect(() => parseRequestBody(event, 'seed-2017')).toThrow(UnsupportedMediaTypeError);
  });

  it('refuses invalid UTF-8 with a (body) violation', () => {
    const event = runInstancesEvent({
      contentType: 'application/json',
      body: Buffer.from([0x7b, 0xc3, 0x28, 0x7d]).toString('base64'),
      isBase64Encoded: true,
    });
    expect(() => parseRequestBody(event, 'seed-2017')).toThrow(InvalidRequestError);
  });

  it('names the position of a JSON syntax error without quoting the body', () => {
    try {
      parseRequestBody(jsonRunEvent('{"LoginSettings":{"Password":"hunter2-hunter2"'), 'seed-2017');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidRequestError);
      const violations = (error as InvalidRequestError).violations;
      expect(violations).toEqual([
        { param: '(body)', code: 'InvalidParameter', message: expect.any(String) },
      ]);
      expect(JSON.stringify(violations)).not.toContain('hunter2');
      expect((error as Error).message).not.toContain('hunter2');
    }
  });
});

describe('parseRequestBody: UTF-8 only, for every content type', () => {
  const thrown = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      return error;
    }
    throw new Error('expected a throw');
  };

  it.each(['iso-8859-1', 'latin1', 'UTF-16', '"windows-1252"'])('answers charset=%s with 415', (charset) => {
    const event = runInstancesEvent({ contentType: `application/json; charset=${charset}`, body: '{}' });
    expect(thrown(() => parseRequestBody(event, 'seed-2017'))).toBeInstanceOf(UnsupportedMediaTypeError);
  });

  it.each(['utf-8', 'UTF-8', 'utf8', '"utf-8"'])('accepts charset=%s', (charset) => {
    const event = runInstancesEvent({
      contentType: `application/json; charset=${charset}`,
      body: '{"ImageId":"x"}',
    });
    expect(parseRequestBody(event, 'seed-2017')).toEqual({ ImageId: 'x' });
  });

  it('refuses a text body holding U+FFFD, the mark of bytes that were not UTF-8', () => {
    const event = jsonRunEvent('{"InstanceName":"web-\uFFFD"}');
    expect(thrown(() => parseRequestBody(event, 'seed-2017'))).toMatchObject({
      violations: [{ param: '(body)', message: expect.stringContaining('is not UTF-8 (it holds U+FFFD') }],
    });
  });

  it('refuses a base64 JSON body whose bytes are not UTF-8', () => {
    const event = runInstancesEvent({
      contentType: 'application/json',
      body: Buffer.from([0x7b, 0xff, 0x7d]).toString('base64'),
      isBase64Encoded: true,
    });
    expect(thrown(() => parseRequestBody(event, 'seed-2017'))).toBeInstanceOf(InvalidRequestError);
  });

  it('says to send application/json for JSON that came as a form', () => {
    const event = formRunEvent(JSON.stringify(seedExample(1)));
    expect(thrown(() => parseRequestBody(event, 'seed-2017'))).toMatchObject({
      violations: [{ message: expect.stringContaining('send Content-Type: application/json') }],
    });
  });

  it('says to send application/json for JSON that came with no content type', () => {
    const event = runInstancesEvent({ body: JSON.stringify(seedExample(1)) });
    expect(thrown(() => parseRequestBody(event, 'seed-2017'))).toMatchObject({
      message: expect.stringContaining('looks like JSON: send it with Content-Type: application/json'),
    });
  });

  it('still reads a real form body sent as a form', () => {
    expect(parseRequestBody(formRunEvent(seedForm(1)), 'seed-2017')).toMatchObject({
      ImageId: expect.any(String),
    });
  });
});
