/** The signature methods Tencent API 3.0 accepts (reference §3, §4); its own module so config stays light. */
export const SIGN_METHODS = ['TC3-HMAC-SHA256', 'HmacSHA256', 'HmacSHA1'] as const;
export type SignMethod = (typeof SIGN_METHODS)[number];
