import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { GatehouseClient, GatehouseClientError } from '../src/client/index.js';
import { createAdminKey } from '../src/identity/index.js';
import { quickstartNoWait, startGatehouse, type Running } from './helpers/gatehouse.js';
import { freePort } from './helpers/processes.js';

/** A bare HTTP server answering every request with `answer`; counts requests. */
async function fakeServer(
  answer: (res: ServerResponse) => void,
): Promise<{ url: string; count: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server: Server = createServer((_req, res) => {
    n++;
    answer(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    count: () => n,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function isClientError(code: string, status?: number) {
  return (err: unknown) => {
    assert.ok(err instanceof GatehouseClientError, String(err));
    assert.equal(err.code, code, err.message);
    if (status !== undefined) assert.equal(err.status, status);
    return true;
  };
}

const TOKEN = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1c2VyOmFsaWNlIn0.c2VjcmV0LXNpZ25hdHVyZQ';

describe('GatehouseClient', () => {
  let gh: Running;
  before(async () => {
    // Calls that need approval answer at once instead of waiting for a person.
    gh = await startGatehouse(quickstartNoWait());
  });
  after(() => gh.close());

  it('covers the API: decide, exchange, inputs, run, approvals and the audit log', async () => {
    const run = `run-${randomUUID()}`;
    const client = new GatehouseClient({ url: gh.http.baseUrl, token: await gh.mint({ run }) });
    const d = await client.decide({
      tool: 'payments__refund',
      arguments: { customer: 'c', amount: 900 },
    });
    assert.equal(d.outcome, 'approval_required');
    assert.deepEqual(d.policies, ['refunds-over-500-need-approval']);
    assert.ok(d.receipt && d.approval?.status === 'pending');
    const input = await client.registerInput(run, 'pay DE44 5001 0517 5407 3249 31');
    assert.match(input.digest, /^sha256:/);
    assert.deepEqual(await client.getRun(run), { run, lowest_trust: 'trusted', sources: [] });
    const child = await client.exchangeToken({
      agent_name: 'researcher',
      agent_version: '1.0.0',
      scope: ['web__*'],
    });
    assert.equal(child.scope, 'web__*');
    const sub = client.withToken(child.access_token);
    assert.equal((await sub.decide({ tool: 'payments__get_balance' })).outcome, 'deny');
    const entry = await client.entry(d.receipt.index);
    assert.equal(entry.entry.type, 'decision');
    assert.ok(entry.inclusion_proof.length >= 0);
    assert.match(await client.checkpoint(), /\n\d+\n/);

    const { key } = await createAdminKey(gh.rt.store, 'ann', 'approver', Date.now());
    const people = new GatehouseClient({ url: gh.http.baseUrl, adminKey: key });
    const pending = await people.listApprovals();
    assert.ok(pending.some((a) => a.id === d.approval?.id));
    assert.equal((await people.getApproval(d.approval.id)).tool, 'payments__refund');
    assert.equal((await people.deny(d.approval.id, 'not this one')).status, 'denied');
    await assert.rejects(people.approve(d.approval.id), isClientError('CLIENT_REFUSED', 409));
    // An agent credential is refused on approvals; the client says what it needs.
    await assert.rejects(client.listApprovals(), isClientError('CLIENT_MISUSE'));
  });

  it('reports refusals with their status and API code, never the credential', async () => {
    const token = await gh.mint();
    const forged = `${token.slice(0, -6)}AAAAAA`;
    const client = new GatehouseClient({ url: gh.http.baseUrl, token: forged });
    await assert.rejects(client.decide({ tool: 'payments__get_balance' }), (err: unknown) => {
      isClientError('CLIENT_REFUSED', 401)(err);
      const e = err as GatehouseClientError;
      assert.equal(e.error, 'invalid_token');
      assert.ok(!e.message.includes(forged), 'no credential in the message');
      assert.ok(!JSON.stringify(e).includes(forged));
      return true;
    });
    const ok = new GatehouseClient({ url: gh.http.baseUrl, token });
    await assert.rejects(ok.decide({ tool: 'not a tool' }), isClientError('CLIENT_REFUSED', 400));
    await assert.rejects(
      ok.recordResult({ decision_id: 'dec_nope', status: 'ok' }),
      isClientError('CLIENT_REFUSED', 404),
    );
  });

  it('is unavailable when nothing answers, or not in time; never retries', async () => {
    const closed = new GatehouseClient({
      url: `http://127.0.0.1:${await freePort()}`,
      token: TOKEN,
    });
    await assert.rejects(closed.decide({ tool: 'a__b' }), (err: unknown) => {
      isClientError('CLIENT_UNAVAILABLE')(err);
      assert.match((err as Error).message, /cannot be reached/);
      assert.ok(!(err as Error).message.includes(TOKEN));
      return true;
    });
    const hang = await fakeServer(() => undefined);
    const slow = new GatehouseClient({ url: hang.url, token: TOKEN, timeoutMs: 300 });
    const t0 = Date.now();
    await assert.rejects(slow.decide({ tool: 'a__b' }), /did not answer within 300 ms/);
    assert.ok(Date.now() - t0 < 5000);
    await hang.close();
    const busy = await fakeServer((res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ error: 'temporarily_unavailable', error_description: `no ${TOKEN}` }),
      );
    });
    const c = new GatehouseClient({ url: busy.url, token: TOKEN });
    await assert.rejects(c.recordResult({ decision_id: 'dec_x', status: 'ok' }), (err: unknown) => {
      isClientError('CLIENT_UNAVAILABLE', 503)(err);
      assert.ok(
        !(err as Error).message.includes(TOKEN),
        'a credential echoed by a server is removed',
      );
      return true;
    });
    assert.equal(busy.count(), 1, 'a state-changing request is sent once');
    await busy.close();
  });

  it('refuses answers that are not what the API promises', async () => {
    const garbage = await fakeServer((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"decision_id": 1');
    });
    await assert.rejects(
      new GatehouseClient({ url: garbage.url, token: TOKEN }).decide({ tool: 'a__b' }),
      isClientError('CLIENT_BAD_ANSWER'),
    );
    await garbage.close();
    const wrong = await fakeServer((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ decision_id: 'dec_1', outcome: 'maybe', policies: [] }));
    });
    await assert.rejects(
      new GatehouseClient({ url: wrong.url, token: TOKEN }).decide({ tool: 'a__b' }),
      (err: unknown) => {
        isClientError('CLIENT_BAD_ANSWER')(err);
        assert.match((err as Error).message, /outcome/);
        return true;
      },
    );
    await wrong.close();
    const huge = await fakeServer((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`"${'x'.repeat(9 * 1024 * 1024)}"`);
    });
    await assert.rejects(
      new GatehouseClient({ url: huge.url, token: TOKEN }).decide({ tool: 'a__b' }),
      /larger than/,
    );
    await huge.close();
    assert.throws(() => new GatehouseClient({ url: 'ftp://x' }), isClientError('CLIENT_MISUSE'));
    assert.throws(
      () => new GatehouseClient({ url: 'http://x', timeoutMs: 0 }),
      isClientError('CLIENT_MISUSE'),
    );
  });
});
