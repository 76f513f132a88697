/**
 * Tools that run inside agent runtimes rather than behind the gateway (Claude Code's built-ins),
 * and the one lookup of a tool's settings for every tool Gatehouse decides: an upstream's tool or
 * a runtime's. Labels (policy), trust (provenance) and URL trust all come from here.
 */
import {
  RESERVED_RUNTIME_SERVER,
  type Config,
  type RuntimeToolsConfig,
  type ToolConfig,
  type TrustLevel,
} from './schema.js';

/** The server name under which Claude Code's built-in tools are decided: `claude__Bash`. */
export const CLAUDE_CODE_SERVER = RESERVED_RUNTIME_SERVER;

const WRITE = { access: 'write' } as const;
const READ = { access: 'read' } as const;

/**
 * What applies to Claude Code's built-in tools when the config has no `runtime_tools.claude`: web
 * content is untrusted; local reads, searches and command output are internal; every write is
 * labelled `access: write`, and `Bash` also `blast_radius: high`. A tool not listed here (a new
 * built-in) gets the server's trust: untrusted.
 */
export const CLAUDE_CODE_DEFAULTS: RuntimeToolsConfig = {
  trust: 'untrusted',
  tools: {
    WebFetch: {
      labels: { ...READ },
      trust: 'untrusted',
      urls: { argument: 'url', domains: {}, default: 'untrusted' },
    },
    WebSearch: { labels: { ...READ }, trust: 'untrusted' },
    Read: { labels: { ...READ }, trust: 'internal' },
    Grep: { labels: { ...READ }, trust: 'internal' },
    Glob: { labels: { ...READ }, trust: 'internal' },
    LS: { labels: { ...READ }, trust: 'internal' },
    NotebookRead: { labels: { ...READ }, trust: 'internal' },
    Bash: { labels: { ...WRITE, blast_radius: 'high' }, trust: 'internal' },
    BashOutput: { labels: { ...READ }, trust: 'internal' },
    KillShell: { labels: { ...WRITE }, trust: 'internal' },
    Write: { labels: { ...WRITE }, trust: 'internal' },
    Edit: { labels: { ...WRITE }, trust: 'internal' },
    MultiEdit: { labels: { ...WRITE }, trust: 'internal' },
    NotebookEdit: { labels: { ...WRITE }, trust: 'internal' },
    TodoWrite: { labels: {}, trust: 'internal' },
    // A subagent's report: what it read was decided and recorded under the same run.
    Task: { labels: {}, trust: 'internal' },
    ExitPlanMode: { labels: {}, trust: 'internal' },
  },
};

/**
 * The input schemas of Claude Code's built-in tools, so that `gatehouse policy schema` can type
 * `context.args` of `claude__Bash` and friends (a policy on `context.args.command` type-checks).
 * Optional fields are optional here; a policy reading one should test `context.args has ...`.
 */
export const CLAUDE_CODE_TOOL_SCHEMAS: Readonly<Record<string, Readonly<Record<string, unknown>>>> =
  {
    Bash: object(
      {
        command: STRING(),
        description: STRING(),
        timeout: NUMBER(),
        run_in_background: BOOLEAN(),
      },
      ['command'],
    ),
    BashOutput: object({ bash_id: STRING(), filter: STRING() }, ['bash_id']),
    KillShell: object({ shell_id: STRING() }, ['shell_id']),
    WebFetch: object({ url: STRING(), prompt: STRING() }, ['url', 'prompt']),
    WebSearch: object(
      {
        query: STRING(),
        allowed_domains: { type: 'array', items: STRING() },
        blocked_domains: { type: 'array', items: STRING() },
      },
      ['query'],
    ),
    Read: object({ file_path: STRING(), offset: NUMBER(), limit: NUMBER() }, ['file_path']),
    Write: object({ file_path: STRING(), content: STRING() }, ['file_path', 'content']),
    Edit: object(
      {
        file_path: STRING(),
        old_string: STRING(),
        new_string: STRING(),
        replace_all: BOOLEAN(),
      },
      ['file_path', 'old_string', 'new_string'],
    ),
    MultiEdit: object(
      {
        file_path: STRING(),
        edits: {
          type: 'array',
          items: object({ old_string: STRING(), new_string: STRING(), replace_all: BOOLEAN() }, [
            'old_string',
            'new_string',
          ]),
        },
      },
      ['file_path', 'edits'],
    ),
    Glob: object({ pattern: STRING(), path: STRING() }, ['pattern']),
    Grep: object(
      {
        pattern: STRING(),
        path: STRING(),
        glob: STRING(),
        type: STRING(),
        output_mode: STRING(),
        '-i': BOOLEAN(),
        '-n': BOOLEAN(),
        '-A': NUMBER(),
        '-B': NUMBER(),
        '-C': NUMBER(),
        multiline: BOOLEAN(),
        head_limit: NUMBER(),
      },
      ['pattern'],
    ),
    LS: object({ path: STRING(), ignore: { type: 'array', items: STRING() } }, ['path']),
    NotebookRead: object({ notebook_path: STRING(), cell_id: STRING() }, ['notebook_path']),
    NotebookEdit: object(
      {
        notebook_path: STRING(),
        cell_id: STRING(),
        new_source: STRING(),
        cell_type: STRING(),
        edit_mode: STRING(),
      },
      ['notebook_path', 'new_source'],
    ),
    Task: object({ description: STRING(), prompt: STRING(), subagent_type: STRING() }, [
      'description',
      'prompt',
    ]),
    ExitPlanMode: object({ plan: STRING() }, ['plan']),
    TodoWrite: object(
      {
        todos: {
          type: 'array',
          items: object({ content: STRING(), status: STRING(), activeForm: STRING() }, [
            'content',
            'status',
          ]),
        },
      },
      ['todos'],
    ),
  };

