import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { BIN, firstText } from './helpers/gatehouse.js';

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
      const denied = await client.callTool({
        name: 'payments__refund',
        arguments: { customer: 'c-1001', amount: 900 },
      });
      assert.equal(denied.isError, true);
      assert.match(firstText(denied), /refunds over 500 need a human approver/);
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
