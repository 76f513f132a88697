/**
 * The zod schemas of a policy test file (format: testing-format.ts) and the friendly errors they
 * give: zod issues reduced to `[path, message]` and paths named the way a person reads the file.
 */
import { z } from 'zod';
import { serverName, toolLabels } from '../config/index.js';
import {
  agentId,
  agentName,
  agentVersion,
  DEPTH_HARD_LIMIT,
  principalId,
  runId,
} from '../identity/index.js';

const OUTCOMES = ['allow', 'deny', 'approval_required'] as const;
const TRUST_LEVELS = ['trusted', 'internal', 'untrusted'] as const;

/** The same shapes as `upstreams.<server>.tools.<name>.labels` in the config. */
const labels = toolLabels;

export const EXPOSED_NAME = /^([A-Za-z0-9][A-Za-z0-9-]{0,31})__(.+)$/;

export const toolSchema = z.union(
  [
    z
      .string()
      .regex(EXPOSED_NAME, 'must be the exposed name <server>__<tool>, e.g. payments__refund'),
    z.strictObject({ server: serverName, name: z.string().min(1), labels: labels.optional() }),
  ],
  {
    error: (iss) =>
      iss.input === undefined
        ? 'is required'
        : 'must be an exposed tool name such as payments__refund, or { server, name, labels }',
  },
);

const agentSchema = z.strictObject({
  name: agentName.optional(),
  version: agentVersion.optional(),
  principal: principalId.optional(),
  id: agentId.optional(),
  /** The run (transaction) id. */
  run: runId.optional(),
  depth: z.number().int().min(0).max(DEPTH_HARD_LIMIT).optional(),
  /** Agent ids of the ancestors, parent first. */
  ancestors: z.array(agentId).max(DEPTH_HARD_LIMIT).optional(),
});

const runSchema = z.strictObject({
  lowest_trust: z.enum(TRUST_LEVELS),
  sources: z.array(z.string().min(1)).default([]),
});

const timeSchema = z.iso.datetime({
  offset: true,
  error: 'must be an ISO 8601 date-time such as 2026-01-05T09:30:00Z',
});

/** A server asking back through the agent (sampling, elicitation), with its trust level. */
const askerSchema = z.strictObject({ server: serverName, trust: z.enum(TRUST_LEVELS) });

/** What a case may be about: exactly one of these. */
export const TARGET_FIELDS = ['tool', 'resource', 'prompt', 'sampling', 'elicitation'] as const;

const caseSchema = z
  .strictObject({
    name: z.string().trim().min(1, 'must not be empty').max(200),
    agent: agentSchema.optional(),
    tool: toolSchema.optional(),
    /** A resource read (`read_resource`). */
    resource: z.strictObject({ server: serverName, uri: z.string().min(1).max(2048) }).optional(),
    /** Getting a prompt (`get_prompt`), named as agents see it or by server and name. */
    prompt: toolSchema.optional(),
    /** A sampling request by a server (`create_message`); `args` are its parameters. */
    sampling: askerSchema.optional(),
    /** An elicitation request by a server (`elicit`); `args` are its parameters. */
    elicitation: askerSchema.optional(),
    args: z.record(z.string(), z.unknown()).default({}),
    /** Where each argument came from, as the gateway would tell policy (`unknown` when not given). */
    args_provenance: z.record(z.string(), z.enum(['trusted', 'untrusted', 'unknown'])).optional(),
    run: runSchema.optional(),
    time: timeSchema.optional(),
    expect: z.enum(OUTCOMES),
    policies: z.array(z.string().min(1)).optional(),
    reason: z.string().min(1).optional(),
  })
  .superRefine(
    (c, ctx) => {
      const given = TARGET_FIELDS.filter((f) => (c as Record<string, unknown>)[f] !== undefined);
      if (given.length === 0)
        ctx.addIssue({
          code: 'custom',
          path: ['tool'],
          message: 'is required (or one of resource, prompt, sampling, elicitation)',
        });
      else if (given.length > 1)
        ctx.addIssue({
          code: 'custom',
          path: [given[1] ?? 'tool'],
          message: `a case is about one thing: it names ${given.join(' and ')}`,
        });
    },
    // Also when other fields are wrong, so every problem is reported at once.
    { when: (p) => typeof p.value === 'object' && p.value !== null },
  );

