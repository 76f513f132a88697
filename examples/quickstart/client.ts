/**
 * A minimal agent-side MCP client for the quickstart, using the official SDK.
 *   node dist/examples/quickstart/client.js                      # list the tools this agent may call
 *   node dist/examples/quickstart/client.js TOOL '{"arg": 1}'    # call one
 * Reads GATEHOUSE_TOKEN (printed by `npm start`) and GATEHOUSE_URL (default http://127.0.0.1:4100/mcp).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const url = new URL(process.env.GATEHOUSE_URL ?? 'http://127.0.0.1:4100/mcp');
const token = process.env.GATEHOUSE_TOKEN;
if (!token) {
  console.error('Set GATEHOUSE_TOKEN to the credential printed by `npm start`.');
  process.exit(2);
}
const [tool, argsJson = '{}'] = process.argv.slice(2);

const client = new Client({ name: 'quickstart-client', version: '1.0.0' });
try {
  await client.connect(
    new StreamableHTTPClientTransport(url, {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  if (!tool) {
    const { tools } = await client.listTools();
    for (const t of tools)
      console.log(`${t.name.padEnd(34)} ${(t.description ?? '').split('\n')[0]}`);
  } else {
    // A call that needs a human approver is held open; progress keeps it alive while it waits.
    const result = await client.callTool(
      { name: tool, arguments: JSON.parse(argsJson) as Record<string, unknown> },
      undefined,
      {
        onprogress: (p) => console.error(p.message ?? 'waiting…'),
        resetTimeoutOnProgress: true,
        timeout: 90_000,
      },
    );
    console.log(JSON.stringify(result, null, 2));
  }
} catch (err) {
  console.error(`Error: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await client.close();
}
