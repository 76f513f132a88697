import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createEngine,
  loadPolicyDir,
  replay,
  type Lockdown,
  type PolicyEngine,
  type ToolRef,
} from '../src/policy/index.js';
import type { DecisionRecord } from '../src/store/index.js';
import { agent, tool } from './helpers/agents.js';
import { policyDir } from './helpers/gatehouse.js';
import { TEST_TOOL_SCHEMA } from './helpers/policies.js';

function engineFrom(files: Record<string, string>, lockdowns: Lockdown[] = []): PolicyEngine {
  const r = loadPolicyDir(policyDir({ 'tools.cedarschema': TEST_TOOL_SCHEMA, ...files }), {
    shadowFiles: [],
  });
  assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  return createEngine(r.set, { maxArgDepth: 8, maxArgBytes: 4096, lockdowns });
}

function loadErrors(files: Record<string, string>): string[] {
  const r = loadPolicyDir(policyDir({ 'tools.cedarschema': TEST_TOOL_SCHEMA, ...files }), {
    shadowFiles: [],
  });
  return r.ok ? [] : [...r.errors];
}

const resource = (server: string, uri: string): ToolRef => ({
  id: uri,
  server,
  name: uri,
  labels: {},
  kind: 'resource',
});
const prompt = (server: string, name: string): ToolRef => ({
  id: `${server}__${name}`,
  server,
  name,
  labels: {},
  kind: 'prompt',
});
const sampler = (server: string, trust: string): ToolRef => ({
  id: server,
  server,
  name: server,
  labels: { trust },
  kind: 'sampling',
});
const SAMPLING = {
  messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }],
  maxTokens: 100,
};

const TOOLS_ONLY = `
@id("all-tools")
permit (principal, action in Action::"call_tool", resource);
`;

