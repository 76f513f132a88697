import assert from 'node:assert/strict';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT, tempDir } from './helpers/gatehouse.js';
import { runCli } from './helpers/cli.js';

const run = runCli;

function assertOneLineError(r: { code: number | null; err: string }, pattern: RegExp): void {
  assert.notEqual(r.code, 0);
  assert.match(r.err, pattern);
  assert.match(r.err, /^gatehouse: /);
  assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
}

function writeConfig(): { dir: string; path: string } {
  const dir = tempDir();
  const path = join(dir, 'gatehouse.yaml');
  writeFileSync(path, `policies: { dir: ${join(REPO_ROOT, 'examples/quickstart/policies')} }\n`);
  return { dir, path };
}

/** The CLI is for people: complete help, one-line errors, exit codes. */
describe('gatehouse CLI', () => {
  it('documents every command', () => {
    const top = run(['--help']);
    assert.equal(top.code, 0);
    for (const cmd of ['up', 'stdio', 'quickstart', 'token', 'decisions', 'config'])
      assert.match(top.out, new RegExp(`\\n  ${cmd}\\b`));
    for (const sub of [['up'], ['stdio'], ['token', 'mint'], ['decisions'], ['config', 'check']]) {
      const h = run([...sub, '--help']);
      assert.equal(h.code, 0, sub.join(' '));
      assert.match(h.out, /--config <file>/, `${sub.join(' ')} takes --config`);
    }
  });

  it('mints a credential, creating a 0600 key on first use', () => {
    const { dir, path } = writeConfig();
    const r = run([
      'token',
      'mint',
      '--config',
      path,
      '--agent',
      'support-bot',
      '--agent-version',
      '1.4.0',
      '--principal',
      'user:alice',
      '--ttl',
      '5m',
    ]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out.trim(), /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const claims = JSON.parse(Buffer.from(r.out.split('.')[1] ?? '', 'base64url').toString()) as {
      exp: number;
      iat: number;
    };
    assert.equal(claims.exp - claims.iat, 300);
    const keyDir = join(dir, '.gatehouse/keys');
    assert.equal(statSync(keyDir).mode & 0o777, 0o700);
    const keyFile = readdirSync(keyDir).find((f) => f.endsWith('.jwk.json')) ?? '';
    assert.equal(statSync(join(keyDir, keyFile)).mode & 0o777, 0o600);
  });

  it('reports every bad mint option in one line', () => {
    const { path } = writeConfig();
    const r = run([
      'token',
      'mint',
      '--config',
      path,
      '--agent',
      'bad name',
      '--agent-version',
      '1',
      '--principal',
      'alice',
      '--ttl',
      'forever',
    ]);
    assertOneLineError(
      r,
      /--agent must be.*--principal must look like user:<id>.*--ttl "forever" is not a duration/,
    );
  });

  it('refuses a TTL over the maximum', () => {
    const { path } = writeConfig();
    const r = run([
      'token',
      'mint',
      '--config',
      path,
      '--agent',
      'a',
      '--agent-version',
      '1',
      '--principal',
      'user:a',
      '--ttl',
      '1d',
    ]);
    assertOneLineError(r, /at most 3600 s/);
  });

  it('explains a missing or invalid config file', () => {
    assertOneLineError(
      run(['config', 'check', '--config', '/nonexistent/gatehouse.yaml']),
      /cannot read config file/,
    );
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.yaml'), 'listen: { port: -1 }\n');
    const r = run(['config', 'check', '--config', join(dir, 'bad.yaml')]);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /listen\.port/);
  });

  it('checks the quickstart config and lists decisions as a table', () => {
    const ok = run([
      'config',
      'check',
      '--config',
      join(REPO_ROOT, 'examples/quickstart/gatehouse.yaml'),
    ]);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /is valid: 3 upstream\(s\), 15 policies/);
    const { path } = writeConfig();
    const empty = run(['decisions', '--config', path]);
    assert.equal(empty.code, 0, empty.err);
    assert.match(empty.out, /No decisions recorded yet/);
    assertOneLineError(
      run(['decisions', '--config', path, '--limit', 'many']),
      /--limit must be a whole number/,
    );
  });

  it('rejects an unknown command with a hint', () => {
    const r = run(['frobnicate']);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /unknown command/);
  });
});
