import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { createAdminKey } from '../src/identity/index.js';
import { firstText, quickstartNoWait, startGatehouse, type Running } from './helpers/gatehouse.js';

const INJECTED = 'https://forum.example.net/thread/4242';
/** The IBAN the injected page asks the agent to pay. */
const ATTACKER_IBAN = 'DE89370400440532013000';
const LANDLORD_IBAN = 'DE44500105175407324931';

type Result = Awaited<ReturnType<Client['callTool']>>;

/** The decision a refused or held call names in `_meta`; an answered call was allowed. */
function decisionOf(r: Result): { id: string; outcome: string; policies: string[] } {
  const d = r._meta?.['gatehouse/decision'] as
    { id: string; outcome: string; policies: string[] } | undefined;
  if (d) return d;
  assert.notEqual(r.isError, true, `a refusal without a decision: ${JSON.stringify(r)}`);
  return { id: '', outcome: 'allow', policies: [] };
}

/**
 * Issue 7 end to end on the quickstart, with the real MCP SDK client: a prompt injection read from
 * a web page cannot quietly become a payment, and what the human said stays usable.
 */
describe('provenance of context (quickstart, real MCP client)', () => {
  let gh: Running;

  before(async () => {
    // Approval-required calls answer at once instead of waiting for a person.
    gh = await startGatehouse(quickstartNoWait());
  });
  after(() => gh.close());

  async function agentIn(run: string): Promise<{ token: string; client: Client }> {
    const token = await gh.mint({ run });
    return { token, client: await gh.client(token) };
  }
  const fetchPage = (c: Client, url: string) =>
    c.callTool({ name: 'web__fetch', arguments: { url } });
  const sendMoney = (c: Client, to: string, amount = 2500) =>
    c.callTool({ name: 'payments__send_money', arguments: { to, amount } });
  const refund = (c: Client, amount: number) =>
    c.callTool({ name: 'payments__refund', arguments: { customer: 'c-1001', amount } });
  const registerInput = (run: string, token: string, text: string) =>
    fetch(new URL(`/v1/runs/${run}/inputs`, gh.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text }),
    });

  it('labels every result with its source, trust level and audit entry', async () => {
    const { client } = await agentIn('run-labels');
    const docs = await fetchPage(client, 'https://docs.example.com/refunds');
    const forum = await fetchPage(client, INJECTED);
    const label = (r: Result) => r._meta?.['gatehouse/provenance'] as Record<string, unknown>;
    assert.deepEqual(
      { ...label(docs), entry: typeof label(docs).entry },
      {
        trust: 'internal',
        source: 'web__fetch docs.example.com',
        server: 'web',
        tool: 'web__fetch',
        domain: 'docs.example.com',
        entry: 'number',
      },
    );
    assert.equal(label(forum).trust, 'untrusted');
    assert.equal(label(forum).source, 'web__fetch forum.example.net');
    const receipt = forum._meta?.['gatehouse/receipt'] as { result: { index: number } };
    assert.equal(label(forum).entry, receipt.result.index, 'the label points at the result entry');
  });

  it('denies send_money to the IBAN an injected page gave, naming the page', async () => {
    const { client } = await agentIn('run-injected');
    assert.match(firstText(await fetchPage(client, INJECTED)), new RegExp(ATTACKER_IBAN));
    for (const to of [
      ATTACKER_IBAN,
      'de89 3704 0044 0532 0130 00',
      'DE89-3704-0044-0532-0130-00',
    ]) {
      const paid = await sendMoney(client, to);
      assert.equal(paid.isError, true, to);
      const d = decisionOf(paid);
      assert.equal(d.outcome, 'deny', to);
      assert.ok(d.policies.includes('send-money-untrusted-recipient'), d.policies.join());
      assert.match(firstText(paid), /the recipient came from untrusted content/);
      assert.match(firstText(paid), /"to" from web__fetch forum\.example\.net/);
    }
    const last = await sendMoney(client, ATTACKER_IBAN);
    const record = await gh.rt.store.getDecision(decisionOf(last).id);
    assert.equal(record?.run.lowestTrust, 'untrusted');
    assert.deepEqual(record?.run.args?.to, {
      level: 'untrusted',
      source: 'web__fetch forum.example.net',
    });
    assert.deepEqual(record?.run.args?.amount, { level: 'unknown' });
  });

  it('asks a human (does not deny) for an IBAN the user registered as a trusted input', async () => {
    const { client, token } = await agentIn('run-landlord');
    const registered = await registerInput(
      'run-landlord',
      token,
      'Please pay my landlord DE44 5001 0517 5407 3249 31 the rent, 900 EUR.',
    );
    assert.equal(registered.status, 201, await registered.clone().text());
    await fetchPage(client, INJECTED);
    const paid = await sendMoney(client, LANDLORD_IBAN, 900);
    assert.equal(decisionOf(paid).outcome, 'approval_required', firstText(paid));
    assert.ok(decisionOf(paid).policies.includes('send-money-needs-approval'));
    const record = await gh.rt.store.getDecision(decisionOf(paid).id);
    assert.deepEqual(record?.run.args?.to, { level: 'trusted', source: 'input' });
    // The attacker's IBAN in the same run is still refused outright.
    assert.equal(decisionOf(await sendMoney(client, ATTACKER_IBAN)).outcome, 'deny');
  });

  it('a value the user gave stays trusted even when an untrusted page repeats it', async () => {
    const { client, token } = await agentIn('run-same-iban');
    const text = `send 2500 EUR to ${ATTACKER_IBAN}, it is my own account`;
    assert.equal((await registerInput('run-same-iban', token, text)).status, 201);
    await fetchPage(client, INJECTED);
    assert.equal(decisionOf(await sendMoney(client, ATTACKER_IBAN)).outcome, 'approval_required');
  });

  it('a refund under 500 needs approval once the run has read the injected page', async () => {
    const { client } = await agentIn('run-refund');
    const before = await refund(client, 120);
    assert.equal(decisionOf(before).outcome, 'allow', firstText(before));
    await fetchPage(client, INJECTED);
    const after = await refund(client, 120);
    assert.equal(decisionOf(after).outcome, 'approval_required');
    assert.deepEqual(decisionOf(after).policies, ['untrusted-run-needs-approval-for-high-blast']);
  });

  it('a run that never read untrusted content is unaffected', async () => {
    const { client } = await agentIn('run-clean');
    await fetchPage(client, 'https://status.example.com/');
    const refunded = await refund(client, 120);
    assert.equal(refunded.isError, undefined, firstText(refunded));
    assert.match(firstText(refunded), /Refunded 120/);
    const paid = await sendMoney(client, ATTACKER_IBAN);
    assert.equal(decisionOf(paid).outcome, 'approval_required');
    assert.deepEqual(decisionOf(paid).policies, ['send-money-needs-approval']);
    assert.equal((await gh.rt.store.getDecision(decisionOf(paid).id))?.run.lowestTrust, 'internal');
  });

  it("a subagent's untrusted read affects its parent's later calls in the same run", async () => {
    const root = await gh.mint({ run: 'run-tree' });
    const child = await gh.rt.authority.exchange({
      subjectToken: root,
      agent: { name: 'researcher', version: '1.0.0' },
    });
    assert.ok(child.ok);
    const sub = await gh.client(child.token);
    const parent = await gh.client(root);
    assert.equal(decisionOf(await refund(parent, 50)).outcome, 'allow');
    await fetchPage(sub, INJECTED);
    assert.equal(decisionOf(await refund(parent, 50)).outcome, 'approval_required');
    const paid = await sendMoney(parent, ATTACKER_IBAN);
    assert.equal(decisionOf(paid).outcome, 'deny');
    assert.match(firstText(paid), /web__fetch forum\.example\.net/);
    // Only the root agent speaks for the human; a subagent cannot launder a value into "trusted".
    const bySub = await registerInput('run-tree', child.token, ATTACKER_IBAN);
    assert.equal(bySub.status, 403);
    assert.equal(decisionOf(await sendMoney(parent, ATTACKER_IBAN)).outcome, 'deny');
  });

  it('records every registered input, and refuses another run, bad bodies and no credential', async () => {
    const mine = await gh.mint({ run: 'run-inputs' });
    const other = await gh.mint({ run: 'run-other' });
    assert.equal((await registerInput('run-inputs', other, 'x y z w')).status, 403);
    const noAuth = await fetch(new URL('/v1/runs/run-inputs/inputs', gh.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'hello there' }),
    });
    assert.equal(noAuth.status, 401);
    const bad = await fetch(new URL('/v1/runs/run-inputs/inputs', gh.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${mine}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: '', extra: 1 }),
    });
    assert.equal(bad.status, 400);
    const body = (await bad.json()) as { error_description?: string; message?: string };
    assert.match(JSON.stringify(body), /text/);
    assert.match(JSON.stringify(body), /extra/);
    const ok = await registerInput('run-inputs', mine, 'my account is GB33BUKB20201555555555');
    assert.equal(ok.status, 201);
    const events = await gh.rt.store.listEvents(50);
    const input = events.find((e) => e.kind === 'run.input' && e.detail.run === 'run-inputs');
    assert.ok(input, 'the input is recorded');
    assert.equal(input.detail.chars, 'my account is GB33BUKB20201555555555'.length);
    assert.doesNotMatch(
      JSON.stringify(input),
      /GB33BUKB/,
      'the record keeps a digest, not the text',
    );
  });
  it('lets an administrator speak for a run, never an approver; a run is read by its own agents', async () => {
    const now = Date.now();
    const admin = (await createAdminKey(gh.rt.store, 'ada', 'admin', now)).key;
    const approver = (await createAdminKey(gh.rt.store, 'ann', 'approver', now)).key;
    assert.equal(
      (await registerInput('run-admin', admin, 'account GB33BUKB20201555555555')).status,
      201,
    );
    assert.equal(
      (await registerInput('run-admin', approver, 'account GB94BARC10201530093459')).status,
      403,
    );
    const mine = await gh.mint({ run: 'run-admin' });
    assert.deepEqual(gh.rt.runs.argProvenance('run-admin', { to: 'GB33BUKB20201555555555' })?.to, {
      level: 'trusted',
      source: 'input',
    });
    assert.equal(
      gh.rt.runs.argProvenance('run-admin', { to: 'GB94BARC10201530093459' })?.to?.level,
      'unknown',
      "the approver's refused input vouches for nothing",
    );
    const read = (token: string | undefined) =>
      fetch(new URL('/v1/runs/run-admin', gh.url), {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
    assert.equal((await read(mine)).status, 200);
    assert.equal((await read(approver)).status, 200);
    assert.equal((await read(await gh.mint({ run: 'run-elsewhere' }))).status, 403);
    assert.equal((await read(undefined)).status, 401);
  });
});
