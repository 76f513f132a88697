import type { Revocation, RevocationKind } from '../store/index.js';
import type { AgentIdentity } from './claims.js';

export type { Revocation, RevocationKind };

/** An in-memory index of revocations, checked on every call (also for cached verifications). */
export class RevocationSet {
  private readonly byKind = new Map<RevocationKind, Map<string, Revocation>>();

  add(r: Revocation): void {
    let m = this.byKind.get(r.kind);
    if (!m) this.byKind.set(r.kind, (m = new Map<string, Revocation>()));
    if (!m.has(r.value)) m.set(r.value, r);
  }

  get size(): number {
    let n = 0;
    for (const m of this.byKind.values()) n += m.size;
    return n;
  }

  /** The revocation that applies to this identity, if any. */
  match(identity: AgentIdentity): Revocation | undefined {
    const get = (kind: RevocationKind, value: string) => this.byKind.get(kind)?.get(value);
    const subtree = this.byKind.get('subtree');
    if (subtree) {
      for (const v of [
        identity.id,
        identity.credential,
        ...identity.ancestors,
        ...identity.ancestorCredentials,
      ]) {
        const r = subtree.get(v);
        if (r) return r;
      }
    }
    return (
      get('jti', identity.credential) ??
      get('agent', `${identity.name}@${identity.version}`) ??
      get('run', identity.run)
    );
  }
}
