import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { keptArguments, REDACTED } from '../src/audit/index.js';
import { parseConfig } from '../src/config/index.js';
import { isGatehouseError } from '../src/errors/index.js';
import { exportAudit } from './helpers/cli.js';
import { startGatehouse } from './helpers/gatehouse.js';
import { quickstartCopy } from './helpers/policy-setup.js';
import { receiptOf } from './helpers/receipts.js';

describe('argument retention (audit.arguments)', () => {
  it('keeps everything, a digest only, or everything but named fields at any depth', () => {
    const args = { to: 'bob', pin: '1234', card: { pin: '9', n: [{ pin: 1 }] } };
    assert.deepEqual(keptArguments(args, 'full'), { args });
    assert.deepEqual(keptArguments(args, 'digest'), {});
    assert.deepEqual(keptArguments(args, { redact: ['pin'] }), {
      args: { to: 'bob', pin: REDACTED, card: { pin: REDACTED, n: [{ pin: REDACTED }] } },
      argsRedacted: ['pin', 'card.pin', 'card.n[0].pin'],
    });
    assert.deepEqual(args.card.pin, '9', 'the caller’s arguments are not modified');
  });

  it('keeps a __proto__ key from JSON as a plain redacted field', () => {
    const args = JSON.parse('{"__proto__": {"pin": "1"}, "a": 1}') as Record<string, unknown>;
    const kept = keptArguments(args, { redact: ['pin'] }).args as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(kept), Object.prototype);
    assert.deepEqual(Object.keys(kept), ['__proto__', 'a']);
    assert.equal(JSON.stringify(kept), '{"__proto__":{"pin":"[redacted]"},"a":1}');
  });

  it('rejects a bad setting, naming the field', () => {
    for (const bad of [
      'audit: { arguments: some }',
      'audit: { arguments: { redact: [] } }',
      'audit: { arguments: { redact: ["a.b"] } }',
    ]) {
      assert.throws(
        () => parseConfig(bad, 'gatehouse.yaml'),
        (err: unknown) =>
          isGatehouseError(err, 'CONFIG_INVALID') && /audit\.arguments/.test(err.message),
        bad,
      );
    }
  });

  it('never stores a redacted value: not in the store, the log, an approval request or an export', async () => {
    const secret = 'c-SECRET-4242';
    const setup = quickstartCopy(
      [],
      ['audit: { arguments: { redact: [customer] } }', 'approvals: { wait: 100ms }'],
    );
    const gh = await startGatehouse(setup.config());
    try {
      const client = await gh.client(await gh.mint());
      const small = await client.callTool({
        name: 'payments__refund',
        arguments: { customer: secret, amount: 20 },
      });
      assert.notEqual(small.isError, true, 'policy still saw the real arguments');
      receiptOf(small);
      const big = await client.callTool({
        name: 'payments__refund',
        arguments: { customer: secret, amount: 900 },
      });
      assert.equal(big.isError, true, 'the large refund waits for a person');

      const [decision] = await gh.rt.store.listDecisions({ limit: 1, tool: 'payments__refund' });
      assert.deepEqual(decision?.args, { customer: REDACTED, amount: 900 });
      assert.deepEqual(decision?.argsRedacted, ['customer']);
      const [approval] = await gh.rt.store.listApprovals({ limit: 1 });
      assert.deepEqual(approval?.args, { customer: REDACTED, amount: 900 });
    } finally {
      await gh.close();
    }
    const { out } = await exportAudit(setup.configPath);
    const files = [
      join(setup.dir, 'gatehouse.db'),
      join(setup.dir, 'gatehouse.db-wal'),
      join(out, 'entries.jsonl'),
      ...readdirSync(join(out, 'checkpoints')).map((f) => join(out, 'checkpoints', f)),
    ].filter((f) => existsSync(f));
    assert.ok(files.length >= 3);
    for (const f of files) {
      assert.ok(!readFileSync(f).includes(secret), `${f} does not hold the redacted value`);
    }
    assert.ok(
      readFileSync(join(out, 'entries.jsonl'), 'utf8').includes('"args_redacted":["customer"]'),
    );
  });
});
