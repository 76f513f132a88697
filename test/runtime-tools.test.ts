import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { claudeToolName } from '../src/adapters/tool-names.js';
import {
  configuredLabels,
  parseConfig,
  runtimeToolsForSchema,
  toolSettings,
} from '../src/config/index.js';
import { labelResult } from '../src/provenance/index.js';
import { openSqliteStore } from '../src/store/index.js';
import { agent, tool } from './helpers/agents.js';
import { tempDir } from './helpers/gatehouse.js';

const config = (text: string) => parseConfig(text, '/etc/gatehouse/gatehouse.yaml');

describe('runtime tools (Claude Code built-ins)', () => {
  it('maps Claude Code tool names to the names policy decides', () => {
    assert.deepEqual(claudeToolName('Bash'), { ok: true, tool: 'claude__Bash' });
    assert.deepEqual(claudeToolName('WebFetch'), { ok: true, tool: 'claude__WebFetch' });
    assert.deepEqual(claudeToolName('mcp__payments__refund'), {
      ok: true,
      tool: 'payments__refund',
    });
    assert.deepEqual(claudeToolName('mcp__files__read__text'), {
      ok: true,
      tool: 'files__read__text',
    });
    for (const bad of [
      'mcp__my_server__x',
      'mcp____x',
      'mcp__s__',
      'a b',
      'x__y',
      '',
      `T${'x'.repeat(70)}`,
    ]) {
      const m = claudeToolName(bad);
      assert.equal(m.ok, false, bad);
    }
  });

  it("applies Gatehouse's defaults when the config names no claude runtime", () => {
    const c = config('{}');
    assert.deepEqual(configuredLabels(c, 'claude', 'Bash'), {
      access: 'write',
      blast_radius: 'high',
    });
    assert.deepEqual(configuredLabels(c, 'claude', 'Write'), { access: 'write' });
    assert.deepEqual(configuredLabels(c, 'claude', 'Read'), { access: 'read' });
    assert.equal(configuredLabels(c, 'claude', 'constructor'), undefined);
    assert.equal(toolSettings(c, 'claude', 'NewTool').serverTrust, 'untrusted');
    const fetch = labelResult(c, tool('claude', 'WebFetch'), { url: 'https://docs.example.com/x' });
    assert.equal(fetch.trust, 'untrusted');
    assert.equal(fetch.source, 'claude__WebFetch docs.example.com');
    assert.equal(labelResult(c, tool('claude', 'Read'), { file_path: '/x' }).trust, 'internal');
    assert.equal(labelResult(c, tool('claude', 'WebSearch'), { query: 'x' }).trust, 'untrusted');
    assert.equal(labelResult(c, tool('claude', 'Unknown'), {}).trust, 'untrusted');
  });

  it('lets the config replace the defaults, and adds runtimes of its own', () => {
    const c = config(
      [
        'runtime_tools:',
        '  claude:',
        '    trust: internal',
        '    tools:',
        '      WebFetch: { urls: { argument: url, domains: { docs.example.com: internal } } }',
        '  ci:',
        '    tools: { deploy: { labels: { blast_radius: high } } }',
      ].join('\n'),
    );
    assert.equal(
      configuredLabels(c, 'claude', 'Bash'),
      undefined,
      'a config entry replaces the defaults',
    );
    assert.equal(
      labelResult(c, tool('claude', 'WebFetch'), { url: 'https://docs.example.com/' }).trust,
      'internal',
    );
    assert.equal(
      labelResult(c, tool('claude', 'WebFetch'), { url: 'https://evil.example/' }).trust,
      'untrusted',
    );
    assert.deepEqual(configuredLabels(c, 'ci', 'deploy'), { blast_radius: 'high' });
    const ids = runtimeToolsForSchema(c).map((t) => t.id);
    assert.ok(ids.includes('claude__Bash') && ids.includes('ci__deploy'));
    assert.equal(
      runtimeToolsForSchema(c).find((t) => t.id === 'ci__deploy')?.inputSchema,
      undefined,
    );
  });

  it('refuses an upstream named after a runtime, and names bad runtime_tools fields', () => {
    assert.throws(
      () => config('upstreams:\n  claude: { command: x }'),
      /upstreams\.claude: "claude" names the tools of an agent runtime/,
    );
    assert.throws(
      () => config('runtime_tools:\n  ci: {}\nupstreams:\n  ci: { command: x }'),
      /upstreams\.ci/,
    );
    assert.throws(
      () =>
        config(
          'runtime_tools:\n  bad__name: {}\n  ci:\n    trust: sometimes\n    tools: { x: { labels: { Bad: y } } }\n    extra: 1',
        ),
      (err: Error) =>
        [
          'runtime_tools.bad__name',
          'runtime_tools.ci.trust',
          'runtime_tools.ci.tools.x.labels',
          'runtime_tools.ci',
        ].every((f) => err.message.includes(f)) && /extra/.test(err.message),
    );
  });

  it('the decision of a runtime tool declares its arguments for args_provenance', async () => {
    // (Through decideCall: the built-in's schema gives each declared argument an answer.)
    const { decideCall } = await import('../src/gateway/index.js');
    let seen: unknown;
    const decided = await decideCall(
      {
        config: config('{}'),
        catalog: { get: () => undefined } as never,
        pins: {} as never,
        decider: {
          decide: (_a: unknown, t: unknown) => {
            seen = t;
            return Promise.resolve({ ok: false, kind: 'invalid', message: 'stop' });
          },
        } as never,
        approvals: {} as never,
      },
      agent(),
      'claude__Grep',
      { pattern: 'x' },
    );
    assert.equal(decided.ok, false);
    const t = seen as { labels: object; argNames: string[] };
    assert.deepEqual(t.labels, { access: 'read' });
    assert.ok(t.argNames.includes('pattern') && t.argNames.includes('path'));
  });
});

describe('the result index of the store', () => {
  it('indexes the results already in a log when a store is upgraded', async () => {
    const path = join(tempDir(), 'gh.db');
    const store = openSqliteStore(path);
    const base = {
      time: Date.now(),
      agent: { id: 'a', run: 'r' },
      tool: 't__x',
      server: 't',
      status: 'ok' as const,
      trust: 'internal' as const,
    };
    const first = await store.appendResult({ ...base, decisionId: 'dec_one' });
    await assert.rejects(
      store.appendResult({ ...base, decisionId: 'dec_one' }),
      /already has a recorded result/,
    );
    await store.close();
    // As a store written before the index existed (version 7 added it): the table and its
    // migration gone; later migrations run again over what is left.
    const db = new Database(path);
    db.exec('DROP TABLE results; DROP INDEX approvals_used_by;');
    db.pragma('user_version = 6');
    db.close();
    const upgraded = openSqliteStore(path);
    assert.deepEqual(await upgraded.resultOf('dec_one'), first);
    assert.equal(await upgraded.resultOf('dec_two'), undefined);
    await assert.rejects(
      upgraded.appendResult({ ...base, decisionId: 'dec_one' }),
      /already has a recorded result/,
    );
    await upgraded.close();
  });
});
