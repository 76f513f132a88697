import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  ErrorCode,
  McpError,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  type Prompt,
} from '@modelcontextprotocol/sdk/types.js';
import { isGatehouseError } from '../src/errors/index.js';
import { silentLogger } from '../src/log/index.js';
import { openRuntime } from '../src/server/index.js';
import {
  ALLOW_ALL,
  collect,
  contentUpstream,
  decoded,
  directClient,
  directContent,
  EVERYTHING,
  EVERYTHING_UPSTREAM,
} from './helpers/content.js';
import { withoutReceipt } from './helpers/receipts.js';
import {
  configWithPolicies,
  eventually,
  firstText,
  startGatehouse,
  type Running,
} from './helpers/gatehouse.js';

/** alpha's page ends exactly at its end, empty has nothing, beta spans pages. */
const FIXTURES: Record<string, string[]> = {
  alpha: ['resources=100', 'prompts=3', 'page=30', 'uri=fixture://alpha/'],
  empty: ['resources=0', 'prompts=0', 'tools=0', 'uri=fixture://empty/'],
  beta: ['resources=130', 'prompts=120', 'page=40', 'uri=fixture://beta/'],
};

const invalidParams = (pattern: RegExp) => (err: unknown) => {
  assert.ok(err instanceof McpError, String(err));
  assert.equal(err.code, ErrorCode.InvalidParams);
  assert.match(err.message, pattern);
  return true;
};

