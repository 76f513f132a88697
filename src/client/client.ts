/**
 * A typed client for Gatehouse's HTTP API: decisions, results, token exchange, run inputs,
 * approvals and the audit log. Every answer is parsed; every failure is a GatehouseClientError.
 */
import type { z } from 'zod';
import {
  approvalAnswer,
  approvalListAnswer,
  decisionAnswer,
  entryAnswer,
  errorAnswer,
  exchangeAnswer,
  inputAnswer,
  resultAnswer,
  runAnswer,
  type ApprovalAnswer,
  type DecisionAnswer,
  type EntryAnswer,
  type ExchangeAnswer,
  type InputAnswer,
  type ResultAnswer,
  type RunAnswer,
} from './answers.js';
import { GatehouseClientError } from './errors.js';

/** The default time a request may take before it is abandoned (`CLIENT_UNAVAILABLE`). */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** Answers larger than this are refused (`CLIENT_BAD_ANSWER`): Gatehouse never sends one. */
const MAX_ANSWER_BYTES = 8 * 1024 * 1024;
const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

export interface GatehouseClientOptions {
  /** Base URL of the Gatehouse, e.g. `http://127.0.0.1:4100`. */
  readonly url: string;
  /** An agent credential: decide, record results, exchange, register inputs, read its run. */
  readonly token?: string;
  /** A person's key (`ghk_...`): approvals, and the whole audit log. */
  readonly adminKey?: string;
  /** The fetch to use (default: the global one); e.g. a Gatehouse app in this process. */
  readonly fetch?: (input: Request) => Promise<Response>;
  /** How long one request may take (default 10 s). No request is ever retried. */
  readonly timeoutMs?: number;
}

/** A tool call to decide. `tool` is `<server>__<tool>` or `{ server, name }`. */
export interface DecideRequest {
  readonly tool: string | { readonly server: string; readonly name: string };
  readonly arguments?: Readonly<Record<string, unknown>>;
  /** Must be the credential's run when given. */
  readonly run?: string;
}

/** An MCP content block, as a result carries it. */
export type ContentBlock =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'image' | 'audio'; readonly data: string; readonly mimeType: string }
  | {
      readonly type: 'resource';
      readonly resource:
        | { readonly uri: string; readonly mimeType?: string; readonly text: string }
        | { readonly uri: string; readonly mimeType?: string; readonly blob: string };
    }
  | {
      readonly type: 'resource_link';
      readonly uri: string;
      readonly name: string;
      readonly mimeType?: string;
      readonly description?: string;
    };

/** The result of a call the runtime ran itself, for `POST /v1/results`. */
export interface ResultReport {
  readonly decision_id: string;
  /** `ok`, `error` (the tool answered with an error) or `failed` (no answer). */
  readonly status: 'ok' | 'error' | 'failed';
  /** What the tool returned, as MCP content; or `text`. */
  readonly content?: readonly ContentBlock[];
  readonly text?: string;
  /** Structured output; its string values count as the result's text too. */
  readonly structured?: unknown;
  /** Why there was no answer, for `failed`. */
  readonly detail?: string;
  /** The call's arguments, when the decision record kept only their digest. */
  readonly arguments?: Readonly<Record<string, unknown>>;
  /**
   * The call needed approval and the runtime's own user approved it (Claude Code's `ask`): the
   * result is recorded as such instead of being refused.
   */
  readonly runtime_approval?: boolean;
  /** Only part of what the tool returned is sent: the run then trusts none of its unknown values. */
  readonly truncated?: boolean;
}

/** A subagent credential request (RFC 8693 token exchange). */
export interface ExchangeRequest {
  readonly agent_name: string;
  readonly agent_version: string;
  /** Tool patterns, within the parent's scope; the parent's scope when absent. */
  readonly scope?: readonly string[];
  readonly requested_ttl_seconds?: number;
  /** The parent's credential; the client's own token when absent. */
  readonly subject_token?: string;
}

type Credential = 'agent' | 'admin' | 'either' | 'none';

interface CallOptions {
  readonly method?: 'GET' | 'POST';
  readonly body?: unknown;
  readonly form?: boolean;
  readonly credential: Credential;
  readonly signal?: AbortSignal;
}

