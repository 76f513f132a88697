import type { FileKeyStore, KeyInfo } from '../crypto/index.js';
import type { Revocation, Store } from '../store/index.js';
import {
  exchangeToken,
  mintAgentToken,
  type ExchangeRequest,
  type ExchangeResult,
  type MintRequest,
} from './issue.js';
import { RevocationSet } from './revocation.js';
import {
  createVerifier,
  type IdentityDeps,
  type IdentitySettings,
  type VerifyResult,
} from './verify.js';

/**
 * Gatehouse as issuer and verifier of agent identity: minting, delegation, verification with
 * revocation, and key rotation. Revocations and key changes made by another process (the CLI on
 * the same host) are picked up on the next call through the store's change marker.
 */
export class Authority {
  readonly deps: IdentityDeps;
  private readonly revocations = new RevocationSet();
  private readonly verifier: (token: string) => Promise<VerifyResult>;
  private lastSeq = 0;
  private marker = Number.NaN;

  private constructor(
    private readonly store: Store,
    private readonly keys: FileKeyStore,
    settings: IdentitySettings,
    now: () => number,
  ) {
    this.deps = { keys, settings, now };
    this.verifier = createVerifier(this.deps, (identity) => this.revocations.match(identity));
  }

  /** @example const authority = await Authority.open(store, keys, settings, Date.now); */
  static async open(
    store: Store,
    keys: FileKeyStore,
    settings: IdentitySettings,
    now: () => number,
  ): Promise<Authority> {
    const a = new Authority(store, keys, settings, now);
    await a.sync();
    return a;
  }

  /** Verifies a credential, including revocation; cheap for a token seen before. */
  async verify(token: string): Promise<VerifyResult> {
    await this.sync();
    return this.verifier(token);
  }

  mint(req: MintRequest) {
    return mintAgentToken(this.deps, req);
  }

  exchange(req: ExchangeRequest): Promise<ExchangeResult> {
    return exchangeToken(this.deps, (t) => this.verify(t), req);
  }

  /** Revokes, effective on the next call; false when the same revocation already existed. */
  async revoke(r: Omit<Revocation, 'time'>): Promise<boolean> {
    const full = { ...r, time: this.deps.now() };
    const added = await this.store.addRevocation(full);
    this.revocations.add(full);
    return added;
  }

  listKeys(): readonly KeyInfo[] {
    return this.keys.list();
  }

  async rotateKey(actor: string): Promise<KeyInfo> {
    const k = await this.keys.rotate();
    await this.store.recordEvent({
      time: this.deps.now(),
      kind: 'key.rotate',
      actor,
      detail: { kid: k.kid, alg: k.alg },
    });
    return k;
  }

  async retireKey(kid: string, actor: string): Promise<KeyInfo> {
    const k = await this.keys.retire(kid);
    await this.store.recordEvent({
      time: this.deps.now(),
      kind: 'key.retire',
      actor,
      detail: { kid },
    });
    return k;
  }

  /** Public keys that verify, as a JWKS document. */
  jwks(): { keys: object[] } {
    return { keys: this.keys.active().map((k) => k.publicJwk) };
  }

  /** Loads what other processes changed since the last look. */
  async sync(): Promise<void> {
    const marker = await this.store.changeMarker();
    if (marker === this.marker) return;
    for (const { seq, revocation } of await this.store.listRevocations(this.lastSeq)) {
      this.revocations.add(revocation);
      this.lastSeq = seq;
    }
    await this.keys.reload();
    // Only once everything is read: a failed read must be retried on the next call.
    this.marker = marker;
  }
}
