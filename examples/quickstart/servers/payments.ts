/**
 * Demo payments MCP server (stdio) for the quickstart. It keeps balances in memory and moves no
 * real money; it exists so that policies on refunds and transfers can be tried safely.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

let balance = 12_500;
const server = new McpServer({ name: 'demo-payments', version: '1.0.0' });

server.registerTool(
  'get_balance',
  { description: 'Current balance of the support account, in EUR.', inputSchema: {} },
  () => ({
    content: [{ type: 'text', text: `Balance: ${balance} EUR` }],
    structuredContent: undefined,
  }),
);

server.registerTool(
  'refund',
  {
    description: 'Refund a customer, in whole EUR.',
    inputSchema: { customer: z.string().min(1).max(100), amount: z.number().int().positive() },
  },
  ({ customer, amount }) => {
    balance -= amount;
    return {
      content: [
        { type: 'text', text: `Refunded ${amount} EUR to ${customer}. Balance: ${balance} EUR` },
      ],
    };
  },
);

server.registerTool(
  'send_money',
  {
    description: 'Send money to an IBAN, in whole EUR.',
    inputSchema: { to: z.string().min(1).max(64), amount: z.number().int().positive() },
  },
  ({ to, amount }) => {
    balance -= amount;
    return {
      content: [{ type: 'text', text: `Sent ${amount} EUR to ${to}. Balance: ${balance} EUR` }],
    };
  },
);

await server.connect(new StdioServerTransport());
