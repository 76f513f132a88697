/**
 * Verifying an audit entry attestation (see ./attest.ts for the format): the DSSE signature with
 * the log key first, then the statement, the entry's digest, the checkpoint and the inclusion proof.
 */
import { z } from 'zod';
import { canonicalJson, sha256Hex, toHex, verifySignature } from '../crypto/index.js';
import { openCheckpoint } from './checkpoint.js';
import { leafHash, verifyInclusion } from './merkle.js';
import { MAX_NOTE_BYTES, type NoteVerifier } from './note.js';
import {
  ATTESTATION_PAYLOAD_TYPE,
  AUDIT_ENTRY_PREDICATE_TYPE,
  MAX_ENVELOPE_BYTES,
  MAX_ENVELOPE_SIGNATURES,
  MAX_PROOF_HASHES,
  STATEMENT_TYPE,
  attestationSubject,
  decodeDsseBase64,
  isJsonObject,
  keyIdOf,
  pae,
  parseJson,
  utf8,
  utf8Decode,
  type AttestationProblem,
  type AuditEntryStatement,
  type VerifiedAttestation,
} from './attest.js';

// Every field below is attacker-controlled: whoever hands us an envelope chose all of it. The
// schemas bound sizes and shapes only; nothing they accept is trusted before the signature checks.
// Unknown fields are ignored, as DSSE (envelope.md, "Parsing rules") and in-toto require.
const envelopeSchema = z.object({
  payloadType: z.string().max(1024),
  payload: z.string().max(MAX_ENVELOPE_BYTES),
  signatures: z
    .array(
      z.object({
        // DSSE makes keyid optional; without one a signature is not attributed to our key.
        keyid: z.string().max(1024).optional(),
        sig: z.string().max(1024),
      }),
    )
    .min(1)
    .max(MAX_ENVELOPE_SIGNATURES),
});

const hash = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits');

const statementHeader = z.object({ _type: z.string(), predicateType: z.string() });

const statementSchema = z.object({
  _type: z.literal(STATEMENT_TYPE),
  subject: z.array(z.object({ name: z.string(), digest: z.object({ sha256: hash }) })),
  predicateType: z.literal(AUDIT_ENTRY_PREDICATE_TYPE),
  predicate: z.object({
    // z.custom hands the parsed object through untouched (a copy could lose a "__proto__" key).
    entry: z.custom<Record<string, unknown>>(isJsonObject, 'the entry must be a JSON object'),
    index: z.int().min(0),
    leafHash: hash,
    treeSize: z.int().min(1),
    inclusionProof: z.array(hash).max(MAX_PROOF_HASHES),
    checkpoint: z.string().max(MAX_NOTE_BYTES),
  }),
});

function fail(code: AttestationProblem, message: string): VerifiedAttestation {
  return { ok: false, code, message };
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
  return `${path}: ${issue.message}`;
}

/** The envelope as a JS value: JSON text and bytes are size-checked before they are parsed. */
function envelopeValue(envelope: unknown): { value: unknown } | VerifiedAttestation {
  const tooLarge = fail('too_large', `the envelope is over ${MAX_ENVELOPE_BYTES} bytes`);
  let text: string | undefined;
  if (envelope instanceof Uint8Array) {
    if (envelope.length > MAX_ENVELOPE_BYTES) return tooLarge;
    text = utf8Decode(envelope);
    if (text === undefined) return fail('malformed_envelope', 'the envelope is not UTF-8');
  } else if (typeof envelope === 'string') {
    // UTF-16 length never exceeds UTF-8 length, so the cheap test goes first.
    if (envelope.length > MAX_ENVELOPE_BYTES) return tooLarge;
    if (Buffer.byteLength(envelope, 'utf8') > MAX_ENVELOPE_BYTES) return tooLarge;
    text = envelope;
  } else {
    // An object is already parsed; its payload (nearly all of its size) is capped before decoding.
    if (isJsonObject(envelope)) {
      const payload = envelope.payload;
      if (typeof payload === 'string' && payload.length > MAX_ENVELOPE_BYTES) return tooLarge;
    }
    return { value: envelope };
  }
  const parsed = parseJson(text);
  return parsed ?? fail('malformed_envelope', 'the envelope is not JSON');
}

/** Checks the DSSE signature(s) of `verifier`'s key over the payload; undefined when they hold. */
function checkSignatures(
  signatures: readonly { keyid?: string | undefined; sig: string }[],
  message: Uint8Array,
  verifier: NoteVerifier,
): VerifiedAttestation | undefined {
  const keyid = keyIdOf(verifier);
  // The keyid only picks the key to try (DSSE: it MUST NOT be used for security decisions).
  const ours = signatures.filter((s) => keyid !== undefined && s.keyid === keyid);
  if (ours.length === 0) return fail('no_signature', `no signature by ${keyid ?? 'this key'}`);
  // As for signed notes: every signature claiming our key must verify, not just one of them.
  for (const s of ours) {
    const sig = decodeDsseBase64(s.sig);
    if (!sig || !verifySignature('Ed25519', verifier.publicKey, message, sig)) {
      return fail('bad_signature', `the signature by ${keyid} does not verify`);
    }
  }
  return undefined;
}