/** Resources, templates, prompts and completions of several upstreams behind one endpoint. */
describe('gateway passes resources and prompts through', () => {
  let gh: Running;
  let client: Client;
  /** Each upstream reached directly, in config order. */
  const direct = new Map<string, Client>();

  before(async () => {
    gh = await startGatehouse(
      configWithPolicies(
        ALLOW_ALL,
        'upstreams:',
        ...Object.entries(FIXTURES).flatMap(([name, o]) => contentUpstream(name, o)),
        ...EVERYTHING_UPSTREAM,
      ),
    );
    client = await gh.client(await gh.mint());
    for (const [name, o] of Object.entries(FIXTURES))
      direct.set(name, await directContent(name, o));
    direct.set('everything', await directClient(EVERYTHING, ['stdio']));
  });
  after(async () => {
    await Promise.all([...direct.values()].map((c) => c.close()));
    await gh.close();
  });

  /** What an upstream lists itself, every page of it. */
  async function own<T>(
    fetch: (c: Client, cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string }>,
  ): Promise<Map<string, T[]>> {
    const out = new Map<string, T[]>();
    for (const [name, c] of direct) out.set(name, (await collect((cur) => fetch(c, cur))).items);
    return out;
  }

  it("lists every upstream's resources across pages, with cursors naming upstream and offset", async () => {
    const got = await collect(async (cursor) => {
      const r = await client.listResources(cursor ? { cursor } : {});
      return { items: r.resources, nextCursor: r.nextCursor };
    });
    const expected = await own(async (c, cursor) => {
      const r = await c.listResources(cursor ? { cursor } : {});
      return { items: r.resources, nextCursor: r.nextCursor };
    });
    assert.deepEqual(got.items, [...expected.values()].flat());
    const everything = expected.get('everything')?.length ?? 0;
    assert.ok(everything > 0, 'server-everything lists resources');
    assert.deepEqual(got.pages, [100, 100, 30 + everything]);
    // alpha's 100 end exactly at a page: the next page starts at beta, past the empty upstream.
    assert.deepEqual(got.cursors.map(decoded), [
      { s: 'beta', o: 0 },
      { s: 'beta', o: 100 },
    ]);
  });

  it('lists prompts under their exposed names across pages', async () => {
    const got = await collect(async (cursor) => {
      const r = await client.listPrompts(cursor ? { cursor } : {});
      return { items: r.prompts, nextCursor: r.nextCursor };
    });
    const expected = await own(async (c, cursor) => {
      const r = await c.listPrompts(cursor ? { cursor } : {});
      return { items: r.prompts, nextCursor: r.nextCursor };
    });
    const renamed = [...expected].flatMap(([server, prompts]) =>
      prompts.map((p: Prompt) => ({ ...p, name: `${server}__${p.name}` })),
    );
    assert.deepEqual(got.items, renamed);
    assert.deepEqual(got.pages, [100, renamed.length - 100]);
    assert.deepEqual(got.cursors.map(decoded), [{ s: 'beta', o: 97 }]);
  });

  it('lists resource templates of every upstream', async () => {
    const got = (await client.listResourceTemplates()).resourceTemplates;
    const expected = await own(async (c) => ({
      items: (await c.listResourceTemplates()).resourceTemplates,
    }));
    assert.deepEqual(got, [...expected.values()].flat());
  });

  it('refuses a malformed or foreign cursor with InvalidParams and nothing else', async () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const cursor of ['garbage!', b64({ s: 'nobody', o: 0 }), b64({ s: 'beta', o: -3 })]) {
      await assert.rejects(client.listResources({ cursor }), invalidParams(/invalid cursor/));
      await assert.rejects(client.listPrompts({ cursor }), invalidParams(/invalid cursor/));
    }
    // The session still works.
    assert.equal((await client.listResources()).resources.length, 100);
  });

  it('reads resources from the upstream that lists them or whose template matches', async () => {
    const everything = direct.get('everything') as Client;
    const doc = (await everything.listResources()).resources[0];
    assert.ok(doc);
    const read = await client.readResource({ uri: doc.uri });
    assert.deepEqual(withoutReceipt(read), await everything.readResource({ uri: doc.uri }));
    const beta = await client.readResource({ uri: 'fixture://beta/129' });
    assert.deepEqual(beta.contents, [
      {
        uri: 'fixture://beta/129',
        mimeType: 'text/plain',
        text: 'fixture://beta/129 served by beta',
      },
    ]);
    // Not listed anywhere; alpha's template fixture://alpha/item/{id} matches it.
    const item = await client.readResource({ uri: 'fixture://alpha/item/x1' });
    assert.match((item.contents[0] as { text: string }).text, /served by alpha/);
    const dynamic = await client.readResource({ uri: 'demo://resource/dynamic/text/3' });
    assert.match((dynamic.contents[0] as { text: string }).text, /^Resource 3: /);
    await assert.rejects(
      client.readResource({ uri: 'nowhere://x' }),
      invalidParams(/unknown resource/),
    );
    await assert.rejects(
      client.readResource({ uri: `fixture://alpha/${'x'.repeat(5000)}` }),
      invalidParams(/URI/),
    );
  });

  it('gets prompts by their exposed names', async () => {
    const greet = await client.getPrompt({ name: 'alpha__greet', arguments: { who: 'Ada' } });
    assert.deepEqual(greet.messages, [
      { role: 'user', content: { type: 'text', text: 'greet Ada from alpha' } },
    ]);
    const everything = direct.get('everything') as Client;
    assert.deepEqual(
      withoutReceipt(await client.getPrompt({ name: 'everything__simple-prompt' })),
      await everything.getPrompt({ name: 'simple-prompt' }),
    );
    await assert.rejects(client.getPrompt({ name: 'greet' }), invalidParams(/unknown prompt/));
  });

  it('completes prompt arguments and resource template variables upstream', async () => {
    const everything = direct.get('everything') as Client;
    const dept = {
      ref: { type: 'ref/prompt' as const, name: 'completable-prompt' },
      argument: { name: 'department', value: 'S' },
    };
    assert.deepEqual(
      await client.complete({
        ...dept,
        ref: { ...dept.ref, name: 'everything__completable-prompt' },
      }),
      await everything.complete(dept),
    );
    const who = await client.complete({
      ref: { type: 'ref/prompt', name: 'alpha__greet' },
      argument: { name: 'who', value: 'A' },
    });
    assert.deepEqual(who.completion.values, ['Ada', 'Alan']);
    const byTemplate = {
      ref: { type: 'ref/resource' as const, uri: 'demo://resource/dynamic/text/{resourceId}' },
      argument: { name: 'resourceId', value: '7' },
    };
    assert.deepEqual(await client.complete(byTemplate), await everything.complete(byTemplate));
    await assert.rejects(
      client.complete({ ...dept, ref: { ...dept.ref, name: 'nope__x' } }),
      invalidParams(/unknown prompt/),
    );
  });

  it('delivers a resource update only to the sessions subscribed to that URI', async () => {
    const other = await gh.client(await gh.mint());
    const heard = { client: [] as string[], other: [] as string[] };
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      heard.client.push(n.params.uri);
    });
    other.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      heard.other.push(n.params.uri);
    });
    const subscriptions = async () =>
      JSON.parse(
        firstText(await client.callTool({ name: 'alpha__subscriptions', arguments: {} })),
      ) as { uris: string[]; subscribeCalls: number };
    const touch = (c: Client, uri: string) =>
      c.callTool({ name: 'alpha__touch', arguments: { uri } });

    await client.subscribeResource({ uri: 'fixture://alpha/1' });
    await other.subscribeResource({ uri: 'fixture://alpha/2' });
    await other.subscribeResource({ uri: 'fixture://alpha/1' });
    // One subscribe upstream per URI, however many sessions.
    assert.deepEqual(await subscriptions(), {
      uris: ['fixture://alpha/1', 'fixture://alpha/2'],
      subscribeCalls: 2,
    });

    await touch(client, 'fixture://alpha/2');
    await eventually(() => heard.other.length === 1);
    await touch(client, 'fixture://alpha/1');
    await eventually(() => heard.client.length === 1 && heard.other.length === 2);
    assert.deepEqual(heard, {
      client: ['fixture://alpha/1'],
      other: ['fixture://alpha/2', 'fixture://alpha/1'],
    });

    // Released upstream only when the last subscriber is gone (unsubscribed, or its session closed).
    await client.unsubscribeResource({ uri: 'fixture://alpha/1' });
    assert.deepEqual((await subscriptions()).uris, ['fixture://alpha/1', 'fixture://alpha/2']);
    await (other.transport as StreamableHTTPClientTransport).terminateSession();
    await other.close();
    await eventually(async () => (await subscriptions()).uris.length === 0);
    await touch(client, 'fixture://alpha/1');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(heard.client, ['fixture://alpha/1']);
  });

  it("relays server-everything's resource updates to its subscriber", async () => {
    const everything = direct.get('everything') as Client;
    const doc = (await everything.listResources()).resources[0];
    assert.ok(doc);
    const heard: string[] = [];
    const sub = await gh.client(await gh.mint());
    sub.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      heard.push(n.params.uri);
    });
    await sub.subscribeResource({ uri: doc.uri });
    const toggle = () =>
      sub.callTool({ name: 'everything__toggle-subscriber-updates', arguments: {} });
    assert.match(firstText(await toggle()), /Started/);
    try {
      await eventually(() => heard.includes(doc.uri));
    } finally {
      await toggle();
    }
    await sub.close();
  });
});

