import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { createAdminKey } from '../src/identity/index.js';
import { CONSOLE_COOKIE } from '../src/server/console.js';
import { firstText, startGatehouse, type Running } from './helpers/gatehouse.js';
import { quickstartCopy } from './helpers/policy-setup.js';
import { parkRefund } from './helpers/approvals.js';

const INBOX = '/console/approvals';
const FORM = 'application/x-www-form-urlencoded';
const OUT_OF_DATE = 'That form was out of date; reload the page.';

interface Page {
  readonly status: number;
  readonly location: string | null;
  readonly setCookies: string[];
  readonly body: string;
}

/** Whether a page is the inbox of a signed-in person (not the sign-in form). */
function isInbox(body: string): boolean {
  return body.includes('Signed in as') && !body.includes('name="key"');
}

/** Whether a page is the sign-in form (and shows nothing of the inbox). */
function isLogin(body: string): boolean {
  return body.includes('name="key"') && !body.includes('Signed in as') && !body.includes('apr_');
}

/** The CSRF token the inbox puts in its forms (the same in every form of one page). */
function csrfOf(body: string): string {
  const tokens = new Set([...body.matchAll(/name="csrf" value="([^"]*)"/g)].map((m) => m[1]));
  assert.equal(tokens.size, 1, `one CSRF token on the page:\n${body}`);
  const [t] = tokens;
  assert.ok(t);
  return t;
}

/** The console, over plain HTTP: the CSRF token, the session cookie and the Origin check. */
describe('approvals console security (plain HTTP)', () => {
  let gh: Running;
  let client: Client;
  let fay: string;

  before(async () => {
    gh = await startGatehouse(quickstartCopy([], ['approvals: { wait: 20s }']).config());
    client = await gh.client(await gh.mint());
    fay = (await createAdminKey(gh.rt.store, 'fay', 'approver', Date.now(), ['finance'])).key;
  });
  after(async () => gh?.close());

  /** One request to the console, same-origin, redirects not followed. */
  async function send(
    method: 'GET' | 'POST',
    path: string,
    opts: { cookie?: string; form?: Record<string, string> } = {},
  ): Promise<Page> {
    const headers: Record<string, string> = { origin: gh.url.origin };
    if (opts.cookie !== undefined) headers.cookie = `${CONSOLE_COOKIE}=${opts.cookie}`;
    if (opts.form !== undefined) headers['content-type'] = FORM;
    const res = await fetch(new URL(path, gh.url), {
      method,
      headers,
      redirect: 'manual',
      ...(opts.form === undefined ? {} : { body: new URLSearchParams(opts.form).toString() }),
    });
    return {
      status: res.status,
      location: res.headers.get('location'),
      setCookies: res.headers.getSetCookie(),
      body: await res.text(),
    };
  }

  const inbox = (cookie?: string) => send('GET', INBOX, cookie === undefined ? {} : { cookie });

  /** Signs in with `key` (sending `cookie` along, as a browser would); returns the new cookie. */
  async function signIn(key: string, cookie?: string): Promise<string> {
    const res = await send('POST', '/console/login', {
      form: { key },
      ...(cookie === undefined ? {} : { cookie }),
    });
    assert.equal(res.status, 303, res.body);
    assert.equal(res.location, INBOX);
    const set = res.setCookies.find((c) => c.startsWith(`${CONSOLE_COOKIE}=`));
    assert.ok(set, `a session cookie is set: ${res.setCookies.join(' | ')}`);
    assert.match(set, /;\s*HttpOnly/i);
    assert.match(set, /;\s*SameSite=Strict/i);
    const value = /^[^=]+=([^;]*)/.exec(set)?.[1];
    assert.ok(value);
    return value;
  }

  /** The session's CSRF token, read from its inbox (which must be shown). */
  async function csrfFor(cookie: string): Promise<string> {
    const page = await inbox(cookie);
    assert.equal(page.status, 200);
    assert.ok(isInbox(page.body), 'the session shows the inbox');
    return csrfOf(page.body);
  }

  /** Answers an approval from the console; returns the response. */
  function approve(id: string, cookie: string | undefined, form: Record<string, string>) {
    return send('POST', `${INBOX}/${id}/approve`, {
      form,
      ...(cookie === undefined ? {} : { cookie }),
    });
  }

  /** The message shown once on the session's next page. */
  async function flashOf(cookie: string): Promise<string> {
    const page = await inbox(cookie);
    assert.ok(isInbox(page.body));
    return /<p class="flash [a-z]+"[^>]*>\s*([^<]*?)\s*<\/p>/.exec(page.body)?.[1] ?? '';
  }

  async function status(id: string): Promise<string | undefined> {
    return (await gh.rt.store.getApproval(id))?.status;
  }

  const park = (customer: string, amount: number) =>
    parkRefund(client, gh.rt.store, customer, amount);

  /** Approves from a fresh, valid session and checks the parked call goes through. */
  async function approveProperly(id: string, call: Promise<unknown>, amount: number) {
    const cookie = await signIn(fay);
    const res = await approve(id, cookie, { csrf: await csrfFor(cookie) });
    assert.equal(res.status, 303);
    assert.match(await flashOf(cookie), new RegExp(`^Approved ${id} `));
    assert.equal(await status(id), 'approved');
    const result = await call;
    assert.match(firstText(result), new RegExp(`Refunded ${String(amount)}`, 'i'));
  }

  it('refuses an answer without the session’s own CSRF token; with it the call goes ahead', async () => {
    const { call, id } = await park('c-csrf', 900);
    const mine = await signIn(fay);
    const other = await signIn(fay); // a second, independent session (another browser)
    const token = await csrfFor(mine);
    const otherToken = await csrfFor(other);
    assert.notEqual(token, otherToken, 'each session has its own token');
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.ok((await inbox(mine)).body.includes(`${INBOX}/${id}/approve`), 'the request is listed');

    // The same length as the real token, one character changed: not a length check only.
    const wrong = (token[0] === 'A' ? 'B' : 'A') + token.slice(1);
    const refusals: [string, Record<string, string>, RegExp][] = [
      ['no csrf field', { reason: 'ok' }, /^Nothing was done: .*csrf/],
      ['an empty csrf field', { csrf: '', reason: 'ok' }, /^Nothing was done: .*csrf/],
      ['a wrong csrf value', { csrf: wrong, reason: 'ok' }, new RegExp(`^${OUT_OF_DATE}$`)],
      ['another session’s token', { csrf: otherToken }, new RegExp(`^${OUT_OF_DATE}$`)],
    ];
    for (const [what, form, message] of refusals) {
      const res = await approve(id, mine, form);
      assert.equal(res.status, 303, what);
      assert.equal(res.location, INBOX, what);
      assert.match(await flashOf(mine), message, what);
      assert.equal(await status(id), 'pending', `${what}: the request is still pending`);
    }
    // The right token, sent not as a form (e.g. JSON by a script), is refused too.
    const json = await fetch(new URL(`${INBOX}/${id}/approve`, gh.url), {
      method: 'POST',
      headers: {
        origin: gh.url.origin,
        cookie: `${CONSOLE_COOKIE}=${mine}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ csrf: token }),
      redirect: 'manual',
    });
    assert.equal(json.status, 303);
    assert.match(await flashOf(mine), /^Nothing was done: send the form on this page\.$/);
    assert.equal(await status(id), 'pending', 'a JSON body: still pending');

    const ok = await approve(id, mine, { csrf: token, reason: 'verified' });
    assert.equal(ok.status, 303);
    assert.match(await flashOf(mine), new RegExp(`^Approved ${id} `));
    const done = await gh.rt.store.getApproval(id);
    assert.equal(done?.status, 'approved');
    assert.equal(done?.decidedBy, 'fay');
    assert.equal(done?.decisionReason, 'verified');
    const res = await call;
    assert.notEqual(res.isError, true, firstText(res));
    assert.match(firstText(res), /Refunded 900/i);
  });

  it('starts a new session on every sign-in and ends the one the browser had', async () => {
    const { call, id } = await park('c-relogin', 901);
    const first = await signIn(fay);
    const firstToken = await csrfFor(first);
    const second = await signIn(fay, first); // the browser still sends the first cookie
    assert.notEqual(second, first, 'a new session id');
    const secondToken = await csrfFor(second);
    assert.notEqual(secondToken, firstToken, 'a new CSRF token');

    const stale = await inbox(first);
    assert.equal(stale.status, 200);
    assert.ok(isLogin(stale.body), 'the first cookie gets the sign-in form');
    const refused = await approve(id, first, { csrf: firstToken });
    assert.equal(refused.status, 401);
    assert.ok(isLogin(refused.body));
    assert.match(refused.body, /Your session has ended; sign in again\./);
    assert.equal(await status(id), 'pending');

    assert.ok(isInbox((await inbox(second)).body), 'the second cookie shows the inbox');
    const ok = await approve(id, second, { csrf: secondToken });
    assert.equal(ok.status, 303);
    assert.equal(await status(id), 'approved');
    assert.match(firstText(await call), /Refunded 901/i);
  });

  it('shows the sign-in form to a cookie it never issued, and to no cookie; neither can approve', async () => {
    const { call, id } = await park('c-forged', 902);
    const real = await signIn(fay);
    const token = await csrfFor(real);
    const forged = randomBytes(32).toString('base64url'); // shaped like a real session id
    for (const [what, cookie] of [
      ['a forged cookie', forged],
      ['no cookie', undefined],
      ['an empty cookie', ''],
      ['the CSRF token as the cookie', token],
    ] as const) {
      const page = await inbox(cookie);
      assert.equal(page.status, 200, what);
      assert.ok(isLogin(page.body), `${what}: the sign-in form`);
      const res = await approve(id, cookie, { csrf: token });
      assert.equal(res.status, 401, what);
      assert.ok(isLogin(res.body), what);
      assert.deepEqual(res.setCookies, [], `${what}: no session is handed out`);
      assert.equal(await status(id), 'pending', `${what}: still pending`);
    }

    // A cookie planted before sign-in is not adopted as the session.
    const adopted = await signIn(fay, forged);
    assert.notEqual(adopted, forged);
    assert.ok(isLogin((await inbox(forged)).body), 'the planted value is still worth nothing');
    assert.ok(isInbox((await inbox(adopted)).body));

    await approveProperly(id, call, 902);
  });

  it('ends the session on the server at logout; the old cookie is worth nothing', async () => {
    const { call, id } = await park('c-logout', 903);
    const cookie = await signIn(fay);
    const token = await csrfFor(cookie);

    // A logout without the session's token is refused and the session lives on.
    const forgedLogout = await send('POST', '/console/logout', { cookie, form: { csrf: 'x' } });
    assert.equal(forgedLogout.status, 303);
    assert.equal(await flashOf(cookie), OUT_OF_DATE);

    const out = await send('POST', '/console/logout', { cookie, form: { csrf: token } });
    assert.equal(out.status, 303);
    assert.equal(out.location, INBOX);
    const cleared = out.setCookies.find((c) => c.startsWith(`${CONSOLE_COOKIE}=`));
    assert.ok(cleared, 'the browser is told to drop the cookie');
    assert.match(cleared, /Max-Age=0|Expires=Thu, 01 Jan 1970/i);

    // Replaying the old value (a copy kept elsewhere) after logout.
    const replay = await inbox(cookie);
    assert.equal(replay.status, 200);
    assert.ok(isLogin(replay.body), 'the old cookie gets the sign-in form');
    const res = await approve(id, cookie, { csrf: token });
    assert.equal(res.status, 401);
    assert.ok(isLogin(res.body));
    assert.equal(await status(id), 'pending');

    await approveProperly(id, call, 903);
  });
});
