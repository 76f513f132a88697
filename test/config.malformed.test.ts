import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isGatehouseError } from '../src/errors/index.js';
import { loadConfig, parseConfig } from '../src/config/index.js';
import { tempDir } from './helpers/gatehouse.js';

function problems(text: string): string {
  try {
    parseConfig(text, '/etc/gatehouse/gatehouse.yaml');
  } catch (err) {
    assert.ok(isGatehouseError(err, 'CONFIG_INVALID', 'CONFIG_SYNTAX'), String(err));
    return err.message;
  }
  assert.fail('the config should have been refused');
}

/** gatehouse.yaml: defaults, path resolution, and every bad field named. */
describe('config', () => {
  it('fills defaults and resolves relative paths against the config file', () => {
    const c = parseConfig(
      'upstreams:\n  files:\n    command: ./bin/fs\n    args: [data]\n',
      '/etc/gh/gatehouse.yaml',
    );
    assert.equal(c.listen.host, '127.0.0.1');
    assert.equal(c.listen.port, 4100);
    assert.equal(c.store.sqlite, '/etc/gh/.gatehouse/gatehouse.db');
    assert.equal(c.keys.dir, '/etc/gh/.gatehouse/keys');
    assert.equal(c.policies.dir, '/etc/gh/policies');
    assert.equal(c.limits.max_body_bytes, 1024 * 1024);
    assert.equal(c.identity.default_ttl, 15 * 60_000);
    const files = c.upstreams.files;
    assert.ok(files && 'command' in files);
    assert.equal(files.command, '/etc/gh/bin/fs');
    assert.equal(files.cwd, '/etc/gh');
    assert.equal(files.trust, 'untrusted', 'upstreams are untrusted unless configured otherwise');
    assert.equal(files.connection, 'shared', 'one connection serves every agent by default');
  });

  it('names a connection mode that does not exist', () => {
    assert.match(
      problems('upstreams:\n  files:\n    command: fs\n    connection: per_agent\n'),
      /upstreams\.files\.connection: .*shared.*per_session/,
    );
  });

  it('names every bad field at once', () => {
    const msg = problems(
      [
        'listen: { port: "eighty" }',
        'identity: { default_ttl: soon }',
        'upstreams:',
        '  bad__name: { command: x }',
        '  web: { url: "ftp://example.com" }',
        '  files: { command: x, trust: maybe, tools: { read: { labels: { Access: read } } } }',
        'unknown_setting: 1',
      ].join('\n'),
    );
    for (const field of [
      'listen.port',
      'identity.default_ttl: "soon" is not a duration',
      'upstreams.bad__name',
      'upstreams.web',
      'upstreams.files',
      'unknown_setting',
    ]) {
      assert.ok(msg.includes(field), `expected "${field}" in:\n${msg}`);
    }
  });

  it('refuses an upstream with neither command nor url, or both', () => {
    assert.match(problems('upstreams:\n  x: { args: [a] }'), /upstreams\.x/);
    assert.match(problems('upstreams:\n  x: { command: a, url: "http://h/mcp" }'), /upstreams\.x/);
  });

  it('defaults tools.new to allow, and names a bad value or an unknown key under tools', () => {
    assert.equal(parseConfig('{}', '/etc/gh/gatehouse.yaml').tools.new, 'allow');
    assert.equal(parseConfig('tools: { new: approve }', '/etc/gh/g.yaml').tools.new, 'approve');
    assert.match(
      problems('tools: { new: sometimes }'),
      /^tools\.new: must be "allow" or "approve"$/m,
    );
    assert.match(
      problems('tools: { new: allow, pin: false }'),
      /^tools: Unrecognized key: "pin"$/m,
    );
    assert.match(problems('tools: [approve]'), /^tools: /m);
  });

  it('reports YAML syntax errors with a line', () => {
    assert.match(problems('listen:\n  port: [1, 2\nstore: x'), /not valid YAML at line \d+/);
  });

  it('reports a missing file in one sentence', () => {
    assert.throws(
      () => loadConfig(join(tempDir(), 'nope.yaml')),
      /cannot read config file .*nope\.yaml \(ENOENT\); pass --config FILE/,
    );
  });
});
