/**
 * The signature methods Tencent API 3.0 accepts (docs/tencent.md, "TC3-HMAC-SHA256" and "v1 signing"); its
 * own module so config stays light.
 */
export const SIGN_METHODS = ['TC3-HMAC-SHA256', 'HmacSHA256', 'HmacSHA1'] as const;
export type SignMethod = (typeof SIGN_METHODS)[number];
