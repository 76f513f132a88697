/**
 * Attestations of single audit log entries: a DSSE envelope
 * (https://github.com/secure-systems-lab/dsse) holding an in-toto Statement v1
 * (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md) whose predicate
 * carries the entry, its RFC 6962 inclusion proof and the signed checkpoint the proof leads to.
 * The envelope is signed with the log key, so one verifier key (`verifierKey` of note.ts) checks
 * the envelope, the checkpoint and, through the proof, the entry: an auditor needs nothing else.
 *
 * Subject name: `gatehouse-audit/<origin>/<index>`, e.g. `gatehouse-audit/gatehouse.local/audit/3`
 * (the index is what follows the last `/`; the origin is the log key's name, as in checkpoints).
 * Subject digest: SHA-256 of the entry's exact bytes. DSSE keyid: the note key identity
 * `<name>+<8 hex key ID>`, the first two fields of its verifier key.
 */
import { canonicalJson, sha256Hex, signMessage, toHex } from '../crypto/index.js';
import { openCheckpoint } from './checkpoint.js';
import { leafHash, verifyInclusion } from './merkle.js';
import { isValidKeyName, noteVerifier, type NoteSigner } from './note.js';

/** The DSSE payload type of in-toto statements (in-toto spec v1, envelope.md). */
export const ATTESTATION_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** The in-toto Statement v1 `_type`. */
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
/** The predicate type of an audit entry attestation; a new schema gets a new version. */
export const AUDIT_ENTRY_PREDICATE_TYPE = 'https://gatehouse.dev/audit-entry/v1';
/** Envelope ceiling, checked before any parsing: an entry plus a note (≤ 1 MiB) fits with room. */
export const MAX_ENVELOPE_BYTES = 4 * 1024 * 1024;
/** Signatures looked at per envelope, so a hostile one cannot make us verify forever. */
export const MAX_ENVELOPE_SIGNATURES = 16;
/** A tree of < 2^53 leaves has proofs of at most 53 hashes (merkle.ts refuses more than 64). */
export const MAX_PROOF_HASHES = 64;
const SUBJECT_PREFIX = 'gatehouse-audit/';

/** One DSSE signature: the unauthenticated key hint and the base64 signature over `pae(…)`. */
export interface DsseSignature {
  readonly keyid: string;
  readonly sig: string;
}

/** A DSSE JSON envelope (envelope.md) as `attestEntry` writes it. */
export interface DsseEnvelope {
  readonly payloadType: string;
  /** Standard padded base64 of the statement's RFC 8785 canonical JSON. */
  readonly payload: string;
  readonly signatures: readonly DsseSignature[];
}

/** The predicate of `AUDIT_ENTRY_PREDICATE_TYPE`; hashes are lowercase hex. */
export interface AuditEntryPredicate {
  /** The entry as parsed JSON: its canonical JSON (RFC 8785) is the leaf's exact bytes. */
  readonly entry: Readonly<Record<string, unknown>>;
  readonly index: number;
  /** RFC 6962 leaf hash of the entry bytes. */
  readonly leafHash: string;
  readonly treeSize: number;
  /** Audit path from the leaf to the root of the tree of `treeSize` leaves (RFC 9162 §2.1.3.1). */
  readonly inclusionProof: readonly string[];
  /** The signed note text of a checkpoint of the tree of `treeSize` leaves. */
  readonly checkpoint: string;
}

/** The in-toto Statement v1 of one audit entry. */
export interface AuditEntryStatement {
  readonly _type: string;
  readonly subject: readonly {
    readonly name: string;
    readonly digest: { readonly sha256: string };
  }[];
  readonly predicateType: string;
  readonly predicate: AuditEntryPredicate;
}

/** What `attestEntry` needs: the entry bytes, where they sit, and the checkpoint they lead to. */
export interface AttestInput {
  /** The entry's exact bytes (its leaf data): canonical JSON of an object with this `index`. */
  readonly leaf: Uint8Array;
  readonly index: number;
  readonly treeSize: number;
  /** The inclusion proof of the leaf in the tree of `treeSize` leaves, leaf to root. */
  readonly proof: readonly Uint8Array[];
  /** The signed note text of a checkpoint of size `treeSize`, signed by the same log key. */
  readonly checkpoint: string;
}

export type AttestationProblem =
  | 'too_large'
  | 'malformed_envelope'
  | 'wrong_payload_type'
  | 'no_signature'
  | 'bad_signature'
  | 'malformed_statement'
  | 'wrong_statement_type'
  | 'wrong_predicate_type'
  | 'index_mismatch'
  | 'subject_mismatch'
  | 'digest_mismatch'
  | 'bad_checkpoint'
  | 'tree_size_mismatch'
  | 'bad_inclusion_proof';

export type VerifiedAttestation =
  | {
      readonly ok: true;
      readonly index: number;
      readonly entry: Readonly<Record<string, unknown>>;
      readonly treeSize: number;
      readonly statement: AuditEntryStatement;
    }
  | { readonly ok: false; readonly code: AttestationProblem; readonly message: string };

export const utf8 = new TextEncoder();

