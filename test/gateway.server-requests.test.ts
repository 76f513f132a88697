import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  LoggingMessageNotificationSchema,
  type CreateMessageRequest,
  type LoggingMessageNotification,
} from '@modelcontextprotocol/sdk/types.js';
import { ALLOW_ALL_AND_ASKING, contentUpstream, EVERYTHING_UPSTREAM } from './helpers/content.js';
import {
  configWithPolicies,
  eventually,
  firstText,
  startGatehouse,
  type Running,
} from './helpers/gatehouse.js';

/** Text of every content block of a tool result. */
const allText = (result: unknown) =>
  ((result as { content?: { type: string; text?: string }[] }).content ?? [])
    .map((c) => c.text ?? '')
    .join('\n');

/**
 * What upstreams ask of their client (sampling, elicitation) and the log messages they send reach
 * the agent session whose call is in flight, and only it; nothing goes where it cannot be told.
 */
describe('gateway relays server requests and log messages to the calling session', () => {
  let gh: Running;

  before(async () => {
    gh = await startGatehouse(
      configWithPolicies(
        ALLOW_ALL_AND_ASKING,
        'upstreams:',
        ...EVERYTHING_UPSTREAM,
        ...contentUpstream('alpha', ['resources=1', 'prompts=1']),
      ),
    );
  });
  after(() => gh.close());

  it("brings server-everything's sampling request to the caller's client and its answer back", async () => {
    const client = await gh.client(await gh.mint(), { sampling: {} });
    const asked: CreateMessageRequest['params'][] = [];
    client.setRequestHandler(CreateMessageRequestSchema, (req) => {
      asked.push(req.params);
      return {
        model: 'test-model',
        role: 'assistant',
        content: { type: 'text', text: 'forty-two, says the agent' },
      };
    });
    const res = await client.callTool({
      name: 'everything__trigger-sampling-request',
      arguments: { prompt: 'what is the answer?', maxTokens: 20 },
    });
    assert.notEqual(res.isError, true, allText(res));
    assert.match(firstText(res), /forty-two, says the agent/);
    assert.match(firstText(res), /test-model/);
    assert.equal(asked.length, 1);
    assert.equal(asked[0]?.maxTokens, 20);
    assert.deepEqual(asked[0]?.messages[0]?.content, {
      type: 'text',
      text: 'Resource trigger-sampling-request context: what is the answer?',
    });
  });

  it('refuses sampling for a client that did not declare it, and the upstream hears why', async () => {
    const client = await gh.client(await gh.mint());
    const res = await client.callTool({
      name: 'everything__trigger-sampling-request',
      arguments: { prompt: 'hello?' },
    });
    assert.equal(res.isError, true);
    assert.match(allText(res), /does not support sampling/);
  });

  it('refuses a sampling request while two sessions have calls in flight on that upstream', async () => {
    const busy = await gh.client(await gh.mint());
    const sampler = await gh.client(await gh.mint(), { sampling: {} });
    let sampled = 0;
    sampler.setRequestHandler(CreateMessageRequestSchema, () => {
      sampled++;
      return { model: 'm', role: 'assistant', content: { type: 'text', text: 'x' } };
    });
    let started = false;
    const long = busy.callTool(
      { name: 'everything__trigger-long-running-operation', arguments: { duration: 3, steps: 6 } },
      undefined,
      { onprogress: () => (started = true) },
    );
    await eventually(() => started);
    const res = await sampler.callTool({
      name: 'everything__trigger-sampling-request',
      arguments: { prompt: 'whose?' },
    });
    assert.equal(res.isError, true);
    assert.match(allText(res), /Gatehouse cannot tell which agent session this request is for/);
    assert.equal(sampled, 0, 'no session was asked');
    assert.match(firstText(await long), /Long running operation completed/);
  });

  it('relays an elicitation round trip (form mode)', async () => {
    const client = await gh.client(await gh.mint(), { elicitation: { form: {} } });
    const asked: string[] = [];
    client.setRequestHandler(ElicitRequestSchema, (req) => {
      asked.push(req.params.message);
      return { action: 'accept', content: { name: 'Ada Lovelace', check: true, integer: 7 } };
    });
    const res = await client.callTool({
      name: 'everything__trigger-elicitation-request',
      arguments: {},
    });
    assert.notEqual(res.isError, true, allText(res));
    assert.deepEqual(asked, ['Please provide inputs for the following fields:']);
    const text = allText(res);
    assert.match(text, /User provided the requested information/);
    assert.match(text, /- Name: Ada Lovelace/);
    assert.match(text, /- Favorite Integer: 7/);

    const declining = await gh.client(await gh.mint(), { elicitation: {} });
    declining.setRequestHandler(ElicitRequestSchema, () => ({ action: 'decline' }));
    const declined = await declining.callTool({
      name: 'everything__trigger-elicitation-request',
      arguments: {},
    });
    assert.match(allText(declined), /User declined/);

    const without = await gh.client(await gh.mint());
    const refused = await without.callTool({
      name: 'everything__trigger-elicitation-request',
      arguments: {},
    });
    assert.equal(refused.isError, true);
    assert.match(allText(refused), /does not support form elicitation/);
  });

  it('sends upstream log messages to the calling session only, at or above its level', async () => {
    const caller = await gh.client(await gh.mint());
    const bystander = await gh.client(await gh.mint());
    const heard = { caller: [] as LoggingMessageNotification['params'][], bystander: 0 };
    caller.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      heard.caller.push(n.params);
    });
    bystander.setNotificationHandler(LoggingMessageNotificationSchema, () => {
      heard.bystander++;
    });
    const log = (level: string, message: string) =>
      caller.callTool({ name: 'alpha__log', arguments: { level, message } });

    assert.match(firstText(await log('info', 'first')), /logged at info/);
    await eventually(() => heard.caller.length === 1);
    assert.deepEqual(heard.caller, [{ level: 'info', logger: 'alpha/fixture', data: 'first' }]);

    await caller.setLoggingLevel('warning');
    await log('info', 'below the level');
    await log('error', 'above the level');
    await eventually(() => heard.caller.length === 2);
    assert.deepEqual(heard.caller[1], {
      level: 'error',
      logger: 'alpha/fixture',
      data: 'above the level',
    });

    // server-everything's simulated logging sends one message during the call that starts it.
    await caller.setLoggingLevel('debug');
    const toggle = () =>
      caller.callTool({ name: 'everything__toggle-simulated-logging', arguments: {} });
    assert.match(firstText(await toggle()), /Started/);
    try {
      await eventually(() => heard.caller.some((p) => p.logger === 'everything'));
    } finally {
      await toggle();
    }
    assert.equal(heard.bystander, 0, 'a session without a call in flight hears nothing');
  });
});
