import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Store } from '../../src/store/index.js';
import { eventually } from './gatehouse.js';

/**
 * Starts a quickstart refund that parks for approval and resolves once its request is pending
 * (found by the customer name, which the test makes unique).
 */
export async function parkRefund(
  client: Client,
  store: Store,
  customer: string,
  amount: number,
): Promise<{ call: Promise<CallToolResult>; id: string }> {
  const call = client.callTool(
    { name: 'payments__refund', arguments: { customer, amount } },
    undefined,
    { timeout: 30_000 },
  ) as Promise<CallToolResult>;
  call.catch(() => undefined); // awaited by the test; a failure elsewhere must not go unhandled
  let id = '';
  await eventually(async () => {
    const list = await store.listApprovals({ status: 'pending', limit: 50 });
    id = list.find((a) => (a.args as { customer?: string }).customer === customer)?.id ?? '';
    return id !== '';
  });
  return { call, id };
}
