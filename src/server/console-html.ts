import type { AdminKeyRecord, ApprovalRecord } from '../store/index.js';
import type { Flash } from './console-sessions.js';
import { mayAnswer } from '../approvals/index.js';

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Escapes text for HTML element content and quoted attribute values.
 * @example escapeHtml('<img src=x>') === '&lt;img src=x&gt;'
 */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch] ?? ch);
}

/**
 * Characters that render as nothing or reorder the text around them (controls, bidi overrides,
 * zero-width marks, line separators): an agent could use them to make arguments read differently
 * than they are. Newlines and tabs stay (they lay out the pretty-printed arguments).
 */
const INVISIBLE = /(?![\n\t])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

/** Shows invisible characters as JSON escapes (`\u202e`), so a person reads what the agent sent. */
export function revealInvisible(text: string): string {
  return text.replace(INVISIBLE, (ch) =>
    [...Array(ch.length).keys()]
      .map((i) => `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`)
      .join(''),
  );
}

/** Markup that is already safe: made by `html` (and for the constant stylesheet). */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

function render(v: unknown): string {
  if (v instanceof SafeHtml) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === undefined || v === null || v === false) return '';
  if (typeof v === 'string' || typeof v === 'number') return escapeHtml(revealInvisible(String(v)));
  throw new TypeError(`cannot put a ${typeof v} into HTML`);
}

/** A template whose every interpolated value is escaped (unless it is already SafeHtml). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

const STYLE = `
body{font:15px/1.45 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2430}
header{display:flex;justify-content:space-between;align-items:center;gap:1rem;flex-wrap:wrap;
  padding:.6rem 1.2rem;background:#1d2430;color:#fff}
header h1{font-size:1.1rem;margin:0}header form{display:inline;margin-left:.6rem}
main{max-width:64rem;margin:1rem auto;padding:0 1rem}
.flash{padding:.6rem .8rem;border-radius:4px;font-weight:600}
.flash.ok{background:#e3f5e6;border:1px solid #5aa869}.flash.error{background:#fde8e8;border:1px solid #d05353}
.request{background:#fff;border:1px solid #d6d9de;border-radius:6px;padding:.8rem 1rem;margin:1rem 0}
.request:target{outline:3px solid #3a6fd8}
.request h2{font-size:1.05rem;margin:0 0 .3rem}.reason{margin:.2rem 0 .6rem;font-weight:600}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:.4rem 0}
dt{color:#5a6270}dd{margin:0;overflow-wrap:anywhere}
pre{background:#f0f1f4;padding:.5rem;border-radius:4px;max-height:24rem;overflow:auto;
  white-space:pre-wrap;overflow-wrap:anywhere}
.answers{display:flex;gap:1rem;flex-wrap:wrap}.answers form{flex:1;min-width:16rem}
.answers input[name=reason]{width:100%;box-sizing:border-box;margin:.2rem 0}
button{padding:.3rem .9rem;cursor:pointer}.approve button{background:#2f7d3f;color:#fff;border:0}
.deny button{background:#b23b3b;color:#fff;border:0}.note{color:#8a4b00}
.login{max-width:26rem;margin-top:4rem}.login input{width:100%;box-sizing:border-box;margin:.3rem 0}
.muted{color:#5a6270}`;

function page(title: string, body: SafeHtml): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width,initial-scale=1" />
        <title>${title}</title>
        <style>
          ${new SafeHtml(STYLE)}
        </style>
      </head>
      <body>
        ${body}
      </body>
    </html>`.value;
}

function flashLine(f: Flash | undefined): SafeHtml {
  if (!f) return html``;
  return html`<p class="flash ${f.kind}" role="${f.kind === 'ok' ? 'status' : 'alert'}">
    ${f.text}
  </p>`;
}

/** The sign-in form; `error` is shown above it. */
export function loginPage(error?: string): string {
  return page(
    'Sign in · Gatehouse approvals',
    html`<main class="login">
      <h1>Gatehouse approvals</h1>
      ${flashLine(error === undefined ? undefined : { kind: 'error', text: error })}
      <form method="post" action="/console/login">
        <label for="key">Approver key</label>
        <input
          id="key"
          type="password"
          name="key"
          autocomplete="off"
          required
          maxlength="200"
          autofocus
        />
        <button type="submit">Sign in</button>
      </form>
      <p class="muted">
        Sign in with a person key (<code>ghk_…</code>) whose role is approver or admin. Agent
        credentials are not accepted here.
      </p>
    </main>`,
  );
}