export function utf8Decode(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

export function parseJson(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

const hex8 = (keyId: number): string => keyId.toString(16).padStart(8, '0');

/** Plain JSON object (not an array, not null): what an entry and a statement must be. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The DSSE keyid of a log key: `<name>+<8 hex key ID>`; undefined for a malformed key. */
export function keyIdOf(key: {
  readonly name: string;
  readonly keyId: number;
}): string | undefined {
  if (!isValidKeyName(key.name)) return undefined;
  if (!Number.isInteger(key.keyId) || key.keyId < 0 || key.keyId > 0xffffffff) return undefined;
  return `${key.name}+${hex8(key.keyId)}`;
}

/**
 * The statement subject name of entry `index` of the log `origin`.
 * @example attestationSubject('gatehouse.local/audit', 3) // 'gatehouse-audit/…/audit/3'
 */
export function attestationSubject(origin: string, index: number): string {
  return `${SUBJECT_PREFIX}${origin}/${index}`;
}

/**
 * DSSE v1 Pre-Authentication Encoding: `DSSEv1 SP LEN(type) SP type SP LEN(body) SP body`.
 * @example pae('http://example.com/HelloWorld', bytes('hello world')) // 'DSSEv1 29 http://…'
 */
export function pae(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = utf8.encode(payloadType);
  const head = utf8.encode(`DSSEv1 ${type.length} `);
  const mid = utf8.encode(` ${payload.length} `);
  const out = new Uint8Array(head.length + type.length + mid.length + payload.length);
  out.set(head, 0);
  out.set(type, head.length);
  out.set(mid, head.length + type.length);
  out.set(payload, head.length + type.length + mid.length);
  return out;
}

/**
 * Base64 as DSSE allows it (protocol.md: verifiers MUST accept standard and URL-safe), padded or
 * not, but one alphabet and canonical trailing bits: a string decodes to bytes in one way only.
 */
export function decodeDsseBase64(s: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(s)) return undefined;
  if (/[+/]/.test(s) && /[-_]/.test(s)) return undefined;
  const body = s.replace(/=+$/, '');
  if (body.length % 4 === 1) return undefined;
  if (body.length !== s.length && s.length % 4 !== 0) return undefined;
  // Node's base64 decoder reads both alphabets; re-encoding proves no bit was silently dropped.
  const bytes = Buffer.from(body, 'base64');
  const standard = body.replace(/-/g, '+').replace(/_/g, '/');
  if (bytes.toString('base64').replace(/=+$/, '') !== standard) return undefined;
  return new Uint8Array(bytes);
}

/**
 * Signs a DSSE envelope over an in-toto statement for one audit entry with the log key; checks its
 * input first (canonical entry, index, checkpoint by this key, proof to its root) and throws
 * TypeError on misuse, so an attestation that would not verify is never issued.
 * @example const env = attestEntry({ leaf, index: 3, treeSize: 7, proof, checkpoint }, logSigner);
 */
export function attestEntry(input: AttestInput, signer: NoteSigner): DsseEnvelope {
  const { leaf, index, treeSize, proof, checkpoint } = input;
  if (!(leaf instanceof Uint8Array)) throw new TypeError('the leaf must be bytes');
  const text = utf8Decode(leaf);
  const parsed = text === undefined ? undefined : parseJson(text);
  if (!parsed || !isJsonObject(parsed.value)) throw new TypeError('the leaf is not a JSON object');
  const entry = parsed.value;
  // The verifier rebuilds the leaf from the parsed entry, which only works for canonical bytes.
  if (canonicalJson(entry) !== text) throw new TypeError('the leaf is not canonical JSON');
  if (entry.index !== index) throw new TypeError(`the entry's index is not ${index}`);
  const keyid = keyIdOf(signer);
  if (keyid === undefined) throw new TypeError('not a note signer');
  const verifier = noteVerifier(signer.name, signer.privateKey);
  if (verifier.keyId !== signer.keyId) throw new TypeError('the key ID is not that of this key');
  const opened = openCheckpoint(checkpoint, [verifier], signer.name);
  if (!opened.ok) throw new TypeError(`the checkpoint does not open: ${opened.message}`);
  if (opened.checkpoint.size !== treeSize) {
    throw new TypeError(`the checkpoint is of size ${opened.checkpoint.size}, not ${treeSize}`);
  }
  const leafDigest = leafHash(leaf);
  if (!verifyInclusion(leafDigest, index, treeSize, proof, opened.checkpoint.rootHash)) {
    throw new TypeError('the inclusion proof does not lead to the checkpoint root');
  }
  const statement: AuditEntryStatement = {
    _type: STATEMENT_TYPE,
    subject: [
      { name: attestationSubject(signer.name, index), digest: { sha256: sha256Hex(leaf) } },
    ],
    predicateType: AUDIT_ENTRY_PREDICATE_TYPE,
    predicate: {
      entry,
      index,
      leafHash: toHex(leafDigest),
      treeSize,
      inclusionProof: proof.map(toHex),
      checkpoint,
    },
  };
  // Canonical JSON makes the envelope a function of its input: the same entry, same bytes.
  const payload = utf8.encode(canonicalJson(statement));
  const sig = signMessage('Ed25519', signer.privateKey, pae(ATTESTATION_PAYLOAD_TYPE, payload));
  return {
    payloadType: ATTESTATION_PAYLOAD_TYPE,
    payload: Buffer.from(payload).toString('base64'),
    signatures: [{ keyid, sig: Buffer.from(sig).toString('base64') }],
  };
}