describe('policy: resources, prompts and sampling are their own actions', () => {
  it('a rule for tool calls does not let an agent read resources or get prompts', () => {
    const e = engineFrom({ 'tools.cedar': TOOLS_ONLY });
    assert.equal(
      e.decide({ agent: agent(), tool: tool('docs', 'search'), args: {} }).outcome,
      'allow',
    );
    const read = e.decide({ agent: agent(), tool: resource('docs', 'file:///a.txt'), args: {} });
    assert.equal(read.outcome, 'deny');
    assert.match(read.reason, /no policy permits agent "support-bot" to read file:\/\/\/a\.txt/);
    const got = e.decide({ agent: agent(), tool: prompt('docs', 'summarise'), args: {} });
    assert.equal(got.outcome, 'deny');
    assert.match(got.reason, /get the prompt docs__summarise/);
  });

  it('read_resource and get_prompt rules see the server, the URI and the prompt name', () => {
    const e = engineFrom({
      'content.cedar': `
@id("docs-reads")
permit (principal, action == Action::"read_resource", resource in Server::"docs")
when { resource.uri like "file:///public/*" };

@id("docs-prompts")
permit (principal, action == Action::"get_prompt", resource)
when { resource.server == "docs" && resource.name == "summarise" };
`,
    });
    const read = (server: string, uri: string) =>
      e.decide({ agent: agent(), tool: resource(server, uri), args: { uri } });
    assert.equal(read('docs', 'file:///public/a.txt').outcome, 'allow');
    assert.deepEqual(read('docs', 'file:///public/a.txt').policies, ['docs-reads']);
    assert.equal(read('docs', 'file:///private/a.txt').outcome, 'deny');
    assert.equal(read('other', 'file:///public/a.txt').outcome, 'deny');
    const get = (name: string) =>
      e.decide({ agent: agent(), tool: prompt('docs', name), args: {} });
    assert.equal(get('summarise').outcome, 'allow');
    assert.equal(get('exfiltrate').outcome, 'deny');
    // A tool of the same server is still decided by tool rules only.
    assert.equal(
      e.decide({ agent: agent(), tool: tool('docs', 'search'), args: {} }).outcome,
      'deny',
    );
  });

  it('sampling is allowed by default for trusted servers only, and policy can forbid or widen it', () => {
    const plain = engineFrom({ 'tools.cedar': TOOLS_ONLY });
    const sample = (e: PolicyEngine, trust: string) =>
      e.decide({ agent: agent(), tool: sampler('helper', trust), args: SAMPLING });
    const trusted = sample(plain, 'trusted');
    assert.equal(trusted.outcome, 'allow');
    assert.deepEqual(trusted.policies, ['gatehouse.sampling-trusted-servers']);
    const untrusted = sample(plain, 'untrusted');
    assert.equal(untrusted.outcome, 'deny');
    assert.match(untrusted.reason, /server "helper" \(trust untrusted\) to ask the model/);
    assert.equal(sample(plain, 'internal').outcome, 'deny');
    // Parameters Cedar never sees as values are not refused for their shape (only for their size).
    const odd = plain.decide({
      agent: agent(),
      tool: sampler('helper', 'trusted'),
      args: { ...SAMPLING, temperature: 1 / 3, metadata: { __entity: { type: 'x', id: 'y' } } },
    });
    assert.equal(odd.outcome, 'allow');

    const tuned = engineFrom({
      'sampling.cedar': `
@id("internal-may-sample-small")
permit (principal, action == Action::"create_message", resource)
when { resource.trust == "internal" && context.sampling.max_tokens <= 500 };

@id("no-sampling-with-context")
@reason("servers may not ask for the agent's context")
forbid (principal, action == Action::"create_message", resource)
when { context.sampling.include_context != "none" };
`,
    });
    assert.equal(sample(tuned, 'internal').outcome, 'allow');
    const big = tuned.decide({
      agent: agent(),
      tool: sampler('helper', 'internal'),
      args: { ...SAMPLING, maxTokens: 4000 },
    });
    assert.equal(big.outcome, 'deny');
    const withContext = tuned.decide({
      agent: agent(),
      tool: sampler('helper', 'trusted'),
      args: { ...SAMPLING, includeContext: 'allServers' },
    });
    assert.equal(withContext.outcome, 'deny');
    assert.equal(withContext.reason, "servers may not ask for the agent's context");
  });

  it('elicitation is allowed from any server by default; policy sees the fields it asks for', () => {
    const asker = (trust: string): ToolRef => ({
      ...sampler('helper', trust),
      kind: 'elicitation',
    });
    const ask = (e: PolicyEngine, fields: string[]) =>
      e.decide({
        agent: agent(),
        tool: asker('untrusted'),
        args: {
          mode: 'form',
          message: 'tell me',
          requestedSchema: {
            type: 'object',
            properties: Object.fromEntries(fields.map((f) => [f, { type: 'string' }])),
          },
        },
      });
    const plain = engineFrom({ 'tools.cedar': TOOLS_ONLY });
    const d = ask(plain, ['name']);
    assert.equal(d.outcome, 'allow');
    assert.deepEqual(d.policies, ['gatehouse.elicitation-any-server']);
    const strict = engineFrom({
      'elicit.cedar': `
@id("no-secrets")
forbid (principal, action == Action::"elicit", resource)
when { context.elicitation.fields.contains("password") || resource.trust == "untrusted" && context.elicitation.fields.contains("iban") };
`,
    });
    assert.equal(ask(strict, ['name']).outcome, 'allow');
    assert.equal(ask(strict, ['name', 'password']).outcome, 'deny');
    assert.equal(ask(strict, ['iban']).outcome, 'deny');
    // Hostile shapes reach policy as no fields, never as an error that would deny by accident.
    const odd = strict.decide({
      agent: agent(),
      tool: asker('trusted'),
      args: { requestedSchema: 7 },
    });
    assert.equal(odd.outcome, 'allow');
  });

  it('only a permit naming create_message or elicit lets a server ask back, even in shadow mode', () => {
    const broad = engineFrom({
      'broad.cedar': `
@id("everything-web") permit (principal, action, resource in Server::"web");
@id("ops-everything") permit (principal, action, resource) when { principal.name == "support-bot" };
`,
    });
    const asks = (e: PolicyEngine, kind: 'sampling' | 'elicitation', trust: string) =>
      e.decide({ agent: agent(), tool: { ...sampler('web', trust), kind }, args: SAMPLING });
    // Broad permits still cover web's tools and resources, never its requests to the agent.
    assert.equal(
      broad.decide({ agent: agent(), tool: tool('web', 'fetch'), args: {} }).outcome,
      'allow',
    );
    assert.equal(
      broad.decide({ agent: agent(), tool: resource('web', 'web://a'), args: {} }).outcome,
      'allow',
    );
    assert.equal(asks(broad, 'sampling', 'untrusted').outcome, 'deny');
    assert.deepEqual(asks(broad, 'sampling', 'trusted').policies, [
      'gatehouse.sampling-trusted-servers',
    ]);
    assert.deepEqual(asks(broad, 'elicitation', 'untrusted').policies, [
      'gatehouse.elicitation-any-server',
    ]);
    const named = engineFrom({
      'named.cedar': `@id("web-samples") permit (principal, action in [Action::"create_message"], resource in Server::"web");`,
    });
    assert.deepEqual(asks(named, 'sampling', 'untrusted').policies, ['web-samples']);

    const r = loadPolicyDir(
      policyDir({ 'tools.cedarschema': TEST_TOOL_SCHEMA, ...{ 'x.cedar': TOOLS_ONLY } }),
      {
        shadowFiles: [],
      },
    );
    assert.ok(r.ok);
    const shadow = createEngine(r.set, { maxArgDepth: 8, maxArgBytes: 4096, mode: 'shadow' });
    assert.equal(
      asks(shadow, 'sampling', 'untrusted').outcome,
      'deny',
      'shadow mode lets nothing extra ask',
    );
    assert.equal(asks(shadow, 'sampling', 'trusted').outcome, 'allow');
    assert.equal(
      shadow.decide({ agent: agent(), tool: tool('x', 'y'), args: {} }).outcome,
      'allow',
    );
  });

  it('shows resources and prompts by one answer for all, or entry by entry when it depends', () => {
    const none = engineFrom({ 'tools.cedar': TOOLS_ONLY });
    const all = engineFrom({
      'a.cedar': '@id("reads") permit (principal, action == Action::"read_resource", resource);',
    });
    const some = engineFrom({
      'a.cedar':
        '@id("docs") permit (principal, action == Action::"read_resource", resource in Server::"docs");',
    });
    for (let i = 0; i < 50; i++) {
      const uri = `file:///docs/${i}`;
      assert.equal(none.couldAllow(agent(), resource('docs', uri)), false);
      assert.equal(all.couldAllow(agent(), resource('docs', uri)), true);
      assert.equal(some.couldAllow(agent(), resource('docs', uri)), true);
      assert.equal(some.couldAllow(agent(), resource('web', uri)), false);
    }
    assert.equal(
      all.couldAllow(agent(), prompt('docs', 'p')),
      false,
      'a read rule shows no prompt',
    );
  });

  it('a lockdown by name stops prompts and resources too, and `*` stops sampling', () => {
    const permitAll = { 'all.cedar': '@id("all") permit (principal, action, resource);' };
    const lock = (pattern: string): Lockdown => ({
      pattern,
      reason: 'incident',
      by: 'local',
      time: 0,
    });
    const e = engineFrom(permitAll, [lock('docs__*')]);
    assert.equal(
      e.decide({ agent: agent(), tool: prompt('docs', 'summarise'), args: {} }).outcome,
      'deny',
    );
    assert.equal(
      e.decide({ agent: agent(), tool: prompt('other', 'summarise'), args: {} }).outcome,
      'allow',
    );
    const all = engineFrom(permitAll, [lock('*')]);
    for (const target of [resource('docs', 'file:///a'), sampler('helper', 'trusted')]) {
      const d = all.decide({ agent: agent(), tool: target, args: SAMPLING });
      assert.equal(d.outcome, 'deny', target.kind);
      assert.deepEqual(d.policies, ['lockdown:*']);
    }
  });

  it('a tool named like one of Gatehouse’s actions is refused, whatever policy says', () => {
    const e = engineFrom({ 'all.cedar': '@id("all") permit (principal, action, resource);' });
    for (const name of ['read_resource', 'get_prompt', 'create_message', 'call_tool']) {
      const d = e.decide({
        agent: agent(),
        tool: { id: name, server: 'x', name, labels: {} },
        args: {},
      });
      assert.equal(d.outcome, 'deny', name);
      assert.match(d.reason, /reserved for Gatehouse's own actions/);
    }
  });

  it('rules over every action keep validating when they use name, server or exposed_name', () => {
    assert.deepEqual(
      loadErrors({
        'a.cedar': `@id("by-server") permit (principal, action, resource) when { resource.server == "docs" && resource.name != "x" && resource.exposed_name like "docs*" };`,
      }),
      [],
    );
    // ...while an attribute only tools' context has is an error for the other actions.
    assert.notDeepEqual(
      loadErrors({
        'b.cedar': `@id("b") permit (principal, action, resource) when { context.sampling.messages > 1 };`,
      }),
      [],
    );
  });

  it('hides resources and prompts from lists when no policy could permit them', () => {
    const e = engineFrom({
      'content.cedar': `@id("public") permit (principal, action == Action::"read_resource", resource) when { resource.uri like "file:///public/*" };`,
    });
    assert.equal(e.couldAllow(agent(), resource('docs', 'file:///public/a')), true);
    assert.equal(e.couldAllow(agent(), resource('docs', 'file:///private/a')), false);
    assert.equal(e.couldAllow(agent(), prompt('docs', 'summarise')), false);
  });

  it('replays a recorded read and a recorded sampling request as what they were', () => {
    const e = engineFrom({ 'tools.cedar': TOOLS_ONLY });
    const base = {
      time: Date.UTC(2026, 0, 1),
      agent: { ...agent(), credential: 'cred_x' },
      labels: {},
      argsDigest: 'sha256:00',
      run: { lowestTrust: 'trusted' as const, sources: [] },
      policySetHash: 'old',
    };
    const records: DecisionRecord[] = [
      {
        ...base,
        id: 'dec_read',
        action: 'read_resource',
        tool: 'file:///a.txt',
        server: 'docs',
        args: { uri: 'file:///a.txt' },
        outcome: 'allow',
        policies: ['old-read'],
        reason: 'permitted',
      },
      {
        ...base,
        id: 'dec_sample',
        action: 'create_message',
        tool: 'helper',
        server: 'helper',
        labels: { trust: 'trusted' },
        args: SAMPLING,
        outcome: 'allow',
        policies: ['gatehouse.sampling-trusted-servers'],
        reason: 'permitted',
      },
    ];
    const report = replay(e, records);
    assert.equal(report.replayed, 2);
    // The read is no longer permitted (only tools are); the sampling request still is.
    assert.deepEqual(
      report.changed.map((c) => [c.record.id, c.now.outcome]),
      [['dec_read', 'deny']],
    );
    assert.match(report.changed[0]?.now.reason ?? '', /to read file:\/\/\/a\.txt/);
  });
});
