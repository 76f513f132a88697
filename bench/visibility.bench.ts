/**
 * What filtering a long resource list costs: PolicyEngine.couldAllow() for every entry of a list
 * of 10,000 resources of one server (what `resources/list` asks while it pages), under policy that
 * hides every resource, shows every one, or decides per server and URI. First listing, then the
 * same list again (answers are remembered per kind, or per entry for 60 s). One `resources/list`
 * page checks at most 1,000 entries, so a page costs at most 1,000 times the per-entry figure.
 *
 * Usage:  npm run bench          (builds, then runs every benchmark)
 *         npx tsc -p . && node dist/bench/visibility.bench.js
 *
 * Environment (optional):
 *   BENCH_VISIBILITY_ENTRIES   resources in the list (default 10000)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createEngine, loadPolicyDir, type ToolRef } from '../src/policy/index.js';
import { table } from './lib/report.js';

const ENTRIES = Number(process.env.BENCH_VISIBILITY_ENTRIES ?? 10_000);
if (!Number.isInteger(ENTRIES) || ENTRIES <= 0)
  throw new Error('BENCH_VISIBILITY_ENTRIES must be a positive integer');

const SETS: Record<string, string> = {
  'hides every resource':
    '@id("tools") permit (principal, action in Action::"call_tool", resource);',
  'shows every resource':
    '@id("reads") permit (principal, action == Action::"read_resource", resource);',
  'per server and URI': `@id("docs") permit (principal, action == Action::"read_resource", resource in Server::"docs")
when { resource.uri like "file:///public/*" };`,
};

const agent = {
  id: 'spiffe://bench.local/agent/lister/i1',
  name: 'lister',
  version: '1.0.0',
  principal: 'user:alice',
  run: 'run-1',
  depth: 0,
  ancestors: [],
};
const resources: ToolRef[] = Array.from({ length: ENTRIES }, (_, i) => {
  const uri = `file:///${i % 2 === 0 ? 'public' : 'private'}/${i}.md`;
  return { kind: 'resource', id: uri, server: 'docs', name: uri, labels: {} };
});

const rows: string[][] = [];
for (const [name, text] of Object.entries(SETS)) {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-visibility-'));
  try {
    writeFileSync(join(dir, 'p.cedar'), text);
    const loaded = loadPolicyDir(dir);
    if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
    const engine = createEngine(loaded.set, { maxArgDepth: 16, maxArgBytes: 262_144 });
    const pass = () => {
      const started = performance.now();
      let shown = 0;
      for (const r of resources) if (engine.couldAllow(agent, r)) shown++;
      return { ms: performance.now() - started, shown };
    };
    const first = pass();
    const again = pass();
    rows.push([
      name,
      String(first.shown),
      first.ms.toFixed(1),
      ((first.ms * 1000) / ENTRIES).toFixed(1),
      again.ms.toFixed(1),
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
process.stdout.write(
  `Visibility of ${ENTRIES} resources of one server (PolicyEngine.couldAllow)\n`,
);
process.stdout.write(
  `${table([['policy', 'shown', 'first ms', 'µs/entry', 'again ms'], ...rows])}\n`,
);
