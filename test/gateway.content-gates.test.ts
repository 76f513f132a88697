import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  McpError,
} from '@modelcontextprotocol/sdk/types.js';
import { runCliAsync } from './helpers/cli.js';
import { directClient } from './helpers/content.js';
import { withoutReceipt } from './helpers/receipts.js';
import {
  configWithPolicies,
  eventually,
  firstText,
  REPO_ROOT,
  startGatehouse,
  tempDir,
  type Running,
} from './helpers/gatehouse.js';

const NOTES = join(REPO_ROOT, 'dist/test/fixtures/notes-server.js');
const PAYMENTS = join(REPO_ROOT, 'dist/examples/quickstart/servers/payments.js');
const INJECTED_IBAN = 'DE89370400440532013000';

const POLICIES = {
  'content.cedar': `
@id("read-and-prompt")
permit (principal, action in [Action::"read_resource", Action::"get_prompt"], resource);

@id("tools")
permit (principal, action in Action::"call_tool", resource);

@id("no-private-notes")
@reason("private notes are not for agents")
forbid (principal, action == Action::"read_resource", resource)
when { resource.uri like "notes://inbox/private*" };

@id("no-sampling-with-context")
@reason("servers may not ask for the agent's context")
forbid (principal, action == Action::"create_message", resource)
when { context.sampling.include_context != "none" };

@id("secret-notes-need-approval")
@approval
@reason("secret notes need a human")
forbid (principal, action == Action::"read_resource", resource)
when { resource.uri like "notes://inbox/secret*" };

@id("no-password-questions")
@reason("no server may ask for a password")
forbid (principal, action == Action::"elicit", resource)
when { context.elicitation.fields.contains("password") };

@id("untrusted-recipient")
@reason("the recipient came from untrusted content")
forbid (principal, action in Action::"call_tool", resource in Server::"payments")
when { context.run.lowest_trust == "untrusted" };
`,
};

/**
 * Issue 9's gates, end to end with the real SDK client: resources and prompts are decided and
 * recorded like tool calls and labelled for provenance; sampling is refused for untrusted servers
 * and recorded; elicitation reaches the agent's client and its answer goes back upstream.
 */