/** The schema of one test file, as parsed from YAML. */
export const policyTestFileSchema = z.strictObject({
  defaults: z
    .strictObject({
      agent: agentSchema.optional(),
      run: runSchema.optional(),
      time: timeSchema.optional(),
    })
    .optional(),
  cases: z.array(caseSchema).min(1, 'a test file needs at least one case'),
});
export type PolicyTestFileInput = z.infer<typeof policyTestFileSchema>;

/** Friendlier messages than zod's defaults for the mistakes people make in YAML. */
export const errorMap: z.core.$ZodErrorMap = (iss) => {
  if (iss.code === 'invalid_type') {
    if (iss.input === undefined) return 'is required';
    // YAML reads `version: 2.0` as a number and `name: yes` as a boolean.
    if (iss.expected === 'string' && typeof iss.input !== 'object')
      return 'must be text (put it in quotes)';
    const kinds: Record<string, string> = {
      object: 'a mapping',
      record: 'a mapping',
      array: 'a list',
      string: 'text',
      number: 'a number',
      int: 'a whole number',
      boolean: 'true or false',
    };
    return `must be ${kinds[iss.expected] ?? iss.expected}`;
  }
  if (iss.code === 'invalid_value') {
    if (iss.input === undefined) return 'is required';
    return `must be one of ${iss.values.map(String).join(', ')}`;
  }
  if (iss.code === 'too_small' || iss.code === 'too_big') {
    const small = iss.code === 'too_small';
    const limit = `at ${small ? 'least' : 'most'} ${String(small ? iss.minimum : iss.maximum)}`;
    if (iss.origin === 'string')
      return small && iss.minimum === 1 ? 'must not be empty' : `must be ${limit} characters long`;
    if (iss.origin === 'array') return `must have ${limit} item(s)`;
    return `must be ${limit}`;
  }
  return undefined;
};

export type Path = readonly PropertyKey[];

/** Every problem as `[path, message]`, with unions reduced to the branch the input was meant for. */
export function flatten(issues: readonly z.core.$ZodIssue[], prefix: Path = []): [Path, string][] {
  const out: [Path, string][] = [];
  for (const iss of issues) {
    const path = [...prefix, ...iss.path];
    if (iss.code === 'unrecognized_keys') {
      for (const k of iss.keys) out.push([[...path, k], 'unknown field']);
    } else if (iss.code === 'invalid_key') {
      out.push(...flatten(iss.issues, path));
    } else if (iss.code === 'invalid_union') {
      // A branch whose errors are not all "wrong type here" is the one the input was meant for.
      const meant = iss.errors.filter(
        (branch) => !branch.every((e) => e.code === 'invalid_type' && e.path.length === 0),
      );
      const [only] = meant;
      if (meant.length === 1 && only) out.push(...flatten(only, path));
      else out.push([path, iss.message]);
    } else {
      out.push([path, iss.message]);
    }
  }
  return out;
}

/** `case 3 "name": agent.version` for a path into a case, `defaults.agent` elsewhere. */
export function describePath(path: Path, raw: unknown): string {
  const dotted = (p: Path) => p.map(String).join('.');
  if (path[0] === 'cases' && typeof path[1] === 'number') {
    const i = path[1];
    const rawCase = (raw as { cases?: unknown[] } | null)?.cases?.[i] as
      { name?: unknown } | undefined;
    const name = typeof rawCase?.name === 'string' ? ` "${rawCase.name.slice(0, 80)}"` : '';
    const rest = path.slice(2);
    return `case ${i + 1}${name}${rest.length > 0 ? `: ${dotted(rest)}` : ''}`;
  }
  return path.length > 0 ? dotted(path) : '(top level)';
}
