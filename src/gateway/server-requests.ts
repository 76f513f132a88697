/**
 * What an upstream asks of its client — sampling, elicitation — and the log messages it sends,
 * handed to the agent session whose call is in flight (see routing.ts). Gatehouse only relays:
 * the agent's client answers, and what it cannot or may not answer is refused with a clear error.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ErrorCode,
  LoggingLevelSchema,
  LoggingMessageNotificationSchema,
  McpError,
  type CreateMessageRequest,
  type ElicitRequest,
  type LoggingLevel,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import type { AgentIdentity } from '../identity/index.js';
import type { CallOwner, InFlight } from './routing.js';

/** Whether a sampling request may reach the agent: `{ ok: false }` refuses it with `message`. */
export type ServerRequestVerdict = { ok: true } | { ok: false; message: string };

/** The policy hooks for what upstreams ask of the agent (the Gate). */
export interface ServerRequestGate {
  decideSampling(
    agent: AgentIdentity,
    server: string,
    params: CreateMessageRequest['params'],
  ): Promise<ServerRequestVerdict>;
  decideElicitation(
    agent: AgentIdentity,
    server: string,
    params: ElicitRequest['params'],
  ): Promise<ServerRequestVerdict>;
}

export interface ServerRequestDeps {
  /** The upstream's name, for errors, logs and the `logger` of relayed log messages. */
  readonly upstream: string;
  readonly inflight: InFlight;
  /** Absent: sampling and elicitation are refused (a process that only lists tools, for instance). */
  readonly gate: ServerRequestGate | undefined;
  readonly timeoutMs: number;
  readonly log: Logger;
}

/** Requests from an upstream larger than this (serialized) are refused. */
const MAX_REQUEST_BYTES = 1024 * 1024;
/** Log data larger than this (serialized) is cut to a string of this length. */
const MAX_LOG_DATA_CHARS = 64 * 1024;
const MAX_LOGGER_LENGTH = 128;

export const UNKNOWN_SESSION = 'Gatehouse cannot tell which agent session this request is for';

const levels = new WeakMap<Server, LoggingLevel>();
const SEVERITY = new Map(LoggingLevelSchema.options.map((level, i) => [level, i]));

/** Keeps the level an agent session set with logging/setLevel; relayed logs below it are dropped. */
export function setSessionLogLevel(session: Server, level: LoggingLevel): void {
  levels.set(session, level);
}

function owner(deps: ServerRequestDeps, method: string): CallOwner {
  const found = deps.inflight.sole();
  if (found) return found;
  deps.log.warn(
    { upstream: deps.upstream, method, sessionsInFlight: deps.inflight.sessions() },
    'upstream request refused: no single agent session has a call in flight',
  );
  throw new McpError(ErrorCode.InvalidRequest, UNKNOWN_SESSION);
}

/** Fields an upstream may set that must not cross to the agent as they are. */
function relayable<P extends { _meta?: unknown; task?: unknown }>(
  method: string,
  params: P,
): Omit<P, '_meta' | 'task'> {
  if (JSON.stringify(params).length > MAX_REQUEST_BYTES)
    throw new McpError(ErrorCode.InvalidParams, `${method} request too large`);
  // A task-augmented request would make the agent's client answer with a task of its own.
  if (params.task !== undefined)
    throw new McpError(
      ErrorCode.InvalidParams,
      `Gatehouse does not relay task-augmented ${method}`,
    );
  // _meta is addressed to Gatehouse (progress tokens, related tasks), not to the agent.
  const { _meta: _m, task: _t, ...rest } = params;
  return rest;
}

function options(o: CallOwner, signal: AbortSignal, timeoutMs: number): RequestOptions {
  return {
    signal,
    timeout: timeoutMs,
    ...(o.requestId !== undefined ? { relatedRequestId: o.requestId } : {}),
  };
}

