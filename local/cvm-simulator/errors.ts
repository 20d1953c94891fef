/** A Tencent-style business error: answered as HTTP 200 with `Response.Error`. */
export class SimError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}