function when(ms: number, now: number): string {
  const iso = new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
  const mins = Math.round((ms - now) / 60_000);
  const rel = mins === 0 ? 'now' : mins > 0 ? `in ${String(mins)} min` : `${String(-mins)} min ago`;
  return `${iso} (${rel})`;
}

function prettyArgs(args: unknown): string {
  // Undefined: the config keeps arguments as a digest only (audit.arguments: digest).
  const text = JSON.stringify(args, null, 2) ?? '(not kept: only their digest is recorded)';
  return text.length > 20_000 ? `${text.slice(0, 20_000)}\n… (truncated)` : text;
}

function lineage(a: ApprovalRecord): SafeHtml {
  const { depth, ancestors } = a.agent;
  if (depth === 0 && ancestors.length === 0) return html`depth 0 (root orchestrator)`;
  return html`depth ${depth}; called by
    ${ancestors.map((x, i) => html`${i > 0 ? ' ← ' : ''}<code>${x}</code>`)}
    <span class="muted">(parent first, root last)</span>`;
}

function requestCard(a: ApprovalRecord, who: AdminKeyRecord, csrf: string, now: number): SafeHtml {
  const path = `/console/approvals/${encodeURIComponent(a.id)}`;
  const answers = mayAnswer(a, who)
    ? html`<div class="answers">
        <form method="post" action="${path}/approve" class="approve">
          <input type="hidden" name="csrf" value="${csrf}" />
          <label>Reason (optional)<input name="reason" maxlength="1000" /></label>
          <button type="submit">Approve</button>
        </form>
        <form method="post" action="${path}/deny" class="deny">
          <input type="hidden" name="csrf" value="${csrf}" />
          <label
            >Reason (required; the agent is told)<input name="reason" maxlength="1000" required
          /></label>
          <button type="submit">Deny</button>
        </form>
      </div>`
    : html`<p class="note">
        Only an approver from ${a.approvers.join(' or ')} can answer this request.
      </p>`;
  return html`<article class="request" id="${a.id}">
    <h2><code>${a.tool}</code> <span class="muted">on ${a.server}</span></h2>
    <p class="reason">${a.reason}</p>
    <dl>
      <dt>Agent</dt>
      <dd><b>${a.agent.name}@${a.agent.version}</b> <code>${a.agent.id}</code></dd>
      <dt>Lineage</dt>
      <dd>${lineage(a)}</dd>
      <dt>Principal</dt>
      <dd><code>${a.agent.principal}</code></dd>
      <dt>Run</dt>
      <dd><code>${a.agent.run}</code></dd>
      <dt>Policies</dt>
      <dd>${a.policies.map((p, i) => html`${i > 0 ? ', ' : ''}<code>${p}</code>`)}</dd>
      <dt>Who may approve</dt>
      <dd>${a.approvers.length > 0 ? a.approvers.join(' or ') : 'any approver'}</dd>
      <dt>Created</dt>
      <dd>${when(a.createdAt, now)}</dd>
      <dt>Expires</dt>
      <dd>${when(a.expiresAt, now)}</dd>
      <dt>Request</dt>
      <dd><code>${a.id}</code></dd>
    </dl>
    <div>Arguments</div>
    <pre class="args">${prettyArgs(a.args)}</pre>
    ${answers}
  </article>`;
}

export interface InboxView {
  readonly who: AdminKeyRecord;
  readonly csrf: string;
  readonly pending: readonly ApprovalRecord[];
  readonly limit: number;
  readonly flash?: Flash;
  readonly now: number;
}

/** The inbox: who is signed in, the one-time message, and every pending request. */
export function inboxPage(v: InboxView): string {
  const { who, pending } = v;
  const count =
    pending.length === 0
      ? 'No pending requests.'
      : `${String(pending.length)} pending request${pending.length === 1 ? '' : 's'}` +
        (pending.length >= v.limit ? ` (the newest ${String(v.limit)} are shown)` : '') +
        ', newest first.';
  return page(
    `Approvals (${String(pending.length)}) · Gatehouse`,
    html`<header>
        <h1>Gatehouse approvals</h1>
        <div class="who">
          Signed in as <b>${who.name}</b> (${who.role}; groups:
          ${who.groups.length > 0 ? who.groups.join(', ') : 'none'})
          <form method="post" action="/console/logout">
            <input type="hidden" name="csrf" value="${v.csrf}" /><button type="submit">
              Log out
            </button>
          </form>
        </div>
      </header>
      <main>
        ${flashLine(v.flash)}
        <p>${count} <a href="/console/approvals">Refresh</a></p>
        ${pending.map((a) => requestCard(a, who, v.csrf, v.now))}
      </main>`,
  );
}
