import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { GatehouseError } from '../errors/index.js';
import { configSchema, isStdioUpstream, type Config } from './schema.js';

export type ConfigErrorCode = 'CONFIG_NOT_FOUND' | 'CONFIG_SYNTAX' | 'CONFIG_INVALID';

/** Formats every zod issue as `path.to.field: problem`, one per line. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((i) => `${i.path.length ? i.path.map(String).join('.') : '(top level)'}: ${i.message}`)
    .join('\n');
}

/**
 * Parses config text; every bad field is reported. Relative paths resolve against `baseDir`.
 * @example parseConfig('listen: {port: 4100}', '/etc/gatehouse/gatehouse.yaml')
 */
export function parseConfig(text: string, source: string): Config {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 }) ?? {};
  } catch (err) {
    const where =
      err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : '';
    throw new GatehouseError<ConfigErrorCode>(
      'CONFIG_SYNTAX',
      `${source}: not valid YAML${where}`,
      { cause: err },
    );
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new GatehouseError<ConfigErrorCode>(
      'CONFIG_INVALID',
      `${source} has invalid settings:\n${formatIssues(parsed.error.issues)}`,
    );
  }
  const baseDir = dirname(resolve(source));
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const c = parsed.data;
  for (const [name, u] of Object.entries(c.upstreams)) {
    if (isStdioUpstream(u)) {
      // A command given as a path is relative to the config; a bare name is looked up on PATH.
      if (u.command.includes('/')) u.command = abs(u.command);
      u.cwd = abs(u.cwd ?? '.');
    } else if (u.ca !== undefined) {
      u.ca = abs(u.ca);
      caIssue(u.ca, name);
    }
  }
  return {
    ...c,
    store: { sqlite: c.store.sqlite === ':memory:' ? ':memory:' : abs(c.store.sqlite) },
    keys: { dir: abs(c.keys.dir) },
    policies: { ...c.policies, dir: abs(c.policies.dir) },
    audit: { ...c.audit, origin: c.audit.origin ?? `${c.identity.trust_domain}/audit` },
    source: resolve(source),
    baseDir,
  };
}

/** Refuses a `ca` file that cannot be read or holds no PEM certificate, naming the field. */
function caIssue(path: string, upstream: string): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new GatehouseError<ConfigErrorCode>(
      'CONFIG_INVALID',
      `upstreams.${upstream}.ca: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----'))
    throw new GatehouseError<ConfigErrorCode>(
      'CONFIG_INVALID',
      `upstreams.${upstream}.ca: ${path} holds no PEM certificate`,
    );
}

/** Reads and validates a config file. @example loadConfig('./gatehouse.yaml') */
export function loadConfig(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new GatehouseError<ConfigErrorCode>(
      'CONFIG_NOT_FOUND',
      `cannot read config file ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}); pass --config FILE`,
      { cause: err },
    );
  }
  return parseConfig(text, path);
}

/** The base URL of a listen address, e.g. `http://127.0.0.1:4100` (IPv6 hosts in brackets). */
export function listenUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
