import type { Runtime } from './runtime.js';

/**
 * Host header values that reach this listener legitimately (DNS-rebinding protection).
 * @example allowedHosts(rt, 4100).has('localhost:4100'); // true
 */
export function allowedHosts(rt: Runtime, port: number): Set<string> {
  const { host, allowed_hosts } = rt.config.listen;
  const names = new Set([host, 'localhost', '127.0.0.1', '[::1]', ...allowed_hosts]);
  const out = new Set<string>();
  for (const n of names) {
    out.add(n);
    out.add(`${n}:${port}`);
  }
  return out;
}

/**
 * Why a request must be refused for its Host or Origin header, or undefined when it may pass. The
 * one check of every route, MCP and control plane alike: a page on another site, or a name that
 * resolves to us by DNS rebinding, must not drive the gateway (THREATS A6).
 * @example hostRefusal(new Set(['localhost']), 'evil.example', undefined); // 'Forbidden: unexpected Host header'
 */
export function hostRefusal(
  allowed: ReadonlySet<string>,
  host: string | undefined,
  origin: string | undefined,
): string | undefined {
  if (host === undefined || !allowed.has(host)) return 'Forbidden: unexpected Host header';
  // Browsers send Origin; only a page served from one of our own names may call us.
  if (origin === undefined) return undefined;
  let originHost = '';
  try {
    originHost = new URL(origin).host;
  } catch {
    // An unparsable Origin is refused below.
  }
  return allowed.has(originHost) ? undefined : 'Forbidden: cross-origin request';
}
