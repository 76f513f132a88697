import { GatehouseError } from '../errors/index.js';

/**
 * - `CLIENT_UNAVAILABLE`: Gatehouse could not be reached, did not answer in time, or answered
 *   that it cannot decide or record right now (5xx). Nothing may run on it.
 * - `CLIENT_REFUSED`: Gatehouse refused the request (4xx): bad credential, bad body, not found,
 *   conflict. `status` and `error` say which.
 * - `CLIENT_BAD_ANSWER`: the answer is not what this client expects (not JSON, wrong shape).
 * - `CLIENT_MISUSE`: the client was asked for something it cannot do (no credential, bad URL).
 */
export type ClientErrorCode =
  'CLIENT_UNAVAILABLE' | 'CLIENT_REFUSED' | 'CLIENT_BAD_ANSWER' | 'CLIENT_MISUSE';

/**
 * An error of the Gatehouse client. Its message never carries the credential it was used with.
 * @example try { await client.decide(req) } catch (err) { if (err instanceof GatehouseClientError && err.status === 401) ... }
 */
export class GatehouseClientError extends GatehouseError<ClientErrorCode> {
  constructor(
    code: ClientErrorCode,
    message: string,
    /** The HTTP status of a refusal or server error. */
    readonly status?: number,
    /** The API's error code (`invalid_token`, `not_found`, `conflict`, ...). */
    readonly error?: string,
  ) {
    super(code, message);
  }
}
