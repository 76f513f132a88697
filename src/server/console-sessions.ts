import { randomBytes } from 'node:crypto';
import { safeEqual } from '../crypto/index.js';

/** A one-line message shown once on the next page (after a redirect). */
export interface Flash {
  readonly kind: 'ok' | 'error';
  readonly text: string;
}

/** A signed-in person in the approvals console. The key itself is never kept. */
export interface ConsoleSession {
  readonly id: string;
  /** The person's key id; the record is read again on every request. */
  readonly personId: string;
  readonly expiresAt: number;
  /** Sent back by every form, so a request that did not come from our page is refused. */
  readonly csrf: string;
  flash?: Flash;
}

export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
export const MAX_SESSIONS = 1000;

/** A fresh random token: 32 bytes, base64url. */
function token(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Console sessions, in memory: they end after 8 hours, on logout, or when the process restarts.
 * The map is bounded; when full, expired sessions go first, then the oldest.
 */
export class ConsoleSessions {
  private readonly sessions = new Map<string, ConsoleSession>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly ttlMs = SESSION_TTL_MS,
    private readonly max = MAX_SESSIONS,
  ) {}

  create(personId: string): ConsoleSession {
    if (this.sessions.size >= this.max) this.sweep();
    while (this.sessions.size >= this.max) {
      const oldest = this.sessions.keys().next();
      if (oldest.done === true) break;
      this.sessions.delete(oldest.value);
    }
    const s: ConsoleSession = {
      id: token(),
      personId,
      expiresAt: this.now() + this.ttlMs,
      csrf: token(),
    };
    this.sessions.set(s.id, s);
    return s;
  }

  /** The live session for a cookie value, if any; an expired one is dropped. */
  get(id: string | undefined): ConsoleSession | undefined {
    if (id === undefined || id.length === 0 || id.length > 64) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (s.expiresAt <= this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return s;
  }

  /** Whether a form's token belongs to the session (constant time). */
  checkCsrf(s: ConsoleSession, presented: string): boolean {
    return safeEqual(s.csrf, presented);
  }

  end(id: string): void {
    this.sessions.delete(id);
  }

  /** Takes the session's pending message (shown once). */
  takeFlash(s: ConsoleSession): Flash | undefined {
    const f = s.flash;
    s.flash = undefined;
    return f;
  }

  get size(): number {
    return this.sessions.size;
  }

  private sweep(): void {
    const t = this.now();
    for (const [id, s] of this.sessions) if (s.expiresAt <= t) this.sessions.delete(id);
  }
}