describe('gates for resources, prompts, sampling and elicitation', () => {
  let gh: Running;
  const clients: Client[] = [];

  before(async () => {
    gh = await startGatehouse(
      configWithPolicies(
        POLICIES,
        'approvals: { wait: 200ms }',
        'upstreams:',
        '  notes:',
        '    command: node',
        `    args: [${NOTES}]`,
        '    trust: untrusted',
        '  helper:',
        '    command: node',
        `    args: [${NOTES}, helper]`,
        '    trust: trusted',
        '  solo:',
        '    command: node',
        `    args: [${NOTES}, solo]`,
        '    trust: trusted',
        '    connection: per_session',
        '  payments:',
        '    command: node',
        `    args: [${PAYMENTS}]`,
        '    trust: internal',
      ),
    );
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await gh.close();
  });

  /** A client that can sample and elicit: it answers with fixed text and a fixed name. */
  async function agent(
    run: string,
    answer = '42',
    delayMs = 0,
  ): Promise<{ client: Client; sampled: string[]; elicited: string[] }> {
    const token = await gh.mint({ run });
    const client = new Client(
      { name: 'content-test', version: '1.0.0' },
      { capabilities: { sampling: {}, elicitation: { form: {} } } },
    );
    const sampled: string[] = [];
    client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
      const first = req.params.messages[0]?.content;
      sampled.push(first && 'text' in first ? String(first.text) : '?');
      await new Promise((r) => setTimeout(r, delayMs));
      return { role: 'assistant', model: 'test-model', content: { type: 'text', text: answer } };
    });
    const elicited: string[] = [];
    client.setRequestHandler(ElicitRequestSchema, (req) => {
      elicited.push(req.params.message);
      return { action: 'accept', content: { name: 'Alice' } };
    });
    await client.connect(
      new StreamableHTTPClientTransport(gh.url, {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    clients.push(client);
    return { client, sampled, elicited };
  }

  const runOf = (run: string) => gh.rt.runs.get(run);

  it('a resource read from an untrusted server taints the run and is recorded', async () => {
    const { client } = await agent('run-resource');
    const read = await client.readResource({ uri: 'notes://inbox/1' });
    const first = read.contents[0];
    assert.ok(first && 'text' in first);
    assert.match(String(first.text), new RegExp(INJECTED_IBAN));
    const label = read._meta?.['gatehouse/provenance'] as Record<string, unknown>;
    assert.equal(label.trust, 'untrusted');
    assert.equal(label.source, 'notes notes://inbox/1');
    const run = runOf('run-resource');
    assert.equal(run.lowestTrust, 'untrusted');
    assert.deepEqual(run.sources, ['notes notes://inbox/1']);
    // The run now refuses payments, naming what it read.
    const pay = await client.callTool({
      name: 'payments__send_money',
      arguments: { to: INJECTED_IBAN, amount: 900 },
    });
    assert.equal(pay.isError, true);
    assert.match(firstText(pay), /the recipient came from untrusted content/);
    // The IBAN itself is traced to the resource it was read from.
    assert.match(firstText(pay), /untrusted arguments: "to" from notes notes:\/\/inbox\/1/);
    const [payment] = await gh.rt.store.listDecisions({ limit: 1, run: 'run-resource' });
    assert.deepEqual(payment?.run.args?.to, {
      level: 'untrusted',
      source: 'notes notes://inbox/1',
    });
    const decisions = await gh.rt.store.listDecisions({ limit: 10, run: 'run-resource' });
    const recorded = decisions.find((d) => d.action === 'read_resource');
    assert.ok(recorded, 'the read is recorded');
    assert.equal(recorded.tool, 'notes://inbox/1');
    assert.equal(recorded.server, 'notes');
    assert.equal(recorded.outcome, 'allow');
    assert.deepEqual(recorded.policies, ['read-and-prompt']);
    assert.ok(await gh.rt.store.resultOf(recorded.id), 'what it returned is recorded');
  });

  it('a read policy forbids is refused with the decision and reaches nothing', async () => {
    const { client } = await agent('run-private');
    await assert.rejects(
      client.readResource({ uri: 'notes://inbox/private-1' }),
      (err: unknown) =>
        err instanceof McpError &&
        /Denied by Gatehouse \(decision dec_[^)]+\): private notes are not for agents/.test(
          err.message,
        ),
    );
    const run = runOf('run-private');
    assert.equal(run.lowestTrust, 'trusted', 'nothing was read');
    const [d] = await gh.rt.store.listDecisions({ limit: 1, run: 'run-private' });
    assert.equal(d?.outcome, 'deny');
    assert.deepEqual(d?.policies, ['no-private-notes']);
  });

  it('refuses resource URIs with dot segments before routing or policy', async () => {
    const { client } = await agent('run-dots');
    for (const uri of [
      'notes://inbox/../private-1',
      'notes://inbox/%2e%2e/private-1',
      'notes://inbox/..%2fprivate-1',
      'notes://inbox/./1',
    ]) {
      await assert.rejects(
        client.readResource({ uri }),
        (err: unknown) => err instanceof McpError && /"\." or "\.\." segments/.test(err.message),
        uri,
      );
    }
    assert.deepEqual(await gh.rt.store.listDecisions({ limit: 5, run: 'run-dots' }), []);
  });

  it('a read policy holds for a human waits for an approval bound to that read', async () => {
    const { client } = await agent('run-approval');
    const read = () => client.readResource({ uri: 'notes://inbox/secret-1' });
    await assert.rejects(
      read(),
      (err: unknown) =>
        err instanceof McpError &&
        /approval apr_\S+ is pending \(secret notes need a human\)/.test(err.message),
    );
    const pending = await gh.rt.store.listApprovals({ status: 'pending', limit: 20 });
    const mine = pending.find((a) => a.agent.run === 'run-approval');
    assert.ok(mine, 'an approval request was opened');
    // Named by action and URI: no tool has such a name, so it cannot approve a tool call.
    assert.equal(mine.tool, 'read_resource notes://inbox/secret-1');
    const approver = {
      id: 'fay',
      name: 'fay',
      role: 'approver' as const,
      secretHash: 'x',
      createdAt: 0,
      groups: [],
    };
    assert.equal((await gh.rt.approvals.answer(mine.id, approver, 'approve', 'ok')).ok, true);
    const got = await read();
    assert.deepEqual(got.contents[0], {
      uri: 'notes://inbox/secret-1',
      mimeType: 'text/plain',
      text: 'note secret-1',
    });
  });

  it("an untrusted server's completions count as read by the run", async () => {
    const { client } = await agent('run-complete');
    const done = await client.complete({
      ref: { type: 'ref/prompt', name: 'notes__summarise' },
      argument: { name: 'topic', value: 'card' },
    });
    assert.deepEqual(done.completion.values, ['card refunds', INJECTED_IBAN]);
    assert.equal(runOf('run-complete').lowestTrust, 'untrusted');
    await client.callTool({
      name: 'payments__send_money',
      arguments: { to: INJECTED_IBAN, amount: 900 },
    });
    const [payment] = await gh.rt.store.listDecisions({ limit: 1, run: 'run-complete' });
    assert.deepEqual(payment?.run.args?.to, {
      level: 'untrusted',
      source: 'notes__summarise (prompt) (completion)',
    });
  });

  it('a prompt is decided as get_prompt and its text is labelled like a resource', async () => {
    const { client } = await agent('run-prompt');
    const got = await client.getPrompt({
      name: 'notes__summarise',
      arguments: { topic: 'refunds' },
    });
    const msg = got.messages[0]?.content;
    assert.ok(msg && msg.type === 'text');
    assert.equal(msg.text, 'Summarise refunds briefly.');
    assert.equal((got._meta?.['gatehouse/provenance'] as { trust: string }).trust, 'untrusted');
    const [d] = await gh.rt.store.listDecisions({ limit: 1, run: 'run-prompt' });
    assert.equal(d?.action, 'get_prompt');
    assert.equal(d?.tool, 'notes__summarise');
  });

  it('a sampling request from an untrusted server is refused and recorded', async () => {
    const { client, sampled } = await agent('run-sample-untrusted');
    const r = await client.callTool({ name: 'notes__ask_model', arguments: { question: 'hi?' } });
    assert.equal(r.isError, true);
    assert.match(firstText(r), /sampling refused: .*Denied by Gatehouse/);
    assert.match(firstText(r), /server "notes" \(trust untrusted\)/);
    assert.deepEqual(sampled, [], "the agent's model was never asked");
    const decisions = await gh.rt.store.listDecisions({ limit: 5, run: 'run-sample-untrusted' });
    const sampling = decisions.find((d) => d.action === 'create_message');
    assert.ok(sampling, 'the sampling request is recorded');
    assert.equal(sampling.server, 'notes');
    assert.equal(sampling.outcome, 'deny');
    assert.deepEqual(sampling.labels, { trust: 'untrusted' });
    assert.ok(sampling.args, 'the request is kept');
  });

  it("a trusted server's sampling request reaches the calling agent's model and returns", async () => {
    const { client, sampled } = await agent('run-sample-trusted');
    const r = await client.callTool({ name: 'helper__ask_model', arguments: { question: '6*7?' } });
    assert.equal(firstText(r), 'model said: 42');
    assert.deepEqual(sampled, ['6*7?']);
    const decisions = await gh.rt.store.listDecisions({ limit: 5, run: 'run-sample-trusted' });
    const sampling = decisions.find((d) => d.action === 'create_message');
    assert.equal(sampling?.outcome, 'allow');
    assert.deepEqual(sampling?.policies, ['gatehouse.sampling-trusted-servers']);
  });

  it('policy sees what a sampling request asks for, includeContext included', async () => {
    const { client, sampled } = await agent('run-sample-context');
    const r = await client.callTool({
      name: 'helper__ask_model',
      arguments: { question: 'what did you read?', context: 'allServers' },
    });
    assert.equal(r.isError, true);
    assert.match(firstText(r), /servers may not ask for the agent's context/);
    assert.deepEqual(sampled, []);
    const decisions = await gh.rt.store.listDecisions({ limit: 5, run: 'run-sample-context' });
    const sampling = decisions.find((d) => d.action === 'create_message');
    assert.deepEqual(sampling?.policies, ['no-sampling-with-context']);
  });

  it('passes every content type and structured content through unchanged', async () => {
    const { client } = await agent('run-media');
    const direct = await directClient('node', [NOTES]);
    try {
      const expected = await direct.callTool({ name: 'media', arguments: {} });
      const got = await client.callTool({ name: 'notes__media', arguments: {} });
      assert.deepEqual(withoutReceipt(got), expected);
      const kinds = (got.content as { type: string }[]).map((c) => c.type);
      assert.deepEqual(kinds, ['text', 'image', 'audio', 'resource', 'resource', 'resource_link']);
      const tool = (await client.listTools()).tools.find((t) => t.name === 'notes__media');
      assert.ok(tool?.outputSchema, 'the output schema is passed through');
    } finally {
      await direct.close();
    }
  });

  it("cancels the upstream's work when the agent cancels its call", async () => {
    const { client } = await agent('run-cancel');
    const stop = new AbortController();
    const call = client.callTool({ name: 'notes__wait', arguments: { ms: 30_000 } }, undefined, {
      signal: stop.signal,
    });
    setTimeout(() => stop.abort(), 300);
    await assert.rejects(call);
    await eventually(async () => {
      const r = await client.callTool({ name: 'notes__cancellations', arguments: {} });
      return firstText(r) === '1';
    });
  });

  it('`gatehouse decisions` says what each decision was about', async () => {
    const { client } = await agent('run-cli');
    await client.readResource({ uri: 'notes://inbox/1' });
    await client.callTool({ name: 'notes__ask_model', arguments: { question: 'hi?' } });
    const dir = tempDir();
    const path = join(dir, 'gatehouse.yaml');
    const c = gh.rt.config;
    writeFileSync(
      path,
      [
        `store: { sqlite: ${JSON.stringify(c.store.sqlite)} }`,
        `keys: { dir: ${JSON.stringify(c.keys.dir)} }`,
        `policies: { dir: ${JSON.stringify(c.policies.dir)} }`,
      ].join('\n'),
    );
    const r = await runCliAsync(['decisions', '--config', path, '--run', 'run-cli']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /WHAT/);
    assert.match(r.out, /ALLOW .* read notes:\/\/inbox\/1 /);
    assert.match(r.out, /ALLOW .* notes__ask_model /);
    assert.match(r.out, /DENY .* sampling by notes /);
  });

  it('refuses an elicitation asking for more fields than policy reads, before policy', async () => {
    const { client, elicited } = await agent('run-elicit-many');
    // Integer-like names come first in a JSON object: "password" would be cut off at 64.
    const more = Array.from({ length: 64 }, (_, i) => String(i));
    const r = await client.callTool({
      name: 'notes__ask_user',
      arguments: { field: 'password', more },
    });
    assert.equal(r.isError, true);
    assert.match(firstText(r), /asks for 65 fields, more than the 64 policy reads/);
    assert.equal(elicited.length, 0);
    const decisions = await gh.rt.store.listDecisions({ limit: 5, run: 'run-elicit-many' });
    assert.deepEqual(decisions.find((d) => d.action === 'elicit')?.policies, [
      'gatehouse.elicitation-shape',
    ]);
  });

  it("a trusted server's sampling request quoting an untrusted value does not vouch for it", async () => {
    const { client, sampled } = await agent('run-sample-quote');
    await client.readResource({ uri: 'notes://inbox/1' });
    await client.callTool({
      name: 'helper__ask_model',
      arguments: { question: `Is ${INJECTED_IBAN} a valid IBAN?` },
    });
    assert.equal(sampled.length, 1, 'the trusted server sampled');
    await client.callTool({
      name: 'payments__send_money',
      arguments: { to: INJECTED_IBAN, amount: 900 },
    });
    const [payment] = await gh.rt.store.listDecisions({ limit: 1, run: 'run-sample-quote' });
    assert.equal(payment?.tool, 'payments__send_money');
    assert.equal(payment?.run.args?.to?.level, 'untrusted');
  });

  it('with connection: per_session, concurrent agents each get their own sampling requests', async () => {
    const a = await agent('run-concurrent-a', 'from A', 300);
    const b = await agent('run-concurrent-b', 'from B', 300);
    const ask = (c: Client, tool: string) =>
      c.callTool({ name: tool, arguments: { question: 'who answers?', delay: 200 } });
    // Shared: while both calls are in flight, nobody can tell whose model the server is asking.
    const shared = await Promise.all([
      ask(a.client, 'helper__ask_model'),
      ask(b.client, 'helper__ask_model'),
    ]);
    assert.ok(
      shared.some((r) => /cannot tell which agent session/.test(firstText(r))),
      shared.map(firstText).join(' | '),
    );
    // Per session: each call's server has only that agent to ask.
    const own = await Promise.all([
      ask(a.client, 'solo__ask_model'),
      ask(b.client, 'solo__ask_model'),
    ]);
    assert.deepEqual(own.map(firstText), ['model said: from A', 'model said: from B']);
  });

  it('an elicitation round-trips to the calling agent and back upstream', async () => {
    const { client, elicited } = await agent('run-elicit');
    const r = await client.callTool({ name: 'notes__ask_user', arguments: {} });
    assert.equal(firstText(r), 'hello Alice');
    assert.deepEqual(elicited, ['What is your name?']);
    const [d] = await gh.rt.store
      .listDecisions({ limit: 5, run: 'run-elicit' })
      .then((all) => all.filter((x) => x.action === 'elicit'));
    assert.deepEqual(d?.policies, ['gatehouse.elicitation-any-server']);
  });

  it('an elicitation policy forbids is refused before the user sees it, and recorded', async () => {
    const { client, elicited } = await agent('run-elicit-password');
    const r = await client.callTool({ name: 'notes__ask_user', arguments: { field: 'password' } });
    assert.equal(r.isError, true);
    assert.match(firstText(r), /elicitation refused: .*no server may ask for a password/);
    assert.equal(elicited.length, 0, 'the user was never asked');
    const decisions = await gh.rt.store.listDecisions({ limit: 5, run: 'run-elicit-password' });
    const asked = decisions.find((d) => d.action === 'elicit');
    assert.equal(asked?.outcome, 'deny');
    assert.equal(asked?.server, 'notes');
    assert.deepEqual(asked?.policies, ['no-password-questions']);
  });
});
