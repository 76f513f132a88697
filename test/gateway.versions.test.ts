import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  configWithPolicies,
  REPO_ROOT,
  startGatehouse,
  type Running,
} from './helpers/gatehouse.js';

const OLD_SERVER = join(REPO_ROOT, 'dist/test/fixtures/old-protocol-server.js');
const EVERYTHING = join(REPO_ROOT, 'node_modules/.bin/mcp-server-everything');

interface RpcAnswer {
  readonly result?: Record<string, unknown>;
  readonly error?: { code: number; message: string };
}

/** MCP protocol versions 2025-06-18 and 2025-11-25 on both sides of the gate (issue 9). */
describe('protocol versions through the gateway', () => {
  let gh: Running;
  let token: string;

  before(async () => {
    gh = await startGatehouse(
      configWithPolicies(
        { 'all.cedar': '@id("all") permit (principal, action, resource);' },
        'upstreams:',
        '  old:',
        '    command: node',
        `    args: [${OLD_SERVER}]`,
        '  everything:',
        `    command: ${EVERYTHING}`,
      ),
    );
    token = await gh.mint();
  });
  after(() => gh.close());

  /** One JSON-RPC exchange over Streamable HTTP, read from a JSON or an SSE answer. */
  async function rpc(
    body: Record<string, unknown>,
    headers: Record<string, string>,
  ): Promise<{ answer: RpcAnswer | undefined; session: string | null; status: number }> {
    const res = await fetch(gh.url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...headers,
      },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    const data = text.startsWith('{')
      ? text
      : text
          .split('\n')
          .filter((l) => l.startsWith('data: '))
          .map((l) => l.slice(6))
          .find((l) => l.includes(`"id":${String(body.id)}`));
    return {
      answer: data ? (JSON.parse(data) as RpcAnswer) : undefined,
      session: res.headers.get('mcp-session-id'),
      status: res.status,
    };
  }

  for (const version of ['2025-06-18', '2025-11-25']) {
    it(`a ${version} client reaches a 2025-06-18 and a 2025-11-25 upstream`, async () => {
      const init = await rpc(
        {
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: version,
            capabilities: {},
            clientInfo: { name: 'versions', version: '1' },
          },
        },
        {},
      );
      assert.equal(init.status, 200);
      assert.equal(
        init.answer?.result?.protocolVersion,
        version,
        'the version the client asked for',
      );
      const session = { 'mcp-session-id': init.session ?? '', 'mcp-protocol-version': version };
      const initialized = await fetch(gh.url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...session,
        },
        body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
      });
      assert.equal(initialized.status, 202);
      const call = (id: number, name: string, args: Record<string, unknown>) =>
        rpc(
          { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } },
          session,
        );
      const old = await call(2, 'old__version', {});
      assert.deepEqual(old.answer?.result?.content, [
        { type: 'text', text: 'protocol 2025-06-18' },
      ]);
      const echo = await call(3, 'everything__echo', { message: version });
      const content = echo.answer?.result?.content as { text: string }[] | undefined;
      assert.match(content?.[0]?.text ?? '', new RegExp(version));
    });
  }

  it('refuses a request whose protocol version header is not one it speaks', async () => {
    const init = await rpc(
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-11-25',
          capabilities: {},
          clientInfo: { name: 'versions', version: '1' },
        },
      },
      {},
    );
    const res = await rpc(
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      { 'mcp-session-id': init.session ?? '', 'mcp-protocol-version': '1999-01-01' },
    );
    assert.equal(res.status, 400);
  });
});
