import assert from 'node:assert/strict';
import { copyFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { loadConfig } from '../src/config/index.js';
import { openLocalAdmin } from '../src/server/index.js';
import { BIN, firstText, policyDir, REPO_ROOT, SUPPORT_BOT, tempDir } from './helpers/gatehouse.js';
import { withoutReceipt } from './helpers/receipts.js';

const EVERYTHING = join(REPO_ROOT, 'node_modules/.bin/mcp-server-everything');

const QS = join(REPO_ROOT, 'examples/quickstart');

/** `gatehouse stdio`, launched as a command by the real SDK client, as MCP clients do. */
describe('gateway over stdio', () => {
  let configPath: string;
  let token: string;
  let client: Client;
  let direct: Client;

  before(async () => {
    const dir = tempDir();
    // The quickstart's policies plus one for server-everything.
    const policies = policyDir({
      'everything.cedar':
        '@id("everything") permit (principal, action in Action::"call_tool", resource in Server::"everything");',
    });
    for (const f of readdirSync(join(QS, 'policies')).filter((n) => /\.cedar(schema)?$/.test(n)))
      copyFileSync(join(QS, 'policies', f), join(policies, f));
    configPath = join(dir, 'gatehouse.yaml');
    writeFileSync(
      configPath,
      [
        `store: { sqlite: ${join(dir, 'gh.db')} }`,
        `keys: { dir: ${join(dir, 'keys')} }`,
        `policies: { dir: ${policies} }`,
        'approvals: { wait: 300ms }',
        'upstreams:',
        '  everything:',
        `    command: ${EVERYTHING}`,
        '    args: [stdio]',
        '  payments:',
        '    command: node',
        `    args: [${join(REPO_ROOT, 'dist/examples/quickstart/servers/payments.js')}]`,
      ].join('\n'),
    );
    const admin = await openLocalAdmin(loadConfig(configPath));
    token = (await admin.authority.mint(SUPPORT_BOT)).token;
    await admin.close();
    client = new Client({ name: 'stdio-test', version: '1' });
    await client.connect(
      new StdioClientTransport({
        command: 'node',
        args: [BIN, 'stdio', '--config', configPath],
        env: { PATH: process.env.PATH ?? '', GATEHOUSE_TOKEN: token, GATEHOUSE_LOG_LEVEL: 'warn' },
        stderr: 'ignore',
      }),
    );
    direct = new Client({ name: 'direct', version: '1' });
    await direct.connect(
      new StdioClientTransport({ command: EVERYTHING, args: ['stdio'], stderr: 'ignore' }),
    );
  });
  after(async () => {
    await client.close();
    await direct.close();
  });

  it('returns server-everything results exactly as the upstream gives them', async () => {
    for (const [tool, args] of [
      ['echo', { message: 'over stdio' }],
      ['get-tiny-image', {}],
      ['get-structured-content', { location: 'Los Angeles' }],
    ] as const) {
      const expected = await direct.callTool({ name: tool, arguments: args });
      const got = await client.callTool({ name: `everything__${tool}`, arguments: args });
      assert.deepEqual(withoutReceipt(got), expected, tool);
    }
  });

  it('lists, allows and denies exactly as over HTTP', async () => {
    const names = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes('payments__refund'));
    assert.ok(!names.includes('files__write_file'));
    const ok = await client.callTool({
      name: 'payments__refund',
      arguments: { customer: 'c-7', amount: 50 },
    });
    assert.match(firstText(ok), /^Refunded 50 EUR to c-7/);
    const denied = await client.callTool({
      name: 'payments__refund',
      arguments: { customer: 'c-7', amount: 501 },
    });
    assert.equal(denied.isError, true);
    assert.match(firstText(denied), /refunds-over-500-need-approval/);
  });

  it('refuses to start without a valid GATEHOUSE_TOKEN, with one clear line', async () => {
    const { spawnSync } = await import('node:child_process');
    for (const env of [{}, { GATEHOUSE_TOKEN: `${token.slice(0, -4)}AAAA` }]) {
      const r = spawnSync('node', [BIN, 'stdio', '--config', configPath], {
        env: { PATH: process.env.PATH ?? '', GATEHOUSE_LOG_LEVEL: 'silent', ...env },
        encoding: 'utf8',
        timeout: 15_000,
      });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /^gatehouse: .*GATEHOUSE_TOKEN/m);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
  });

  // Last: it revokes the session's credential.
  it('stops a running stdio session on the next call once its credential is revoked', async () => {
    const ok = await client.callTool({ name: 'payments__get_balance', arguments: {} });
    assert.equal(ok.isError, undefined);
    const admin = await openLocalAdmin(loadConfig(configPath)); // what `gatehouse revoke` does
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as {
      jti: string;
    };
    await admin.authority.revoke({
      kind: 'jti',
      value: claims.jti,
      reason: 'leaked from a log',
      by: 'local',
    });
    await admin.close();
    await assert.rejects(
      client.callTool({ name: 'payments__get_balance', arguments: {} }),
      /revoked \(jti .*: leaked from a log\)/,
    );
  });
});
