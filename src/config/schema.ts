import { z } from 'zod';
import { durationMs } from './duration.js';

/** Server names become tool-name prefixes (`<server>__<tool>`), so they must not contain `__`. */
export const serverName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/,
    'must be 1-32 letters, digits or "-", starting with a letter or digit',
  );

/** The server name of Claude Code's built-in tools (`claude__Bash`); never an upstream's. */
export const RESERVED_RUNTIME_SERVER = 'claude';

export const trustLevel = z.enum(['trusted', 'internal', 'untrusted']);
export type TrustLevel = z.infer<typeof trustLevel>;

const labelValue = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 characters of [A-Za-z0-9_.:-]');
/** Tool labels such as `{ blast_radius: high }`. */
export const toolLabels = z.record(
  z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'label names are lowercase snake_case'),
  labelValue,
);

/** `docs.example.com`, or `*.example.com` for every subdomain of example.com. */
const domainPattern = z
  .string()
  .regex(
    /^(\*\.)?[a-z0-9]([a-z0-9-]{0,62})(\.[a-z0-9]([a-z0-9-]{0,62}))*$/,
    'must be a lower-case domain such as docs.example.com or *.example.com',
  );

export const toolConfig = z.strictObject({
  labels: toolLabels.default({}),
  /** Trust of this tool's results, instead of its server's. */
  trust: trustLevel.optional(),
  /**
   * For tools that fetch URLs: the argument holding the URL, and the trust of content from each
   * domain; any other domain (or a URL that cannot be read) gets `default`.
   */
  urls: z
    .strictObject({
      argument: z.string().min(1),
      domains: z.record(domainPattern, trustLevel).default({}),
      default: trustLevel.default('untrusted'),
    })
    .optional(),
});

const upstreamCommon = {
  trust: trustLevel.default('untrusted'),
  /** Per-tool settings, keyed by the upstream's own tool name. */
  tools: z.record(z.string(), toolConfig).default({}),
  timeout: durationMs.optional(),
  /**
   * `false`: its tools keep their own names (no `<server>__`), so Gatehouse can stand in front of
   * one server without renaming anything. A name that then clashes with another is not served.
   */
  prefix: z.boolean().default(true),
  /**
   * `shared` (default): one connection serves every agent. `per_session`: each agent session gets
   * its own (for a stdio server, its own process), so what the server asks back (sampling,
   * elicitation, log messages) always reaches the right agent, even with many calling at once.
   */
  connection: z.enum(['shared', 'per_session']).default('shared'),
};

const stdioUpstream = z.strictObject({
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  cwd: z.string().optional(),
  ...upstreamCommon,
});

const httpUpstream = z
  .strictObject({
    url: z.url({ protocol: /^https?$/ }),
    headers: z.record(z.string(), z.string()).default({}),
    /**
     * PEM file of the certificate authorities an https upstream's certificate must chain to, in
     * place of Node's default roots (a private CA; only certificates it signed are accepted).
     */
    ca: z.string().min(1).optional(),
    ...upstreamCommon,
  })
  // The scheme is case-insensitive (RFC 3986): HTTPS:// is https too.
  .refine((u) => u.ca === undefined || u.url.toLowerCase().startsWith('https:'), {
    message: 'ca is only for an https url',
    path: ['ca'],
  });

/**
 * An upstream is stdio when it names a `command`, else Streamable HTTP: choosing first means a
 * mistake deep inside one (a bad domain under `tools.<name>.urls`) is reported at its own field.
 */
export const upstreamSchema = z
  .unknown()
  .transform((value, ctx): z.output<typeof stdioUpstream> | z.output<typeof httpUpstream> => {
    const isObject = value !== null && typeof value === 'object';
    if (!isObject || (!('command' in value) && !('url' in value))) {
      ctx.addIssue({
        code: 'custom',
        message: 'an upstream needs either "command" (stdio) or "url" (Streamable HTTP)',
      });
      return z.NEVER;
    }
    const parsed = ('command' in value ? stdioUpstream : httpUpstream).safeParse(value);
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: issue.path });
    return z.NEVER;
  });

/**
 * Tools that run inside an agent runtime (Claude Code's built-ins: `Bash`, `WebFetch`, ...), not
 * behind the gateway: decided through the hook or the decision API as `<server>__<Tool>`, with the
 * same settings as an upstream's tools (labels, trust, URL trust).
 */
const runtimeToolsServer = z.strictObject({
  /** The trust of what the runtime's tools return, unless a tool says otherwise. */
  trust: trustLevel.default('untrusted'),
  /** Per-tool settings, keyed by the runtime's own tool name (e.g. `Bash`). */
  tools: z.record(z.string(), toolConfig).default({}),
});