/**
 * The Gatehouse HTTP API, typed. One client holds one agent credential (and optionally a person's
 * key); `withToken` makes one for another agent (a subagent). Requests time out, are never retried,
 * and fail with a GatehouseClientError (`CLIENT_UNAVAILABLE`, `CLIENT_REFUSED`, `CLIENT_BAD_ANSWER`)
 * whose message never contains the credential.
 * @example
 * const client = new GatehouseClient({ url: 'http://127.0.0.1:4100', token: process.env.GATEHOUSE_TOKEN });
 * const d = await client.decide({ tool: 'payments__refund', arguments: { customer: 'c-1001', amount: 120 } });
 * if (d.outcome === 'allow') { const out = await refund(); await client.recordResult({ decision_id: d.decision_id, status: 'ok', text: out }); }
 */
export class GatehouseClient {
  readonly url: string;
  private readonly base: URL;
  private readonly fetchFn: (input: Request) => Promise<Response>;
  private readonly timeoutMs: number;

  constructor(private readonly opts: GatehouseClientOptions) {
    let base: URL;
    try {
      base = new URL(opts.url);
    } catch {
      throw new GatehouseClientError('CLIENT_MISUSE', `url: "${opts.url}" is not a URL`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:')
      throw new GatehouseClientError('CLIENT_MISUSE', 'url: must be http:// or https://');
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    this.base = base;
    this.url = base.origin;
    this.fetchFn = opts.fetch ?? ((req) => fetch(req));
    const t = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(t) || t <= 0)
      throw new GatehouseClientError('CLIENT_MISUSE', 'timeoutMs: must be a positive number');
    this.timeoutMs = t;
  }

  /**
   * The same client acting as another agent (a subagent's credential from `exchangeToken`).
   * @example const sub = client.withToken((await client.exchangeToken({ agent_name: 'researcher', agent_version: '1.0.0' })).access_token);
   */
  withToken(token: string): GatehouseClient {
    return new GatehouseClient({ ...this.opts, token });
  }

  /**
   * Decides one tool call for this client's agent, and records the decision.
   * @example const d = await client.decide({ tool: 'claude__Bash', arguments: { command: 'ls' } }); d.outcome // 'allow'
   */
  decide(req: DecideRequest, signal?: AbortSignal): Promise<DecisionAnswer> {
    const body = {
      tool: req.tool,
      arguments: req.arguments ?? {},
      ...(req.run !== undefined ? { run: req.run } : {}),
    };
    return this.call('v1/decide', decisionAnswer, { body, credential: 'agent', signal });
  }

  /**
   * Records what an allowed call returned (the runtime ran the tool itself), so that later calls of
   * the run are decided with it. Answers with the result's receipt and provenance label.
   * @example await client.recordResult({ decision_id: d.decision_id, status: 'ok', text: page });
   */
  recordResult(report: ResultReport, signal?: AbortSignal): Promise<ResultAnswer> {
    return this.call('v1/results', resultAnswer, { body: report, credential: 'agent', signal });
  }

  /**
   * A narrower credential for a subagent (RFC 8693): scope within this agent's, expiry no later.
   * @example const { access_token } = await client.exchangeToken({ agent_name: 'researcher', agent_version: '1.0.0', scope: ['web__*'] });
   */
  exchangeToken(req: ExchangeRequest, signal?: AbortSignal): Promise<ExchangeAnswer> {
    const subject = req.subject_token ?? this.opts.token;
    if (!subject)
      return Promise.reject(
        new GatehouseClientError('CLIENT_MISUSE', 'token exchange needs a subject credential'),
      );
    const form: Record<string, string> = {
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: subject,
      agent_name: req.agent_name,
      agent_version: req.agent_version,
      ...(req.scope ? { scope: req.scope.join(' ') } : {}),
      ...(req.requested_ttl_seconds !== undefined
        ? { requested_ttl: String(req.requested_ttl_seconds) }
        : {}),
    };
    return this.call('v1/token/exchange', exchangeAnswer, {
      body: form,
      form: true,
      credential: 'none',
      signal,
    });
  }

  /**
   * Registers what the human said (their prompt) as a trusted input of the run (root agent only).
   * @example await client.registerInput(run, 'pay my landlord DE44 5001 0517 5407 3249 31');
   */
  registerInput(
    run: string,
    text: string,
    kind = 'prompt',
    signal?: AbortSignal,
  ): Promise<InputAnswer> {
    return this.call(`v1/runs/${encodeURIComponent(run)}/inputs`, inputAnswer, {
      body: { text, kind },
      credential: 'agent',
      signal,
    });
  }

  /**
   * What a run has read: its lowest trust and the sources that brought it.
   * @example (await client.getRun(run)).lowest_trust // 'untrusted'
   */
  getRun(run: string, signal?: AbortSignal): Promise<RunAnswer> {
    return this.call(`v1/runs/${encodeURIComponent(run)}`, runAnswer, {
      method: 'GET',
      credential: 'either',
      signal,
    });
  }

  /**
   * Approval requests (a person's key): pending by default.
   * @example const pending = await client.listApprovals();
   */
  async listApprovals(
    status: 'pending' | 'approved' | 'denied' | 'expired' | 'all' = 'pending',
    signal?: AbortSignal,
  ): Promise<ApprovalAnswer[]> {
    const res = await this.call(
      `v1/approvals?status=${encodeURIComponent(status)}`,
      approvalListAnswer,
      { method: 'GET', credential: 'admin', signal },
    );
    return res.approvals;
  }

  /** @example const a = await client.getApproval('apr_...'); a.status */
  getApproval(id: string, signal?: AbortSignal): Promise<ApprovalAnswer> {
    return this.call(`v1/approvals/${encodeURIComponent(id)}`, approvalAnswer, {
      method: 'GET',
      credential: 'admin',
      signal,
    });
  }

  /** Approves a pending request (a person's key; never the agent's). @example await client.approve('apr_...', 'verified'); */
  approve(id: string, reason?: string, signal?: AbortSignal): Promise<ApprovalAnswer> {
    return this.call(`v1/approvals/${encodeURIComponent(id)}/approve`, approvalAnswer, {
      body: reason !== undefined ? { reason } : {},
      credential: 'admin',
      signal,
    });
  }

  /** Denies a pending request; the reason is shown to the agent. @example await client.deny('apr_...', 'not this customer'); */
  deny(id: string, reason: string, signal?: AbortSignal): Promise<ApprovalAnswer> {
    return this.call(`v1/approvals/${encodeURIComponent(id)}/deny`, approvalAnswer, {
      body: { reason },
      credential: 'admin',
      signal,
    });
  }

  /**
   * The latest signed checkpoint of the audit log (a C2SP signed note).
   * @example const note = await client.checkpoint(); note.split('\n')[1] // the tree size
   */
  checkpoint(signal?: AbortSignal): Promise<string> {
    return this.call('v1/audit/checkpoint', null, {
      method: 'GET',
      credential: 'either',
      signal,
    });
  }

  /**
   * Audit entry `index` with its inclusion proof (an agent reads the entries of its own run).
   * @example const e = await client.entry(receipt.index); e.entry.type // 'decision'
   */
  entry(index: number, signal?: AbortSignal): Promise<EntryAnswer> {
    if (!Number.isSafeInteger(index) || index < 0)
      return Promise.reject(
        new GatehouseClientError('CLIENT_MISUSE', 'index: must be a whole number'),
      );
    return this.call(`v1/audit/entries/${index}`, entryAnswer, {
      method: 'GET',
      credential: 'either',
      signal,
    });
  }

  private credentialFor(kind: Credential): string | undefined {
    if (kind === 'none') return undefined;
    const { token, adminKey } = this.opts;
    const chosen = kind === 'agent' ? token : kind === 'admin' ? adminKey : (adminKey ?? token);
    if (!chosen) {
      const what = kind === 'agent' ? 'an agent credential (token)' : 'a person key (adminKey)';
      throw new GatehouseClientError('CLIENT_MISUSE', `this request needs ${what}`);
    }
    return chosen;
  }

  /** Removes every credential this client holds from a text (server messages, causes). */
  private scrub(text: string): string {
    let out = text;
    for (const secret of [this.opts.token, this.opts.adminKey])
      if (secret && secret.length >= 8) out = out.split(secret).join('[credential]');
    return out.length > 2000 ? `${out.slice(0, 2000)}...` : out;
  }

  private call(path: string, schema: null, o: CallOptions): Promise<string>;
  private call<T>(path: string, schema: z.ZodType<T>, o: CallOptions): Promise<T>;
  private async call<T>(
    path: string,
    schema: z.ZodType<T> | null,
    o: CallOptions,
  ): Promise<T | string> {
    const credential = this.credentialFor(o.credential);
    const url = new URL(path, this.base);
    const method = o.method ?? 'POST';
    const headers: Record<string, string> = credential
      ? { authorization: `Bearer ${credential}` }
      : {};
    let body: string | undefined;
    if (method === 'POST') {
      headers['content-type'] = o.form ? 'application/x-www-form-urlencoded' : 'application/json';
      body = o.form
        ? new URLSearchParams(o.body as Record<string, string>).toString()
        : JSON.stringify(o.body ?? {});
    }
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = o.signal ? AbortSignal.any([timeout, o.signal]) : timeout;
    const what = `${method} /${path.split('?')[0] ?? ''}`;
    let res: Response;
    let text: string;
    try {
      res = await this.fetchFn(new Request(url, { method, headers, body: body ?? null, signal }));
      text = await readLimited(res, MAX_ANSWER_BYTES);
    } catch (err) {
      if (err instanceof GatehouseClientError) throw err;
      const why = timeout.aborted
        ? `did not answer within ${this.timeoutMs} ms`
        : o.signal?.aborted
          ? 'the request was cancelled'
          : `cannot be reached (${this.scrub(describe(err))})`;
      throw new GatehouseClientError(
        'CLIENT_UNAVAILABLE',
        `Gatehouse at ${this.url} ${why} (${what})`,
      );
    }
    if (!res.ok) throw this.refusal(res.status, text, what);
    if (schema === null) return text;
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw new GatehouseClientError(
        'CLIENT_BAD_ANSWER',
        `Gatehouse at ${this.url} answered ${what} with something that is not JSON`,
        res.status,
      );
    }
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      const where = parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.map(String).join('.') || '(answer)'}: ${i.message}`)
        .join('; ');
      throw new GatehouseClientError(
        'CLIENT_BAD_ANSWER',
        `Gatehouse at ${this.url} answered ${what} unexpectedly: ${where}`,
        res.status,
      );
    }
    return parsed.data;
  }

  private refusal(status: number, text: string, what: string): GatehouseClientError {
    let error: string | undefined;
    let description = `HTTP ${status}`;
    try {
      const e = errorAnswer.safeParse(JSON.parse(text));
      if (e.success) {
        error = e.data.error;
        description = e.data.error_description ?? e.data.error;
      } else {
        const rpc = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
        if (typeof rpc === 'string') description = rpc;
      }
    } catch {
      /* not JSON: the status says enough */
    }
    const code = status >= 500 ? 'CLIENT_UNAVAILABLE' : 'CLIENT_REFUSED';
    const verb = status >= 500 ? 'could not answer' : 'refused';
    return new GatehouseClientError(
      code,
      `Gatehouse ${verb} ${what} (${status}): ${this.scrub(description)}`,
      status,
      error,
    );
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
}

/** The body as text, refusing more than `max` bytes. */
async function readLimited(res: Response, max: number): Promise<string> {
  const length = Number(res.headers.get('content-length') ?? '0');
  if (length > max) {
    await res.body?.cancel().catch(() => undefined);
    throw new GatehouseClientError('CLIENT_BAD_ANSWER', `the answer is larger than ${max} bytes`);
  }
  if (!res.body) return '';
  const reader = res.body.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const next = await reader.read();
    if (next.done) break;
    const value = next.value;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      throw new GatehouseClientError('CLIENT_BAD_ANSWER', `the answer is larger than ${max} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
