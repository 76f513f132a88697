import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config/index.js';
import { REPO_ROOT, tempDir } from './gatehouse.js';

export interface PolicySetup {
  readonly dir: string;
  readonly configPath: string;
  readonly policies: string;
  config(): Config;
  /** Writes (or replaces) one file of the policy folder. */
  write(name: string, text: string): void;
}

/**
 * A Gatehouse folder with the quickstart's payments and web servers, a copy of its policies
 * (so tests may change them) and its own store and keys; every path is absolute.
 */
export function quickstartCopy(
  policyLines: readonly string[] = [],
  topLines: readonly string[] = [],
): PolicySetup {
  const dir = tempDir('gatehouse-policy-');
  const policies = join(dir, 'policies');
  mkdirSync(policies);
  const source = join(REPO_ROOT, 'examples/quickstart/policies');
  for (const f of readdirSync(source)) {
    if (f.endsWith('.cedar') || f.endsWith('.cedarschema'))
      copyFileSync(join(source, f), join(policies, f));
  }
  const servers = join(REPO_ROOT, 'dist/examples/quickstart/servers');
  const configPath = join(dir, 'gatehouse.yaml');
  writeFileSync(
    configPath,
    [
      `store: { sqlite: ${join(dir, 'gatehouse.db')} }`,
      `keys: { dir: ${join(dir, 'keys')} }`,
      'listen: { port: 0 }',
      ...topLines,
      'policies:',
      `  dir: ${policies}`,
      ...policyLines.map((l) => `  ${l}`),
      'upstreams:',
      '  payments:',
      '    command: node',
      `    args: [${join(servers, 'payments.js')}]`,
      '    trust: internal',
      '    tools:',
      '      get_balance: { labels: { access: read } }',
      '      refund: { labels: { access: write, blast_radius: high } }',
      '      send_money: { labels: { access: write, blast_radius: high } }',
      '  web:',
      '    command: node',
      `    args: [${join(servers, 'web.js')}]`,
      '    trust: untrusted',
      '',
    ].join('\n'),
  );
  return {
    dir,
    configPath,
    policies,
    config: () => loadConfig(configPath),
    write: (name, text) => writeFileSync(join(policies, name), text),
  };
}