/** An SDK capability check fails with a plain Error; the upstream gets an McpError either way. */
function asMcpError(err: unknown): McpError {
  if (err instanceof McpError) return err;
  return new McpError(ErrorCode.InvalidRequest, (err as Error).message);
}

/** Installs the sampling, elicitation and logging handlers on one upstream connection. */
export function relayServerRequests(client: Client, deps: ServerRequestDeps): void {
  client.setRequestHandler(CreateMessageRequestSchema, async (req, extra) => {
    const o = owner(deps, req.method);
    if (!o.session.getClientCapabilities()?.sampling)
      throw new McpError(
        ErrorCode.InvalidRequest,
        "the agent's client does not support sampling (it did not declare the sampling capability)",
      );
    const { includeContext, ...params } = relayable(req.method, req.params);
    // The agent's context spans every upstream behind Gatehouse: one upstream may not ask for it.
    if (includeContext !== undefined && includeContext !== 'none')
      deps.log.debug(
        { upstream: deps.upstream, includeContext },
        'sampling includeContext dropped',
      );
    // Policy and the record see what the server asked for, includeContext included.
    const asked = includeContext !== undefined ? { ...params, includeContext } : params;
    const verdict = deps.gate
      ? await deps.gate.decideSampling(o.agent, deps.upstream, asked)
      : { ok: false as const, message: 'sampling is not available here' };
    if (!verdict.ok) throw new McpError(ErrorCode.InvalidRequest, verdict.message);
    try {
      return await o.session.createMessage(params, options(o, extra.signal, deps.timeoutMs));
    } catch (err) {
      throw asMcpError(err);
    }
  });

  client.setRequestHandler(ElicitRequestSchema, async (req, extra) => {
    const o = owner(deps, req.method);
    if (!o.session.getClientCapabilities()?.elicitation?.form)
      throw new McpError(
        ErrorCode.InvalidRequest,
        "the agent's client does not support form elicitation (it did not declare the elicitation capability)",
      );
    // The SDK's client wrapper has refused URL mode already: Gatehouse declares forms only.
    if (req.params.mode === 'url')
      throw new McpError(ErrorCode.InvalidParams, 'Gatehouse relays form elicitation only');
    const params = relayable(req.method, req.params);
    const verdict = deps.gate
      ? await deps.gate.decideElicitation(o.agent, deps.upstream, params)
      : { ok: false as const, message: 'elicitation is not available here' };
    if (!verdict.ok) throw new McpError(ErrorCode.InvalidRequest, verdict.message);
    try {
      return await o.session.elicitInput(
        { ...params, mode: 'form' },
        options(o, extra.signal, deps.timeoutMs),
      );
    } catch (err) {
      throw asMcpError(err);
    }
  });

  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    const o = deps.inflight.sole();
    if (!o) {
      deps.log.debug(
        { upstream: deps.upstream, sessionsInFlight: deps.inflight.sessions() },
        'upstream log message dropped: no single agent session has a call in flight',
      );
      return;
    }
    const { level, logger, data } = n.params;
    const floor = levels.get(o.session);
    if (floor !== undefined && (SEVERITY.get(level) ?? 0) < (SEVERITY.get(floor) ?? 0)) return;
    const serialized = JSON.stringify(data) ?? '';
    const named = logger ? `${deps.upstream}/${logger}` : deps.upstream;
    // Sent on the stream of the agent's request (SDK sendLoggingMessage cannot say which one), so
    // the message arrives with the call it belongs to.
    void o.session
      .notification(
        {
          method: 'notifications/message',
          params: {
            level,
            logger: named.slice(0, MAX_LOGGER_LENGTH),
            data:
              serialized.length > MAX_LOG_DATA_CHARS
                ? serialized.slice(0, MAX_LOG_DATA_CHARS)
                : data,
          },
        },
        o.requestId !== undefined ? { relatedRequestId: o.requestId } : {},
      )
      .catch(() => undefined);
  });
}