describe('resource and prompt lists that change upstream', () => {
  it('refetches on list_changed and tells every session; a failed refetch keeps the old list', async () => {
    const gh = await startGatehouse(
      configWithPolicies(
        ALLOW_ALL,
        'upstreams:',
        ...contentUpstream('alpha', ['resources=2', 'prompts=2']),
      ),
    );
    try {
      const caller = await gh.client(await gh.mint());
      const other = await gh.client(await gh.mint());
      const heard = { resources: 0, prompts: 0 };
      other.setNotificationHandler(ResourceListChangedNotificationSchema, () => {
        heard.resources++;
      });
      other.setNotificationHandler(PromptListChangedNotificationSchema, () => {
        heard.prompts++;
      });
      const uris = async () => (await other.listResources()).resources.map((r) => r.uri);
      const prompts = async () => (await other.listPrompts()).prompts.map((p) => p.name);
      assert.deepEqual(await uris(), ['fixture://alpha/0', 'fixture://alpha/1']);

      await caller.callTool({ name: 'alpha__grow', arguments: {} });
      await eventually(() => heard.resources >= 1 && heard.prompts >= 1);
      assert.deepEqual(await uris(), [
        'fixture://alpha/0',
        'fixture://alpha/1',
        'fixture://alpha/2',
      ]);
      assert.deepEqual(await prompts(), ['alpha__greet', 'alpha__topic-1', 'alpha__topic-2']);
      const grown = await other.readResource({ uri: 'fixture://alpha/2' });
      assert.match((grown.contents[0] as { text: string }).text, /served by alpha/);

      // The upstream now fails every list request: what it listed before is still served.
      await caller.callTool({ name: 'alpha__break', arguments: {} });
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(await uris(), [
        'fixture://alpha/0',
        'fixture://alpha/1',
        'fixture://alpha/2',
      ]);
      assert.equal((await prompts()).length, 3);
    } finally {
      await gh.close();
    }
  });
});