/** Checks the signed claims against each other and the checkpoint; undefined when they hold. */
function checkClaims(
  statement: AuditEntryStatement,
  verifier: NoteVerifier,
): VerifiedAttestation | undefined {
  const { subject, predicate } = statement;
  const { entry, index, treeSize } = predicate;
  if (entry.index !== index) {
    return fail('index_mismatch', `the entry's index is not the attested index ${index}`);
  }
  const [only, ...more] = subject;
  const name = attestationSubject(verifier.name, index);
  if (!only || more.length > 0 || only.name !== name) {
    return fail('subject_mismatch', `the subject is not exactly ${JSON.stringify(name)}`);
  }
  // The leaf is rebuilt from the entry itself, so the digests cannot vouch for other bytes.
  const leaf = utf8.encode(canonicalJson(entry));
  if (sha256Hex(leaf) !== only.digest.sha256) {
    return fail('digest_mismatch', 'the subject digest is not the SHA-256 of the entry');
  }
  const leafDigest = leafHash(leaf);
  if (toHex(leafDigest) !== predicate.leafHash) {
    return fail('digest_mismatch', 'the leaf hash is not the RFC 6962 hash of the entry');
  }
  const opened = openCheckpoint(predicate.checkpoint, [verifier], verifier.name);
  if (!opened.ok) {
    return fail(
      'bad_checkpoint',
      `the checkpoint does not open (${opened.code}): ${opened.message}`,
    );
  }
  const { checkpoint } = opened;
  if (checkpoint.size !== treeSize) {
    const message = `the checkpoint is of size ${checkpoint.size}, the proof of size ${treeSize}`;
    return fail('tree_size_mismatch', message);
  }
  const proof = predicate.inclusionProof.map((h) => new Uint8Array(Buffer.from(h, 'hex')));
  if (!verifyInclusion(leafDigest, index, treeSize, proof, checkpoint.rootHash)) {
    return fail('bad_inclusion_proof', 'the inclusion proof does not lead to the checkpoint root');
  }
  return undefined;
}

/**
 * Verifies an entry attestation (object, JSON text or bytes) against the log key: the DSSE
 * signature first, then the statement, entry digests, checkpoint and inclusion proof. Never throws.
 * @example const r = verifyAttestation(JSON.parse(text), logVerifier); if (r.ok) show(r.entry);
 */
export function verifyAttestation(envelope: unknown, verifier: NoteVerifier): VerifiedAttestation {
  try {
    const raw = envelopeValue(envelope);
    if (!('value' in raw)) return raw;
    const env = envelopeSchema.safeParse(raw.value);
    if (!env.success) return fail('malformed_envelope', firstIssue(env.error));
    const { payloadType, signatures } = env.data;
    if (payloadType !== ATTESTATION_PAYLOAD_TYPE) {
      return fail('wrong_payload_type', `the payload type is not ${ATTESTATION_PAYLOAD_TYPE}`);
    }
    const payload = decodeDsseBase64(env.data.payload);
    if (!payload) return fail('malformed_envelope', 'payload: not base64');
    const bad = checkSignatures(signatures, pae(payloadType, payload), verifier);
    if (bad) return bad;

    // Signed by the log key from here on; still parsed strictly, as a bug could have signed junk.
    const text = utf8Decode(payload);
    const json = text === undefined ? undefined : parseJson(text);
    if (!json) return fail('malformed_statement', 'the payload is not UTF-8 JSON');
    const header = statementHeader.safeParse(json.value);
    if (!header.success) return fail('malformed_statement', firstIssue(header.error));
    if (header.data._type !== STATEMENT_TYPE) {
      return fail('wrong_statement_type', `the statement type is not ${STATEMENT_TYPE}`);
    }
    if (header.data.predicateType !== AUDIT_ENTRY_PREDICATE_TYPE) {
      return fail(
        'wrong_predicate_type',
        `the predicate type is not ${AUDIT_ENTRY_PREDICATE_TYPE}`,
      );
    }
    const parsed = statementSchema.safeParse(json.value);
    if (!parsed.success) return fail('malformed_statement', firstIssue(parsed.error));
    const statement: AuditEntryStatement = parsed.data;
    const wrong = checkClaims(statement, verifier);
    if (wrong) return wrong;
    const { entry, index, treeSize } = statement.predicate;
    return { ok: true, index, entry, treeSize, statement };
  } catch {
    // Only exotic inputs (proxies, throwing getters) reach here: a verifier answers, never throws.
    return fail('malformed_envelope', 'the envelope could not be read');
  }
}
