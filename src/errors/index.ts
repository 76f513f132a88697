/**
 * One error class for the whole project, parameterised by a union of string codes per domain.
 * Expected outcomes (deny, invalid token) are returned as tagged results; errors are for faults.
 * Messages never carry a token, key or secret.
 *
 * @example throw new GatehouseError<ConfigErrorCode>('CONFIG_INVALID', 'listen.port: expected a number');
 */
export class GatehouseError<Code extends string = string> extends Error {
  override readonly name = 'GatehouseError';
  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `err` is a GatehouseError, optionally with one of the given codes. */
export function isGatehouseError<C extends string>(
  err: unknown,
  ...codes: C[]
): err is GatehouseError<C> {
  return err instanceof GatehouseError && (codes.length === 0 || codes.includes(err.code as C));
}

/** A short, secret-free description of an unknown thrown value, for logs and one-line CLI errors. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
