import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import { configuredLabels, exposedName, type Config } from '../config/index.js';
import { canonicalJson } from '../crypto/index.js';
import { RESERVED_ACTIONS, type ToolRef } from '../policy/index.js';
import { pinnedDefinition, type PinnedDefinition } from '../provenance/index.js';
import type { Upstream } from './upstream.js';

/** Names Claude and other clients accept for tools. */
const EXPOSED_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export interface CatalogEntry {
  readonly ref: ToolRef;
  /** The tool definition as agents see it (renamed to its exposed name). */
  readonly def: Tool;
  readonly upstream: Upstream;
  /** Checks arguments against the upstream's input schema; undefined when the schema cannot be compiled. */
  readonly validate: ValidateFunction | undefined;
  /** The upstream's own definition (original name), hashed for its pin. */
  readonly pin: PinnedDefinition;
}

/** The argument names a tool's input schema declares (attacker-controlled: bounded in number). */
function declaredArgs(tool: Tool): string[] {
  const props: unknown = tool.inputSchema.properties;
  if (props === null || typeof props !== 'object') return [];
  return Object.keys(props).slice(0, 256);
}

export type ArgCheck = { ok: true } | { ok: false; message: string };

function formatAjvErrors(errors: readonly ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .slice(0, 10)
    .map((e) => `${e.instancePath || '(arguments)'} ${e.message ?? 'is invalid'}`)
    .join('; ');
}

/**
 * The tools of every upstream under their exposed names (`<server>__<tool>`), with compiled input
 * validators and the hash of each definition. Rebuilt when an upstream (re)connects or its tool
 * list changes; whether a definition may be served is the PinGuard's call, not the catalog's.
 */
export class ToolCatalog {
  private entries = new Map<string, CatalogEntry>();
  private clashing = new Map<string, string[]>();
  private readonly ajv07 = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  private readonly ajv2020 = new Ajv2020({
    strict: false,
    allErrors: true,
    validateFormats: false,
  });
  private readonly compiled = new Map<string, ValidateFunction | undefined>();

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
  ) {}

  rebuild(upstreams: readonly Upstream[]): void {
    const next = new Map<string, CatalogEntry>();
    const clashes = new Map<string, string[]>();
    for (const up of upstreams) {
      for (const tool of up.listTools()) {
        const id = exposedName(this.config, up.name, tool.name);
        const other = next.get(id);
        if (other || clashes.has(id)) {
          // Two servers under one name: serving either could send a call to the wrong one.
          clashes.set(id, [...(clashes.get(id) ?? [other?.ref.server ?? '']), up.name]);
          next.delete(id);
          continue;
        }
        if (!EXPOSED_NAME.test(id) || RESERVED_ACTIONS.has(id)) {
          this.log.warn(
            { upstream: up.name, tool: tool.name },
            'tool not exposed: its name cannot be made a valid tool name',
          );
          continue;
        }
        const labels = configuredLabels(this.config, up.name, tool.name) ?? {};
        next.set(id, {
          ref: { id, server: up.name, name: tool.name, labels, argNames: declaredArgs(tool) },
          def: { ...tool, name: id },
          upstream: up,
          validate: this.compile(tool.inputSchema),
          pin: pinnedDefinition(tool),
        });
      }
    }
    for (const [id, servers] of clashes)
      this.log.error({ tool: id, upstreams: servers }, 'tool not served: its name clashes');
    this.entries = next;
    this.clashing = clashes;
  }

  /** Names more than one upstream offers (none of them is served), with those upstreams. */
  clashes(): ReadonlyMap<string, readonly string[]> {
    return this.clashing;
  }

  get(id: string): CatalogEntry | undefined {
    return this.entries.get(id);
  }

  all(): IterableIterator<CatalogEntry> {
    return this.entries.values();
  }

  /** Validates attacker-controlled arguments against the tool's own input schema. */
  checkArgs(entry: CatalogEntry, args: unknown): ArgCheck {
    // A schema we cannot compile cannot be enforced: refuse rather than forward unchecked.
    if (!entry.validate)
      return { ok: false, message: `the input schema of ${entry.ref.id} cannot be checked` };
    if (entry.validate(args)) return { ok: true };
    return { ok: false, message: formatAjvErrors(entry.validate.errors) };
  }

  private compile(schema: Tool['inputSchema']): ValidateFunction | undefined {
    const key = canonicalJson(schema);
    if (this.compiled.has(key)) return this.compiled.get(key);
    let fn: ValidateFunction | undefined;
    try {
      const draft07 = typeof schema.$schema === 'string' && schema.$schema.includes('draft-07');
      fn = draft07 ? this.ajv07.compile(schema) : this.ajv2020.compile(schema);
    } catch (err) {
      this.log.warn(
        { err: (err as Error).message },
        'cannot compile a tool input schema; its calls will be refused',
      );
      fn = undefined;
    }
    this.compiled.set(key, fn);
    return fn;
  }
}