function STRING(): { type: 'string' } {
  return { type: 'string' };
}
function NUMBER(): { type: 'number' } {
  return { type: 'number' };
}
function BOOLEAN(): { type: 'boolean' } {
  return { type: 'boolean' };
}
function object(
  properties: Record<string, unknown>,
  required: readonly string[],
): Record<string, unknown> {
  return { type: 'object', properties, required: [...required] };
}

/** A config, or the part of it that names tools (`runtime_tools` may be left out). */
export type ToolsConfig = Pick<Config, 'upstreams'> & Partial<Pick<Config, 'runtime_tools'>>;

/** Own keys only: a tool named `constructor` must not read Object.prototype. */
function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/**
 * The runtime tool servers in force: the config's `runtime_tools`, plus Claude Code's defaults
 * under `claude` when the config does not name it (a config entry replaces them whole).
 * @example runtimeToolServers(config).claude?.tools.Bash?.labels // { access: 'write', blast_radius: 'high' }
 */
export function runtimeToolServers(
  config: Partial<Pick<Config, 'runtime_tools'>>,
): Readonly<Record<string, RuntimeToolsConfig>> {
  const configured = config.runtime_tools ?? {};
  if (Object.hasOwn(configured, CLAUDE_CODE_SERVER)) return configured;
  return { ...configured, [CLAUDE_CODE_SERVER]: CLAUDE_CODE_DEFAULTS };
}

/** What the config says about one tool: its own settings (if any) and its server's trust. */
export interface ToolSettings {
  /** `upstream`: served by the gateway; `runtime`: runs inside an agent runtime; `unknown`: neither. */
  readonly kind: 'upstream' | 'runtime' | 'unknown';
  /** The trust of the server's results, for tools without their own (`untrusted` when unknown). */
  readonly serverTrust: TrustLevel;
  readonly settings?: ToolConfig;
}

/**
 * The one lookup of a tool's settings, for upstream and runtime tools alike: labels for policy,
 * trust and URL trust for provenance.
 * @example toolSettings(config, 'claude', 'WebFetch').settings?.urls?.argument // 'url'
 */
export function toolSettings(config: ToolsConfig, server: string, name: string): ToolSettings {
  const upstream = own(config.upstreams, server);
  if (upstream) {
    const settings = own(upstream.tools, name);
    return { kind: 'upstream', serverTrust: upstream.trust, ...(settings ? { settings } : {}) };
  }
  const runtime = own(runtimeToolServers(config), server);
  if (runtime) {
    const settings = own(runtime.tools, name);
    return { kind: 'runtime', serverTrust: runtime.trust, ...(settings ? { settings } : {}) };
  }
  return { kind: 'unknown', serverTrust: 'untrusted' };
}

/** The configured trust of a server (an upstream or an agent runtime); untrusted when unknown. */
export function serverTrust(config: ToolsConfig, server: string): TrustLevel {
  return (
    (own(config.upstreams, server) ?? own(runtimeToolServers(config), server))?.trust ?? 'untrusted'
  );
}

/**
 * The tools a policy schema should declare for agent runtimes: every Claude Code built-in (typed
 * from CLAUDE_CODE_TOOL_SCHEMAS) and every tool the config lists under `runtime_tools` (untyped
 * when no schema is known), as `{ id, inputSchema }`.
 */
export function runtimeToolsForSchema(config: ToolsConfig): { id: string; inputSchema: unknown }[] {
  const out = new Map<string, unknown>();
  for (const [name, schema] of Object.entries(CLAUDE_CODE_TOOL_SCHEMAS))
    out.set(`${CLAUDE_CODE_SERVER}__${name}`, schema);
  for (const [server, rt] of Object.entries(runtimeToolServers(config))) {
    for (const name of Object.keys(rt.tools)) {
      const id = `${server}__${name}`;
      if (!out.has(id))
        out.set(
          id,
          server === CLAUDE_CODE_SERVER ? own(CLAUDE_CODE_TOOL_SCHEMAS, name) : undefined,
        );
    }
  }
  return [...out].map(([id, inputSchema]) => ({ id, inputSchema }));
}

/** The argument names a runtime tool's known input schema declares (for `args_provenance`). */
export function runtimeToolArgNames(server: string, name: string): readonly string[] | undefined {
  if (server !== CLAUDE_CODE_SERVER) return undefined;
  const schema = own(CLAUDE_CODE_TOOL_SCHEMAS, name);
  const props = schema?.properties;
  return props && typeof props === 'object' ? Object.keys(props) : undefined;
}
