import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BIN, REPO_ROOT, tempDir } from './helpers/gatehouse.js';
import { runCli } from './helpers/cli.js';

const run = runCli;

function setup(): string {
  const dir = tempDir();
  const path = join(dir, 'gatehouse.yaml');
  writeFileSync(
    path,
    `policies: { dir: ${join(REPO_ROOT, 'examples/quickstart/policies')} }\nidentity: { max_depth: 1 }\n`,
  );
  return path;
}

const mintArgs = (config: string) => [
  'token',
  'mint',
  '--config',
  config,
  '--agent',
  'orchestrator',
  '--agent-version',
  '3.0.0',
  '--principal',
  'user:alice',
  '--scope',
  'payments__*',
];

/** The identity commands, as a local administrator runs them on the host. */
describe('gatehouse identity commands', () => {
  it('exchanges for a subagent, inspects its lineage, and refuses widening and depth', () => {
    const config = setup();
    const parent = run(mintArgs(config)).out.trim();
    const child = run(
      [
        'token',
        'exchange',
        '--config',
        config,
        '--agent',
        'researcher',
        '--agent-version',
        '1.0.0',
        '--scope',
        'payments__get_balance',
      ],
      { GATEHOUSE_TOKEN: parent },
    );
    assert.equal(child.code, 0, child.err);
    const inspect = run(['token', 'inspect', child.out.trim(), '--config', config]);
    assert.equal(inspect.code, 0, inspect.err);
    assert.match(inspect.out, /Agent\s+researcher 1\.0\.0/);
    assert.match(inspect.out, /Acting for\s+user:alice/);
    assert.match(
      inspect.out,
      /Depth\s+1 \(root spiffe:\/\/gatehouse\.local\/agent\/orchestrator\//,
    );
    assert.match(
      inspect.out,
      /Lineage\nspiffe:\/\/gatehouse\.local\/agent\/orchestrator\/\S+\n\s+└─ spiffe:\/\/gatehouse\.local\/agent\/researcher\/\S+\s+<- this credential/,
    );

    const wider = run([
      'token',
      'exchange',
      '--config',
      config,
      '--token',
      parent,
      '--agent',
      'x',
      '--agent-version',
      '1',
      '--scope',
      'files__*',
    ]);
    assert.notEqual(wider.code, 0);
    assert.match(wider.err, /^gatehouse: token exchange refused \(invalid_scope\)/);
    const deeper = run([
      'token',
      'exchange',
      '--config',
      config,
      '--token',
      child.out.trim(),
      '--agent',
      'x',
      '--agent-version',
      '1',
    ]);
    assert.match(deeper.err, /depth 2 would exceed the maximum of 1/);
  });

  it('revokes, and inspect then says why the credential is refused', () => {
    const config = setup();
    const token = run(mintArgs(config)).out.trim();
    const r = run([
      'revoke',
      '--config',
      config,
      '--agent',
      'orchestrator@3.0.0',
      '--reason',
      'bad release',
    ]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Revoked agent orchestrator@3\.0\.0/);
    const inspect = run(['token', 'inspect', token, '--config', config]);
    assert.notEqual(inspect.code, 0);
    assert.match(
      inspect.err,
      /^gatehouse: the credential is not valid: the credential was revoked \(agent orchestrator@3\.0\.0: bad release\)/,
    );
    const two = run(['revoke', '--config', config, '--jti', 'a', '--run', 'b', '--reason', 'x']);
    assert.match(two.err, /give exactly one of --jti, --agent, --run, --subtree/);
  });

  it('rotates, lists and retires keys', () => {
    const config = setup();
    const old = run(mintArgs(config)).out.trim();
    assert.match(run(['keys', 'rotate', '--config', config]).out, /New signing key \S+ \(EdDSA\)/);
    const list = run(['keys', 'list', '--config', config]).out;
    assert.match(list, /signing/);
    assert.match(list, /verifying/);
    const oldKid = (
      JSON.parse(Buffer.from(old.split('.')[0] ?? '', 'base64url').toString()) as { kid: string }
    ).kid;
    assert.equal(
      run(['token', 'inspect', old, '--config', config]).code,
      0,
      'old credentials still verify',
    );
    assert.equal(run(['keys', 'retire', oldKid, '--config', config]).code, 0);
    const inspect = run(['token', 'inspect', old, '--config', config]);
    assert.match(inspect.err, /unknown or retired key/);
    assert.match(run(['keys', 'list', '--config', config]).out, /retired/);
  });

  it('signs with ES256 keys when identity.algorithm says so', () => {
    const dir = tempDir();
    const config = join(dir, 'gatehouse.yaml');
    writeFileSync(config, 'identity: { algorithm: ES256 }\n');
    const token = run(mintArgs(config)).out.trim();
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as {
      alg: string;
    };
    assert.equal(header.alg, 'ES256');
    assert.equal(run(['token', 'inspect', token, '--config', config]).code, 0);
  });

  it('creates person keys, shown once and listed by name and role', () => {
    const config = setup();
    const created = run([
      'admin',
      'key',
      'create',
      '--config',
      config,
      '--name',
      'ada',
      '--role',
      'admin',
    ]);
    assert.equal(created.code, 0, created.err);
    assert.match(created.out.trim(), /^ghk_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    assert.match(created.err, /shown once/);
    const list = run(['admin', 'key', 'list', '--config', config]).out;
    assert.match(list, /ada\s+admin/);
    assert.ok(!list.includes(created.out.trim().slice(17)), 'the secret is never listed');
    assert.match(
      run(['admin', 'key', 'create', '--config', config, '--name', 'x', '--role', 'root']).err,
      /--role/,
    );
    assert.match(
      run(['admin', 'key', 'create', '--config', config, '--name', 'ada', '--role', 'admin']).err,
      /already exists/,
    );
  });
});

describe('gatehouse identity commands against a remote Gatehouse (--url)', () => {
  it('mints and revokes with a person key from GATEHOUSE_ADMIN_KEY, and refuses without one', async () => {
    const { startGatehouse, testConfig, policyDir } = await import('./helpers/gatehouse.js');
    const { createAdminKey } = await import('../src/identity/index.js');
    const dir = policyDir({ 'all.cedar': 'permit (principal, action, resource);' });
    const gh = await startGatehouse(
      testConfig('upstreams: {}\npolicies: { dir: . }\n', join(dir, 'gatehouse.yaml')),
    );
    try {
      const { key } = await createAdminKey(gh.rt.store, 'ada', 'admin', Date.now());
      const url = new URL('/', gh.url).toString();
      const runAsync = (args: string[], env: Record<string, string>) =>
        new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
          // Asynchronous: the Gatehouse under test runs in this process and must keep serving.
          void import('node:child_process').then(({ execFile }) => {
            execFile(
              'node',
              [BIN, ...args],
              { env: { PATH: process.env.PATH ?? '', ...env } },
              (error, out, err) => {
                resolve({
                  code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
                  out,
                  err,
                });
              },
            );
          });
        });
      const minted = await runAsync(
        [
          'token',
          'mint',
          '--url',
          url,
          '--agent',
          'remote-bot',
          '--agent-version',
          '1.0.0',
          '--principal',
          'user:alice',
        ],
        { GATEHOUSE_ADMIN_KEY: key },
      );
      assert.equal(minted.code, 0, minted.err);
      const token = minted.out.trim();
      assert.ok((await gh.rt.authority.verify(token)).ok);
      const noKey = await runAsync(
        ['revoke', '--url', url, '--agent', 'remote-bot@1.0.0', '--reason', 'x'],
        {},
      );
      assert.match(noKey.err, /set GATEHOUSE_ADMIN_KEY/);
      const revoked = await runAsync(
        ['revoke', '--url', url, '--agent', 'remote-bot@1.0.0', '--reason', 'leaked'],
        { GATEHOUSE_ADMIN_KEY: key },
      );
      assert.equal(revoked.code, 0, revoked.err);
      const r = await gh.rt.authority.verify(token);
      assert.equal(r.ok, false);
      const wrongKey = await runAsync(['revoke', '--url', url, '--run', 'r', '--reason', 'x'], {
        GATEHOUSE_ADMIN_KEY: token,
      });
      assert.match(wrongKey.err, /refused: agent credentials are not accepted on admin endpoints/);
    } finally {
      await gh.close();
    }
  });
});
