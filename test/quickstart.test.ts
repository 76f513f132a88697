import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { runCliAsync } from './helpers/cli.js';
import { BIN, eventually, firstText, QUICKSTART_CONFIG } from './helpers/gatehouse.js';

/** What `npm start` runs, as a new user sees it: the banner's URL and credential work as printed. */
describe('gatehouse quickstart', () => {
  let child: ChildProcess;
  let banner = '';

  before(async () => {
    child = spawn('node', [BIN, 'quickstart', '--port', '0'], {
      env: { PATH: process.env.PATH ?? '', GATEHOUSE_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner: ${banner}`)), 30_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        banner += chunk.toString();
        if (banner.includes('Press Ctrl-C to stop.')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`quickstart exited with ${code}`)));
    });
  });
  after(() => {
    child.kill('SIGINT');
  });

  it('prints the MCP URL and a support-bot credential that work as printed', async () => {
    const url = /MCP endpoint\s+(http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(banner)?.[1];
    const token = /export GATEHOUSE_TOKEN=(\S+)/.exec(banner)?.[1];
    assert.ok(url && token, banner);
    assert.match(banner, /agent support-bot 1\.4\.0 acting for user:alice/);
    const client = new Client({ name: 'new-user', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(url), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(
        names.includes('payments__refund') &&
          names.includes('web__fetch') &&
          names.includes('files__read_text_file'),
      );
      const page = await client.callTool({
        name: 'web__fetch',
        arguments: { url: 'https://forum.example.net/thread/4242' },
      });
      assert.match(firstText(page), /DE89370400440532013000/);
      // The README's story: a refund over 500 waits until an approver approves it.
      const customer = `c-${Date.now()}`;
      const parked = client.callTool(
        { name: 'payments__refund', arguments: { customer, amount: 900 } },
        undefined,
        { timeout: 60_000 },
      );
      const created = await runCliAsync([
        'admin',
        'key',
        'create',
        '--config',
        QUICKSTART_CONFIG,
        '--name',
        `approver-${Date.now()}`,
        '--role',
        'approver',
      ]);
      assert.equal(created.code, 0, created.err);
      const key = created.out.trim();
      const base = new URL(url).origin;
      let id = '';
      await eventually(async () => {
        const list = await runCliAsync(['approvals', 'list', '--url', base, '--json'], {
          GATEHOUSE_ADMIN_KEY: key,
        });
        const rows = list.out.trim().split('\n').filter(Boolean);
        const mine = rows
          .map((l) => JSON.parse(l) as { id: string; arguments: { customer?: string } })
          .find((a) => a.arguments.customer === customer);
        id = mine?.id ?? '';
        return id !== '';
      }, 20_000);
      const approved = await runCliAsync(['approvals', 'approve', id, '--url', base], {
        GATEHOUSE_ADMIN_KEY: key,
      });
      assert.equal(approved.code, 0, approved.err);
      const res = await parked;
      assert.notEqual(res.isError, true, firstText(res));
      assert.match(firstText(res), /Refunded 900/i);
    } finally {
      await client.close();
    }
  });

  it('stops cleanly on Ctrl-C', async () => {
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    child.kill('SIGINT');
    assert.equal(await exited, 0);
  });
});