export const configSchema = z
  .strictObject({
    listen: z
      .strictObject({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(4100),
        /** Extra Host header values accepted besides the listen address (DNS-rebinding protection). */
        allowed_hosts: z.array(z.string()).default([]),
      })
      .prefault({}),
    store: z
      .strictObject({
        sqlite: z.string().min(1).default('.gatehouse/gatehouse.db'),
      })
      .prefault({}),
    keys: z.strictObject({ dir: z.string().min(1).default('.gatehouse/keys') }).prefault({}),
    policies: z
      .strictObject({
        dir: z.string().min(1).default('policies'),
        /** `shadow`: every policy is evaluated and recorded, none is enforced (lockdowns still are). */
        mode: z.enum(['enforce', 'shadow']).default('enforce'),
        /** Files of the folder whose policies are evaluated in shadow mode while the rest is enforced. */
        shadow: z
          .array(
            z.string().regex(/^[^/\\]+\.cedar$/, 'must be a .cedar file name in the policy folder'),
          )
          .default([]),
        /** Reload the set when a file of the folder changes. */
        watch: z.boolean().default(true),
      })
      .prefault({}),
    identity: z
      .strictObject({
        issuer: z.string().min(1).default('gatehouse'),
        audience: z.string().min(1).default('gatehouse'),
        /** Algorithm of new signing keys: Ed25519 by default, ES256 (P-256) for interop. */
        algorithm: z.enum(['EdDSA', 'ES256']).default('EdDSA'),
        trust_domain: z
          .string()
          .regex(/^[a-z0-9.-]{1,253}$/, 'must be a DNS-like name such as gatehouse.local')
          .default('gatehouse.local'),
        default_ttl: durationMs.default(15 * 60_000),
        max_ttl: durationMs.default(60 * 60_000),
        /** Deepest subagent delegation allowed; a root orchestrator is depth 0. */
        max_depth: z.number().int().min(0).max(16).default(4),
      })
      .prefault({}),
    limits: z
      .strictObject({
        max_body_bytes: z
          .number()
          .int()
          .min(1024)
          .max(64 * 1024 * 1024)
          .default(1024 * 1024),
        upstream_timeout: durationMs.default(30_000),
        max_arg_depth: z.number().int().min(1).max(64).default(16),
        /** Tool arguments larger than this (as JSON) are refused before policy sees them. */
        max_arg_bytes: z
          .number()
          .int()
          .min(1024)
          .max(16 * 1024 * 1024)
          .default(256 * 1024),
      })
      .prefault({}),
    approvals: z
      .strictObject({
        /** How long a request stays open, and an approval stays usable. */
        ttl: durationMs
          .refine((ms) => ms >= 1000 && ms <= 7 * 86_400_000, 'must be from 1s to 7d')
          .default(15 * 60_000),
        /** How long an MCP call is held open waiting for a person; then the agent may retry. */
        wait: durationMs.refine((ms) => ms <= 15 * 60_000, 'must be at most 15m').default(60_000),
        /** Announces new requests: POST of JSON { id, agent, tool, reason, link }. */
        webhook: z.url({ protocol: /^https?$/ }).optional(),
        /** Base URL approvers reach Gatehouse at, for links (default: the listen address). */
        public_url: z.url({ protocol: /^https?$/ }).optional(),
      })
      .prefault({}),
    audit: z
      .strictObject({
        /**
         * The log's name on every checkpoint (C2SP origin line and key name); default
         * `<identity.trust_domain>/audit`. A log keeps one origin for life.
         */
        origin: z
          .string()
          .regex(
            /^[A-Za-z0-9][A-Za-z0-9._~:/-]{0,199}$/,
            'must look like a schema-less URL such as gatehouse.example.com/audit',
          )
          .optional(),
        /** A checkpoint is signed at least this often while entries arrive. */
        checkpoint_interval: durationMs
          .refine((ms) => ms >= 100 && ms <= 86_400_000, 'must be from 100ms to 24h')
          .default(10_000),
        /**
         * What the log (and the decision records) keep of tool arguments: `full`, `digest` (the
         * SHA-256 only), or `{ redact: [field, ...] }` (those fields, at any depth, become "[redacted]").
         */
        arguments: z
          .union(
            [
              z.enum(['full', 'digest']),
              z.strictObject({
                redact: z.array(z.string().regex(/^[^\s.]{1,64}$/, 'must be a field name')).min(1),
              }),
            ],
            { error: 'must be "full", "digest" or { redact: [field, ...] }' },
          )
          .default('full'),
      })
      .prefault({}),
    /** Pinned tool definitions: what happens to a tool Gatehouse sees for the first time. */
    tools: z
      .strictObject({
        /**
         * `allow`: a new tool is pinned and usable at once; `approve`: it is held until a person
         * approves it (`gatehouse tools approve`). A pinned tool whose definition changes is always held.
         */
        new: z
          .enum(['allow', 'approve'], { error: 'must be "allow" or "approve"' })
          .default('allow'),
      })
      .prefault({}),
    upstreams: z.record(serverName, upstreamSchema).default({}),
    /** Tools of agent runtimes (`claude` for Claude Code), by server name; see runtime-tools.ts. */
    runtime_tools: z.record(serverName, runtimeToolsServer).default({}),
  })
  .superRefine((c, ctx) => {
    // One name, one meaning: `claude__Bash` must not be both a runtime tool and an upstream's.
    for (const name of Object.keys(c.upstreams)) {
      if (name === RESERVED_RUNTIME_SERVER || Object.hasOwn(c.runtime_tools, name))
        ctx.addIssue({
          code: 'custom',
          path: ['upstreams', name],
          message: `"${name}" names the tools of an agent runtime (runtime_tools.${name}); give the upstream another name`,
        });
    }
  });

/** The parsed configuration; relative paths are already resolved against the config file's folder. */
type ParsedConfig = z.infer<typeof configSchema>;
export type Config = Omit<ParsedConfig, 'audit'> & {
  /** The origin is always set once loaded (defaulted from the trust domain). */
  readonly audit: ParsedConfig['audit'] & { readonly origin: string };
  readonly source: string;
  readonly baseDir: string;
};
export type UpstreamConfig = z.infer<typeof upstreamSchema>;
export type ToolConfig = z.infer<typeof toolConfig>;
export type RuntimeToolsConfig = z.infer<typeof runtimeToolsServer>;
export type ArgumentsRetention = ParsedConfig['audit']['arguments'];
export type StdioUpstreamConfig = z.infer<typeof stdioUpstream>;
export type HttpUpstreamConfig = z.infer<typeof httpUpstream>;

export function isStdioUpstream(u: UpstreamConfig): u is StdioUpstreamConfig {
  return 'command' in u;
}
