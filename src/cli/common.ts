import { parseDuration } from '../config/index.js';
import { GatehouseError } from '../errors/index.js';

export type CliErrorCode = 'BAD_OPTION' | 'REMOTE_FAILED' | 'NOT_VALID';

export function bad(message: string): GatehouseError<CliErrorCode> {
  return new GatehouseError<CliErrorCode>('BAD_OPTION', message);
}

interface Checkable {
  safeParse(v: unknown): { success: boolean; error?: { issues: { message: string }[] } };
}

/** Collects option problems so that every bad option is reported at once. */
export class OptionCheck {
  private readonly problems: string[] = [];

  field(flag: string, schema: Checkable, value: unknown): this {
    if (value === undefined) return this;
    const r = schema.safeParse(value);
    if (!r.success) this.problems.push(`${flag} ${r.error?.issues[0]?.message ?? 'is invalid'}`);
    return this;
  }

  duration(flag: string, text: string | undefined): number | undefined {
    if (text === undefined) return undefined;
    const ms = parseDuration(text);
    if (ms === undefined)
      this.problems.push(`${flag} "${text}" is not a duration such as 30s, 15m or 1h`);
    return ms;
  }

  problem(message: string): this {
    this.problems.push(message);
    return this;
  }

  /** Throws one error naming every problem found. */
  done(): void {
    if (this.problems.length) throw bad(this.problems.join('; '));
  }
}

/** A call to a remote Gatehouse's control plane with a person's key (`GATEHOUSE_ADMIN_KEY`). */
export async function remoteCall(
  baseUrl: string,
  path: string,
  body: unknown,
  opts: { adminKey?: string; bearer?: string; form?: boolean; method?: 'GET' | 'POST' } = {},
): Promise<Record<string, unknown>> {
  const url = new URL(path, baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  const headers: Record<string, string> = {
    'content-type': opts.form ? 'application/x-www-form-urlencoded' : 'application/json',
  };
  const credential = opts.adminKey ?? opts.bearer;
  if (credential) headers.authorization = `Bearer ${credential}`;
  const method = opts.method ?? 'POST';
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      body:
        method === 'GET'
          ? null
          : opts.form
            ? new URLSearchParams(body as Record<string, string>).toString()
            : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    throw new GatehouseError<CliErrorCode>(
      'REMOTE_FAILED',
      `cannot reach ${url.origin}: ${(err as Error).message}`,
    );
  }
  const data = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    const why =
      typeof data.error_description === 'string' ? data.error_description : `HTTP ${res.status}`;
    throw new GatehouseError<CliErrorCode>('REMOTE_FAILED', `${url.origin} refused: ${why}`);
  }
  return data;
}

/**
 * A person's key from the environment (never a flag: flags end up in shell history).
 * @example remoteCall(url, 'v1/keys/rotate', {}, { adminKey: adminKeyFromEnv() })
 */
export function adminKeyFromEnv(needs = 'a person key with the admin role to use --url'): string {
  const key = process.env.GATEHOUSE_ADMIN_KEY;
  if (!key) throw bad(`set GATEHOUSE_ADMIN_KEY to ${needs}`);
  return key;
}
