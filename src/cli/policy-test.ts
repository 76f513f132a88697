import { join, resolve } from 'node:path';
import { configuredLabels, loadConfig, type Config } from '../config/index.js';
import { createEngine, loadPolicyDir } from '../policy/index.js';
import { loadPolicyTests, type PolicyTestExpectation } from '../policy/testing-format.js';
import { runPolicyTests, type PolicyTestResult, type ResolveLabels } from '../policy/testing.js';
import { bad } from './common.js';

/** Tool labels as the config declares them (`upstreams.<server>.tools.<name>.labels`). */
export function configLabels(config: Config): ResolveLabels {
  return (server, name) => configuredLabels(config, server, name);
}

const ids = (list: readonly string[]) => (list.length > 0 ? list.join(', ') : 'none');

function describeExpected(e: PolicyTestExpectation): string {
  const parts: string[] = [e.outcome];
  if (e.policies) parts.push(`policies: ${ids(e.policies)}`);
  if (e.reason !== undefined) parts.push(`reason containing "${e.reason}"`);
  return parts.join('; ');
}

function printResults(results: readonly PolicyTestResult[]): void {
  const width = Math.max(0, ...results.map((r) => r.file.length));
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`${r.ok ? 'PASS' : 'FAIL'}  ${r.file.padEnd(width)}  ${r.name}`);
    if (r.ok) continue;
    lines.push(
      `      expected  ${describeExpected(r.expected)}`,
      `      got       ${r.got.outcome}; policies: ${ids(r.got.policies)}`,
      `      reason    ${r.got.reason}`,
    );
  }
  if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
}

function printProblems(title: string, problems: readonly string[]): void {
  process.stderr.write(`gatehouse: ${title}\n${problems.map((p) => `  ${p}\n`).join('')}`);
}

/**
 * `gatehouse policy test [DIR]`: runs the YAML cases in `DIR/tests/` against the policies of DIR
 * (default: the config's policies.dir). Returns the exit status: 0 when every case passed, 1 when
 * any failed or a test file or the policy folder is invalid.
 */
export async function policyTestCommand(
  dir: string | undefined,
  o: { config: string; json?: boolean },
): Promise<number> {
  const config = loadConfig(o.config);
  const policyDir = dir === undefined ? config.policies.dir : resolve(dir);
  const testsDir = join(policyDir, 'tests');
  const tests = await loadPolicyTests(testsDir, { trustDomain: config.identity.trust_domain });
  if (tests.found.length === 0)
    throw bad(`no policy tests: ${testsDir} has no .yaml or .yml files`);

  const loaded = loadPolicyDir(policyDir, { shadowFiles: config.policies.shadow });
  if (!loaded.ok) {
    if (o.json) {
      const body = {
        ok: false,
        policy_dir: policyDir,
        policy_errors: loaded.errors,
        test_errors: tests.errors,
        passed: 0,
        failed: 0,
        results: [],
      };
      process.stdout.write(`${JSON.stringify(body)}\n`);
    } else {
      printProblems(`the policies in ${policyDir} do not load:`, loaded.errors);
      if (tests.errors.length > 0) printProblems('the policy tests are not valid:', tests.errors);
    }
    return 1;
  }
  const engine = createEngine(loaded.set, {
    maxArgDepth: config.limits.max_arg_depth,
    maxArgBytes: config.limits.max_arg_bytes,
    mode: config.policies.mode,
  });
  const results = runPolicyTests(engine, tests.files, configLabels(config));
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  const ok = failed === 0 && tests.errors.length === 0;

  if (o.json) {
    const body = {
      ok,
      policy_dir: policyDir,
      policy_set_hash: engine.policySetHash,
      mode: engine.mode,
      policy_errors: [],
      test_errors: tests.errors,
      passed,
      failed,
      results,
    };
    process.stdout.write(`${JSON.stringify(body)}\n`);
    return ok ? 0 : 1;
  }
  const lines = [
    `Testing ${loaded.set.policies.size} policies in ${policyDir} (${engine.policySetHash}).`,
  ];
  if (engine.mode === 'shadow' || config.policies.shadow.length > 0)
    lines.push('Policies are shadowed: cases check what policy says, not what is enforced.');
  process.stdout.write(`${lines.join('\n')}\n`);
  printResults(results);
  if (tests.errors.length > 0)
    printProblems('these policy tests are not valid, so their cases did not run:', tests.errors);
  const invalid = tests.found.length - tests.files.length;
  process.stdout.write(
    `${passed} passed, ${failed} failed${invalid > 0 ? `, ${invalid} invalid test file(s)` : ''}\n`,
  );
  return ok ? 0 : 1;
}
