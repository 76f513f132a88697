import { loadConfig } from '../config/index.js';
import { approveProblem, openLocalAdmin, pinJson, type ToolPinJson } from '../server/index.js';
import type { Store } from '../store/index.js';
import { adminKeyFromEnv, bad, remoteCall } from './common.js';
import { table } from './output.js';
import { definitionLines, lineDiff, renderDiff } from './tool-diff.js';

export interface ToolsOptions {
  config: string;
  url?: string;
  json?: boolean;
}

/** Tool ids as the gateway exposes them; anything else cannot have a pin. */
const TOOL_ID = /^[A-Za-z0-9_-]{1,64}$/;

async function local<T>(configPath: string, work: (store: Store) => Promise<T>): Promise<T> {
  const admin = await openLocalAdmin(loadConfig(configPath));
  try {
    return await work(admin.store);
  } finally {
    await admin.close();
  }
}

/** One pin, with its definitions, from the host's store or a remote Gatehouse. */
async function fetchPin(tool: string, o: ToolsOptions): Promise<ToolPinJson> {
  if (!TOOL_ID.test(tool)) throw bad(`"${tool}" is not a tool name such as payments__refund`);
  const pin = o.url
    ? ((await remoteCall(o.url, `v1/tools/${tool}`, undefined, {
        adminKey: adminKeyFromEnv(),
        method: 'GET',
      })) as unknown as ToolPinJson)
    : await local(o.config, async (store) => {
        const p = await store.getToolPin(tool);
        return p ? pinJson(p, true) : undefined;
      });
  if (!pin) throw bad(`no tool ${tool} has been seen (see: gatehouse tools list)`);
  return pin;
}

const shortHash = (h: string | undefined) => (h ? h.replace(/^sha256:/, '').slice(0, 12) : '-');

/** `gatehouse tools list`: every pinned tool, held ones first. */
export async function toolsListCommand(o: ToolsOptions): Promise<void> {
  const rows: ToolPinJson[] = o.url
    ? ((
        await remoteCall(o.url, 'v1/tools', undefined, {
          adminKey: adminKeyFromEnv(),
          method: 'GET',
        })
      ).tools as ToolPinJson[])
    : await local(o.config, async (store) => (await store.listToolPins()).map((p) => pinJson(p)));
  if (o.json) {
    for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  if (rows.length === 0) {
    process.stdout.write(
      'No tools have been seen yet: they are pinned when an upstream lists them.\n',
    );
    return;
  }
  const held = (r: ToolPinJson) => (r.state === 'approved' ? 1 : 0);
  const sorted = [...rows].sort((a, b) => held(a) - held(b) || a.tool.localeCompare(b.tool));
  const hash = (r: ToolPinJson) =>
    r.state === 'changed'
      ? `${shortHash(r.approved_hash)} -> ${shortHash(r.pending_hash)}`
      : shortHash(r.approved_hash ?? r.pending_hash);
  process.stdout.write(
    `${table(
      ['TOOL', 'SERVER', 'STATE', 'HASH', 'UPDATED'],
      sorted.map((r) => [
        r.tool,
        r.server,
        r.state,
        hash(r),
        r.updated.replace('T', ' ').slice(0, 19),
      ]),
    )}\n`,
  );
  const waiting = rows.length - rows.filter((r) => r.state === 'approved').length;
  if (waiting > 0)
    process.stdout.write(
      `\n${waiting} tool${waiting === 1 ? '' : 's'} held: review with gatehouse tools diff TOOL, then gatehouse tools approve TOOL.\n`,
    );
}

/** `gatehouse tools diff TOOL`: the approved definition against the one presented now. */
export async function toolsDiffCommand(tool: string, o: ToolsOptions): Promise<void> {
  const pin = await fetchPin(tool, o);
  if (o.json) {
    process.stdout.write(`${JSON.stringify(pin, null, 2)}\n`);
    return;
  }
  if (pin.state === 'approved') {
    process.stdout.write(
      `${tool} presents its approved definition (${pin.approved_hash ?? '?'}, approved by ${pin.approved_by ?? '?'}); nothing to approve.\n`,
    );
    return;
  }
  const before = definitionLines(pin.approved_definition);
  const after = definitionLines(pin.pending_definition);
  const header = [
    pin.state === 'new_pending'
      ? `--- (new tool: nothing approved yet)`
      : `--- approved  ${pin.approved_hash ?? '?'} (by ${pin.approved_by ?? '?'}, ${pin.approved_at ?? '?'})`,
    `+++ presented ${pin.pending_hash ?? '?'} (since ${pin.updated})`,
  ];
  process.stdout.write(`${header.join('\n')}\n${renderDiff(lineDiff(before, after))}\n`);
  process.stdout.write(
    `\nApprove what is presented with: gatehouse tools approve ${tool} --hash ${pin.pending_hash ?? ''}\n`,
  );
}

/** `gatehouse tools approve TOOL`: the presented definition becomes the pinned one. */
export async function toolsApproveCommand(
  tool: string,
  o: ToolsOptions & { hash?: string },
): Promise<void> {
  if (!TOOL_ID.test(tool)) throw bad(`"${tool}" is not a tool name such as payments__refund`);
  if (o.hash !== undefined && !/^sha256:[0-9a-f]{64}$/.test(o.hash))
    throw bad(
      '--hash must be a definition hash as gatehouse tools diff prints it (sha256:<64 hex digits>)',
    );
  let approved: ToolPinJson;
  if (o.url) {
    approved = (await remoteCall(
      o.url,
      `v1/tools/${tool}/approve`,
      o.hash ? { hash: o.hash } : {},
      { adminKey: adminKeyFromEnv() },
    )) as unknown as ToolPinJson;
  } else {
    approved = await local(o.config, async (store) => {
      const res = await store.approveTool(tool, {
        by: 'local',
        time: Date.now(),
        ...(o.hash ? { hash: o.hash } : {}),
      });
      if (!res.ok) throw bad(approveProblem(tool, res));
      return pinJson(res.pin);
    });
  }
  process.stdout.write(
    `Approved the definition ${tool} presents (${approved.approved_hash ?? '?'}): agents can list and call it again.\n`,
  );
}