describe('resources and prompts that two upstreams offer under one name', () => {
  it('refuses a URI two upstreams list or match, naming both, and never guesses', async () => {
    const same = ['resources=2', 'prompts=1', 'uri=fixture://same/'];
    const gh = await startGatehouse(
      configWithPolicies(
        ALLOW_ALL,
        'upstreams:',
        ...contentUpstream('a', same),
        ...contentUpstream('b', same),
      ),
    );
    try {
      const client = await gh.client(await gh.mint());
      for (const uri of ['fixture://same/0', 'fixture://same/item/7']) {
        await assert.rejects(
          client.readResource({ uri }),
          invalidParams(/more than one upstream \(a, b\)/),
        );
        await assert.rejects(
          client.subscribeResource({ uri }),
          invalidParams(/more than one upstream \(a, b\)/),
        );
      }
      // With prefixes, the prompts do not clash.
      const greet = await client.getPrompt({ name: 'b__greet', arguments: { who: 'x' } });
      assert.deepEqual(greet.messages[0]?.content, { type: 'text', text: 'greet x from b' });
    } finally {
      await gh.close();
    }
  });

  it("refuses a URI one upstream lists and another's template covers", async () => {
    const gh = await startGatehouse(
      configWithPolicies(
        ALLOW_ALL,
        'upstreams:',
        ...contentUpstream('docs', ['resources=1', 'uri=fixture://docs/']),
        // Lists fixture://docs/item/0, which docs' template fixture://docs/item/{id} covers.
        ...contentUpstream('web', ['resources=1', 'uri=fixture://docs/item/']),
      ),
    );
    try {
      const client = await gh.client(await gh.mint());
      await assert.rejects(
        client.readResource({ uri: 'fixture://docs/item/0' }),
        invalidParams(/more than one upstream \(web, docs\)/),
      );
      // What only one of them serves is still read.
      const own = await client.readResource({ uri: 'fixture://docs/0' });
      assert.match((own.contents[0] as { text: string }).text, /served by docs/);
    } finally {
      await gh.close();
    }
  });

  it('refuses to start when two upstreams offer a prompt under the same name', async () => {
    const config = configWithPolicies(
      ALLOW_ALL,
      'upstreams:',
      ...contentUpstream('a', ['tools=0', 'prompts=1'], ['    prefix: false']),
      ...contentUpstream('b', ['tools=0', 'prompts=1'], ['    prefix: false']),
    );
    const rt = await openRuntime(config, silentLogger());
    try {
      await assert.rejects(rt.gateway.whenSettled(), (err: unknown) => {
        assert.ok(isGatehouseError(err, 'GATEWAY_NAME_CLASH'));
        assert.match(err.message, /prompt "greet" \(from a and b\)/);
        return true;
      });
      // Neither is served meanwhile: a request must never reach the wrong server.
      assert.equal(rt.gateway.content.prompt('greet'), undefined);
    } finally {
      await rt.close();
    }
  });
});
