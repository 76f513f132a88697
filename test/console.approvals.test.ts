import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { createAdminKey } from '../src/identity/index.js';
import { revealInvisible } from '../src/server/console-html.js';
import { ConsoleSessions, escapeHtml } from '../src/server/console.js';
import { firstText, startGatehouse, type Running } from './helpers/gatehouse.js';
import { quickstartCopy } from './helpers/policy-setup.js';
import { parkRefund } from './helpers/approvals.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HOSTILE = '<img src=x onerror=alert(1)>';
/** Only finance may approve refunds over 5,000 (the quickstart asks any approver above 500). */
const FINANCE = `@id("very-big-refunds") @approval @approvers("finance")
@reason("refunds over 5000 need finance")
forbid (principal, action == Action::"payments__refund", resource) when { context.args.amount > 5000 };`;

describe('console escaping and sessions', () => {
  it('escapes every HTML-special character', () => {
    assert.equal(escapeHtml(HOSTILE), '&lt;img src=x onerror=alert(1)&gt;');
    assert.equal(escapeHtml(`"'&<>`), '&quot;&#39;&amp;&lt;&gt;');
    assert.equal(escapeHtml('plain text'), 'plain text');
  });

  it('shows characters that hide or reorder text as escapes', () => {
    assert.equal(revealInvisible('pay\u202eevil\u200b'), 'pay\\u202eevil\\u200b');
    assert.equal(revealInvisible('tag \u{e0041}'), 'tag \\udb40\\udc41');
    assert.equal(revealInvisible('{\n\t"a": 1\n}'), '{\n\t"a": 1\n}', 'layout stays');
  });

  it('expires sessions and keeps the map bounded', () => {
    let t = 0;
    const sessions = new ConsoleSessions(() => t, 1000, 3);
    const first = sessions.create('a');
    assert.match(first.id, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
    for (const p of ['b', 'c', 'd']) sessions.create(p);
    assert.equal(sessions.size, 3);
    assert.equal(sessions.get(first.id), undefined, 'the oldest made room');
    const live = sessions.create('e');
    t = 1000;
    assert.equal(sessions.get(live.id), undefined, 'expired');
  });
});

/** The approvals inbox, driven in headless Chromium against a real Gatehouse. */
describe('approvals console in Chromium', () => {
  let browser: Browser;
  let gh: Running;
  let client: Client;
  let fay: string;
  let oscar: string;
  let inbox: string;

  before(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(
        `Chromium is required for the console tests and was not found at ${CHROMIUM}: ` +
          'install Debian\'s "chromium" package or set CHROMIUM_PATH',
      );
    const setup = quickstartCopy([], ['approvals: { wait: 20s }']);
    setup.write('finance.cedar', FINANCE);
    gh = await startGatehouse(setup.config());
    client = await gh.client(await gh.mint());
    fay = (await createAdminKey(gh.rt.store, 'fay', 'approver', Date.now(), ['finance'])).key;
    oscar = (await createAdminKey(gh.rt.store, 'oscar', 'approver', Date.now(), ['ops'])).key;
    inbox = new URL('/console/approvals', gh.url).href;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox'],
    });
  });

  after(async () => {
    await browser?.close();
    await gh?.close();
  });

  const park = (customer: string, amount: number) =>
    parkRefund(client, gh.rt.store, customer, amount);

  /** Clicks a submit button and waits for the page it leads to; returns the POST's status. */
  async function submit(page: Page, button: Locator): Promise<number> {
    const posted = page.waitForResponse((r) => r.request().method() === 'POST');
    const loaded = page.waitForEvent('load');
    await button.click();
    const status = (await posted).status();
    await loaded;
    return status;
  }

  async function signIn(key: string): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(inbox);
    await page.locator('input[type=password][name=key]').fill(key);
    assert.equal(await submit(page, page.getByRole('button', { name: 'Sign in' })), 303);
    assert.match(await page.locator('header').innerText(), /Signed in as/);
    return page;
  }

  const card = (page: Page, id: string) => page.locator(`article[id="${id}"]`);

  it('shows a sign-in form and refuses a wrong key or an agent credential', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const first = await page.goto(inbox);
    assert.equal(first?.status(), 200);
    const h = first?.headers() ?? {};
    assert.match(h['content-security-policy'] ?? '', /default-src 'none'/);
    assert.match(h['content-security-policy'] ?? '', /frame-ancestors 'none'/);
    assert.equal(h['x-content-type-options'], 'nosniff');
    assert.equal(h['cache-control'], 'no-store');
    assert.ok(h['referrer-policy'], 'a referrer policy is set');
    const wrongKey = `ghk_AAAAAAAAAAAA_${'x'.repeat(43)}`;
    for (const bad of [wrongKey, await gh.mint()]) {
      await page.locator('input[type=password][name=key]').fill(bad);
      assert.equal(await submit(page, page.getByRole('button', { name: 'Sign in' })), 401);
      assert.equal(await page.getByRole('alert').innerText(), 'That key was not accepted.');
      assert.equal(await page.locator('article.request').count(), 0, 'no list without a session');
      assert.ok(!(await page.content()).includes(bad), 'the key is not echoed');
    }
    assert.deepEqual(await context.cookies(), []);
    await context.close();
  });

  it('approves a parked refund of 900 from the page; the call gets the upstream result', async () => {
    const { call, id } = await park('c-900', 900);
    const page = await signIn(fay);
    const [cookie, ...others] = await page.context().cookies();
    assert.equal(others.length, 0);
    assert.equal(cookie?.name, 'gatehouse_console');
    assert.equal(cookie?.httpOnly, true);
    assert.equal(cookie?.sameSite, 'Strict');
    assert.equal(cookie?.path, '/console');
    assert.ok(!fay.includes(cookie?.value ?? '-') && !(await page.content()).includes(fay));
    assert.match(await page.locator('header').innerText(), /fay \(approver; groups: finance\)/);

    const request = card(page, id);
    const text = await request.innerText();
    for (const expected of [
      'support-bot@1.4.0',
      'payments__refund',
      'refunds over 500 need a human approver',
      'refunds-over-500-need-approval',
      'user:alice',
      'any approver',
      'depth 0',
    ])
      assert.ok(text.includes(expected), `the request shows ${expected}:\n${text}`);
    assert.match(await request.locator('pre.args').innerText(), /"amount": 900/);
    await request.getByLabel('Reason (optional)').fill('customer verified');
    assert.equal(await submit(page, request.getByRole('button', { name: 'Approve' })), 303);
    assert.match(await page.getByRole('status').innerText(), new RegExp(`Approved ${id}`));
    assert.equal(await card(page, id).count(), 0, 'no longer pending');

    const res = await call;
    assert.notEqual(res.isError, true, firstText(res));
    assert.match(firstText(res), /Refunded 900/i);
    const done = await gh.rt.store.getApproval(id);
    assert.equal(done?.decidedBy, 'fay');
    assert.equal(done?.decisionReason, 'customer verified');
  });

  it('shows a hostile argument as text, and a denial from the page reaches the agent', async () => {
    const { call, id } = await park(HOSTILE, 901);
    const page = await signIn(fay);
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const request = card(page, id);
    assert.ok((await request.locator('pre.args').innerText()).includes(`"customer": "${HOSTILE}"`));
    assert.equal(await page.locator('img').count(), 0, 'no element was injected');
    assert.ok((await page.content()).includes(escapeHtml(HOSTILE)));

    await request.getByLabel(/Reason \(required/).fill('looks like an injection attempt');
    assert.equal(await submit(page, request.getByRole('button', { name: 'Deny' })), 303);
    assert.match(await page.getByRole('status').innerText(), new RegExp(`Denied ${id}`));
    const res = await call;
    assert.equal(res.isError, true);
    assert.match(
      firstText(res),
      new RegExp(`Approval ${id} was denied by fay: looks like an injection attempt`),
    );
    assert.deepEqual(dialogs, []);
  });

  it('shows who may answer, and the refusal when a request is no longer pending', async () => {
    const { call, id } = await park('c-6000', 6000);
    const ops = await signIn(oscar);
    const seen = card(ops, id);
    assert.match(await seen.innerText(), /Only an approver from finance can answer this request/);
    assert.equal(
      await seen.locator('form').count(),
      0,
      'no buttons for a person who may not answer',
    );

    const stale = await signIn(fay);
    const fresh = await stale.context().newPage();
    await fresh.goto(inbox);
    await submit(fresh, card(fresh, id).getByRole('button', { name: 'Approve' }));
    assert.equal(
      await submit(stale, card(stale, id).getByRole('button', { name: 'Approve' })),
      303,
    );
    assert.match(
      await stale.getByRole('alert').innerText(),
      new RegExp(`Could not approve ${id}: approval ${id} is approved, not pending`),
    );
    assert.notEqual((await call).isError, true);
  });

  it('ends the session on logout', async () => {
    const page = await signIn(fay);
    const [cookie] = await page.context().cookies();
    assert.ok(cookie);
    await submit(page, page.getByRole('button', { name: 'Log out' }));
    assert.equal(await page.locator('input[type=password][name=key]').count(), 1);
    assert.deepEqual(await page.context().cookies(), []);
    const replay = await fetch(inbox, { headers: { cookie: `${cookie.name}=${cookie.value}` } });
    const body = await replay.text();
    assert.ok(body.includes('name="key"') && !body.includes('Signed in as'), 'the old id is dead');
  });

  it('refuses a sign-in posted from another origin', async () => {
    const res = await fetch(new URL('/console/login', gh.url), {
      method: 'POST',
      headers: {
        origin: 'http://evil.example',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ key: fay }).toString(),
    });
    assert.equal(res.status, 403);
  });
});
