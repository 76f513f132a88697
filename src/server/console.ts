import type { Context, Hono, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import { formatIssues } from '../config/index.js';
import { checkAdminKey, looksLikeAdminKey } from '../identity/index.js';
import type { AdminKeyRecord, PersonRole } from '../store/index.js';
import { inboxPage, loginPage } from './console-html.js';
import { ConsoleSessions, type ConsoleSession, type Flash } from './console-sessions.js';
import type { Runtime } from './runtime.js';

export { escapeHtml } from './console-html.js';
export { ConsoleSessions } from './console-sessions.js';

export const CONSOLE_COOKIE = 'gatehouse_console';
const INBOX = '/console/approvals';
const LIST_LIMIT = 200;
const ROLES: readonly PersonRole[] = ['approver', 'admin'];
const APPROVAL_ID = /^apr_[A-Za-z0-9_-]{1,64}$/;
/** The one answer to every failed sign-in: it says nothing about why. */
const NOT_ACCEPTED = 'That key was not accepted.';

/**
 * Sent with every console response. `Referrer-Policy` is `same-origin`, not `no-referrer`: under
 * `no-referrer` browsers send `Origin: null` with form posts, which the listener's cross-origin
 * check refuses; `same-origin` still never lets a URL leave this origin.
 */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

const token = z.string().min(1).max(100);
const loginBody = z.strictObject({ key: z.string().min(1).max(200) });
const answerBody = z.strictObject({ csrf: token, reason: z.string().max(1000).optional() });
const logoutBody = z.strictObject({ csrf: token });

/** A form body as fields; undefined when the body is not form-encoded. */
async function readForm(c: Context): Promise<Record<string, string> | undefined> {
  const type = c.req.header('content-type') ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded')) return undefined;
  return Object.fromEntries(new URLSearchParams(await c.req.text()));
}

/** Whether the browser reached us over HTTPS (directly, or through a TLS-terminating proxy). */
function overHttps(c: Context): boolean {
  if (new URL(c.req.url).protocol === 'https:') return true;
  return c.req.header('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase() === 'https';
}

function cookieOptions(c: Context) {
  return { httpOnly: true, sameSite: 'Strict', path: '/console', secure: overHttps(c) } as const;
}

const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  for (const [name, value] of Object.entries(CONSOLE_HEADERS)) c.res.headers.set(name, value);
};

/**
 * The approvals inbox for people: `/console/approvals`, signed in with an approver's or admin's
 * key. Server-rendered HTML with plain forms, no script; sessions live in memory.
 * @example registerConsoleRoutes(app, rt);
 */
export function registerConsoleRoutes(
  app: Hono,
  rt: Runtime,
  sessions = new ConsoleSessions(),
): void {
  const limit = bodyLimit({
    maxSize: 16 * 1024,
    onError: (c) => c.text('The form is too large.', 413),
  });

  /** The session and the person behind it, read again from the store on every request. */
  async function signedIn(
    c: Context,
  ): Promise<{ s: ConsoleSession; who: AdminKeyRecord } | undefined> {
    const s = sessions.get(getCookie(c, CONSOLE_COOKIE));
    if (!s) return undefined;
    const who = await rt.store.getAdminKey(s.personId);
    if (!who || !ROLES.includes(who.role)) {
      sessions.end(s.id);
      return undefined;
    }
    return { s, who };
  }

  function back(c: Context, s: ConsoleSession, flash: Flash): Response {
    s.flash = flash;
    return c.redirect(INBOX, 303);
  }

  app.use('/console', securityHeaders);
  app.use('/console/*', securityHeaders);
  app.get('/console', (c) => c.redirect(INBOX, 303));
  app.get('/console/login', (c) => c.redirect(INBOX, 303));

  app.get(INBOX, async (c) => {
    const me = await signedIn(c);
    if (!me) return c.html(loginPage());
    await rt.approvals.expireDue();
    const pending = await rt.store.listApprovals({ status: 'pending', limit: LIST_LIMIT });
    return c.html(
      inboxPage({
        who: me.who,
        csrf: me.s.csrf,
        pending,
        limit: LIST_LIMIT,
        flash: sessions.takeFlash(me.s),
        now: Date.now(),
      }),
    );
  });

  app.post('/console/login', limit, async (c) => {
    const form = loginBody.safeParse(await readForm(c));
    const key = form.success ? form.data.key.trim() : '';
    // Agent credentials (anything but a person key) are refused like a wrong key.
    const check = looksLikeAdminKey(key) ? await checkAdminKey(rt.store, key) : undefined;
    if (!check?.ok || !ROLES.includes(check.person.role)) {
      rt.log.warn('console sign-in refused');
      return c.html(loginPage(NOT_ACCEPTED), 401);
    }
    // A new session on every sign-in: a cookie planted before it is worth nothing after.
    const previous = getCookie(c, CONSOLE_COOKIE);
    if (previous !== undefined) sessions.end(previous);
    const s = sessions.create(check.person.id);
    setCookie(c, CONSOLE_COOKIE, s.id, cookieOptions(c));
    rt.log.info({ person: check.person.name }, 'console sign-in');
    return c.redirect(INBOX, 303);
  });

  app.post('/console/logout', limit, async (c) => {
    const s = sessions.get(getCookie(c, CONSOLE_COOKIE));
    if (s) {
      const form = logoutBody.safeParse(await readForm(c));
      if (!form.success || !sessions.checkCsrf(s, form.data.csrf))
        return back(c, s, { kind: 'error', text: 'That form was out of date; reload the page.' });
      sessions.end(s.id);
    }
    deleteCookie(c, CONSOLE_COOKIE, cookieOptions(c));
    return c.redirect(INBOX, 303);
  });

  for (const verdict of ['approve', 'deny'] as const) {
    app.post(`${INBOX}/:id/${verdict}`, limit, async (c) => {
      const me = await signedIn(c);
      if (!me) return c.html(loginPage('Your session has ended; sign in again.'), 401);
      const raw = await readForm(c);
      if (raw === undefined)
        return back(c, me.s, {
          kind: 'error',
          text: 'Nothing was done: send the form on this page.',
        });
      const form = answerBody.safeParse(raw);
      if (!form.success) {
        const why = formatIssues(form.error.issues).replace(/\n/g, '; ');
        return back(c, me.s, { kind: 'error', text: `Nothing was done: ${why}` });
      }
      if (!sessions.checkCsrf(me.s, form.data.csrf))
        return back(c, me.s, {
          kind: 'error',
          text: 'That form was out of date; reload the page.',
        });
      const id = c.req.param('id');
      if (!APPROVAL_ID.test(id))
        return back(c, me.s, { kind: 'error', text: 'There is no such approval request.' });
      const res = await rt.approvals.answer(id, me.who, verdict, form.data.reason);
      if (!res.ok)
        return back(c, me.s, { kind: 'error', text: `Could not ${verdict} ${id}: ${res.message}` });
      const a = res.approval;
      const what = `${a.tool} for ${a.agent.name}@${a.agent.version}`;
      return back(c, me.s, {
        kind: 'ok',
        text:
          verdict === 'approve'
            ? `Approved ${a.id} (${what}); the call goes ahead.`
            : `Denied ${a.id} (${what}); the agent is told: ${a.decisionReason ?? ''}`,
      });
    });
  }
}
