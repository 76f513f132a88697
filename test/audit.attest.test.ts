/**
 * Entry attestations: the DSSE PAE known answer, a round trip over a real tree, interop with a
 * plain Ed25519 verifier, and every kind of tampering caught under its own code.
 *
 * DSSE test vector: protocol.md, "Test Vectors", of https://github.com/secure-systems-lab/dsse
 * (https://github.com/secure-systems-lab/dsse/blob/master/protocol.md, Apache-2.0): payload
 * type `http://example.com/HelloWorld`, body `hello world`, its PAE and a P-256 signature over it.
 * RFC 8032 §7.1 TEST 1 gives the fixed log key seed
 * (https://www.rfc-editor.org/rfc/rfc8032#section-7.1).
 */
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  ATTESTATION_PAYLOAD_TYPE,
  AUDIT_ENTRY_PREDICATE_TYPE,
  STATEMENT_TYPE,
  attestEntry,
  attestationSubject,
  pae,
  verifyAttestation,
  type DsseEnvelope,
} from '../src/audit/index.js';
import { formatCheckpoint } from '../src/audit/checkpoint.js';
import { inclusionProof, leafHash, rootOf } from '../src/audit/merkle.js';
import {
  noteSigner,
  noteVerifier,
  signNote,
  verifierKey,
  type NoteSigner,
} from '../src/audit/note.js';
import { canonicalJson, signMessage, verifySignature } from '../src/crypto/index.js';
import { ed25519PrivateKeyFromSeed } from '../src/crypto/note-keys.js';

const ORIGIN = 'gatehouse.local/audit';
// RFC 8032 §7.1 TEST 1 secret key; the other key is any other fixed seed.
const SEED = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
const logKey = ed25519PrivateKeyFromSeed(SEED);
const signer = noteSigner(ORIGIN, logKey);
const verifier = noteVerifier(ORIGIN, logKey);
const otherKey = ed25519PrivateKeyFromSeed(Buffer.alloc(32, 0x42));
const otherSigner = noteSigner(ORIGIN, otherKey);

type Entry = Record<string, unknown>;

/** `n` audit-like entries; `salt` makes a different log of the same size. */
function makeEntries(n: number, salt = ''): Entry[] {
  return Array.from({ length: n }, (_, i) => ({
    v: 1,
    index: i,
    prev:
      i === 0
        ? null
        : `sha256:${String(i - 1)
            .repeat(64)
            .slice(0, 64)}`,
    time: `2026-01-0${(i % 9) + 1}T12:00:00.000Z`,
    type: 'decision',
    tool: `fs__read${salt}`,
    outcome: i % 3 === 0 ? 'deny' : 'allow',
    args: { path: `/srv/${i}`, note: 'café ☕' },
  }));
}

interface Tree {
  entries: Entry[];
  leaves: Uint8Array[];
  hashes: Uint8Array[];
  checkpoint: string;
}

/** A log of `n` entries with a checkpoint of all of it signed by `by` for `origin`. */
function makeTree(n: number, salt = '', by: NoteSigner = signer, origin = ORIGIN): Tree {
  const entries = makeEntries(n, salt);
  const leaves = entries.map((e) => new Uint8Array(Buffer.from(canonicalJson(e), 'utf8')));
  const hashes = leaves.map(leafHash);
  const checkpoint = signNote(formatCheckpoint({ origin, size: n, rootHash: rootOf(hashes) }), by);
  return { entries, leaves, hashes, checkpoint };
}

function attest(tree: Tree, index: number, by: NoteSigner = signer): DsseEnvelope {
  const leaf = tree.leaves[index];
  assert.ok(leaf);
  const treeSize = tree.leaves.length;
  const proof = inclusionProof(tree.hashes, index, treeSize);
  return attestEntry({ leaf, index, treeSize, proof, checkpoint: tree.checkpoint }, by);
}

/** The statement of an envelope, as a mutable JSON value. */
function statementOf(env: DsseEnvelope): Record<string, unknown> {
  return JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as Record<string, unknown>;
}

/** The predicate of a statement, as a mutable JSON value. */
function predicateOf(statement: Record<string, unknown>): Record<string, unknown> {
  return statement.predicate as Record<string, unknown>;
}

/** Re-signs an edited statement with a key: the signature holds, so only the claims can fail. */
function resign(
  env: DsseEnvelope,
  edit: (statement: Record<string, unknown>) => void,
  by: NoteSigner = signer,
): DsseEnvelope {
  const statement = statementOf(env);
  edit(statement);
  const payload = Buffer.from(canonicalJson(statement), 'utf8');
  const sig = signMessage('Ed25519', by.privateKey, pae(ATTESTATION_PAYLOAD_TYPE, payload));
  return {
    ...env,
    payload: payload.toString('base64'),
    signatures: [
      { keyid: env.signatures[0]?.keyid ?? '', sig: Buffer.from(sig).toString('base64') },
    ],
  };
}

/** A copy of `bytes` with bit `mask` of byte `at` flipped. */
function flip(bytes: Buffer, at: number, mask: number): Buffer {
  const copy = Buffer.from(bytes);
  copy.writeUInt8(copy.readUInt8(at) ^ mask, at);
  return copy;
}

function code(envelope: unknown): string {
  const r = verifyAttestation(envelope, verifier);
  return r.ok ? 'ok' : r.code;
}

const tree = makeTree(7);
const env = attest(tree, 3);

describe('DSSE pre-authentication encoding', () => {
  it('gives the DSSE protocol.md test vector', () => {
    const out = pae('http://example.com/HelloWorld', Buffer.from('hello world'));
    assert.ok(out instanceof Uint8Array);
    assert.equal(
      Buffer.from(out).toString('latin1'),
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
  });

  it('matches the reference implementation: its P-256 signature verifies over our PAE', () => {
    // protocol.md key (decimal X, Y) and the `sig` of its JSON envelope result.
    const x = BigInt(
      '46950820868899156662930047687818585632848591499744589407958293238635476079160',
    );
    const y = BigInt(
      '5640078356564379163099075877009565129882514886557779369047442380624545832820',
    );
    const coord = (n: bigint) => Buffer.from(n.toString(16).padStart(64, '0'), 'hex');
    const point = Buffer.concat([Buffer.from([0x04]), coord(x), coord(y)]);
    const sig = Buffer.from(
      'A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA==',
      'base64',
    );
    const body = Buffer.from('aGVsbG8gd29ybGQ=', 'base64');
    const message = pae('http://example.com/HelloWorld', body);
    assert.equal(verifySignature('ES256', point, message, sig), true);
    assert.equal(
      verifySignature('ES256', point, pae('http://example.com/Hello', body), sig),
      false,
    );
  });

  it('counts bytes, not characters, and handles empty fields', () => {
    assert.equal(Buffer.from(pae('', new Uint8Array())).toString('latin1'), 'DSSEv1 0  0 ');
    const out = pae('é', Uint8Array.of(0xff, 0x00));
    assert.deepEqual(
      Buffer.from(out),
      Buffer.concat([Buffer.from('DSSEv1 2 \u00c3\u00a9 2 ', 'latin1'), Buffer.from([0xff, 0])]),
    );
  });
});

describe('attestEntry and verifyAttestation', () => {
  it('attests entry 3 of 7 and verifies it with the log key', () => {
    const r = verifyAttestation(env, verifier);
    assert.ok(r.ok, r.ok ? '' : `${r.code}: ${r.message}`);
    assert.equal(r.index, 3);
    assert.equal(r.treeSize, 7);
    assert.deepEqual(r.entry, tree.entries[3]);
    assert.equal(r.statement._type, STATEMENT_TYPE);
    assert.equal(r.statement.predicateType, AUDIT_ENTRY_PREDICATE_TYPE);
    assert.equal(r.statement.predicate.checkpoint, tree.checkpoint);
  });

  it('writes an in-toto Statement v1 in a DSSE envelope, keyed like the verifier key', () => {
    assert.deepEqual(Object.keys(env).sort(), ['payload', 'payloadType', 'signatures']);
    assert.equal(env.payloadType, 'application/vnd.in-toto+json');
    const [vkeyName, vkeyId] = verifierKey(ORIGIN, logKey).split('+');
    assert.deepEqual(
      env.signatures.map((s) => s.keyid),
      [`${vkeyName}+${vkeyId}`],
    );
    const leaf = tree.leaves[3];
    assert.ok(leaf);
    const statement = statementOf(env);
    assert.deepEqual(statement, {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [
        {
          name: 'gatehouse-audit/gatehouse.local/audit/3',
          digest: { sha256: createHash('sha256').update(leaf).digest('hex') },
        },
      ],
      predicateType: 'https://gatehouse.dev/audit-entry/v1',
      predicate: {
        entry: tree.entries[3],
        index: 3,
        leafHash: Buffer.from(leafHash(leaf)).toString('hex'),
        treeSize: 7,
        inclusionProof: inclusionProof(tree.hashes, 3, 7).map((h) =>
          Buffer.from(h).toString('hex'),
        ),
        checkpoint: tree.checkpoint,
      },
    });
    assert.equal(attestationSubject(ORIGIN, 3), 'gatehouse-audit/gatehouse.local/audit/3');
  });

  it('is deterministic: canonical JSON payload, same envelope for the same input', () => {
    const payload = Buffer.from(env.payload, 'base64').toString('utf8');
    assert.equal(payload, canonicalJson(JSON.parse(payload)));
    assert.equal(Buffer.from(payload, 'utf8').toString('base64'), env.payload);
    assert.deepEqual(attest(tree, 3), env);
  });

  it('interoperates: a plain node:crypto Ed25519 verify accepts the DSSE signature', () => {
    const sig = env.signatures[0]?.sig;
    assert.ok(sig);
    const message = pae(env.payloadType, Buffer.from(env.payload, 'base64'));
    const publicKey = createPublicKey(logKey);
    assert.equal(verify(null, message, publicKey, Buffer.from(sig, 'base64')), true);
    assert.equal(
      verify(null, message, createPublicKey(otherKey), Buffer.from(sig, 'base64')),
      false,
    );
  });

  it('verifies every entry of the tree, and the single entry of a one-entry log', () => {
    for (let i = 0; i < 7; i++) {
      const r = verifyAttestation(attest(tree, i), verifier);
      assert.ok(r.ok && r.index === i, `entry ${i}`);
    }
    const one = makeTree(1);
    const r = verifyAttestation(attest(one, 0), verifier);
    assert.ok(r.ok);
    assert.deepEqual(r.statement.predicate.inclusionProof, []);
  });

  it('accepts the envelope as JSON text or bytes, and URL-safe or unpadded base64 (DSSE)', () => {
    const text = JSON.stringify(env);
    assert.equal(code(text), 'ok');
    assert.equal(code(Buffer.from(text)), 'ok');
    const urlSafe = Buffer.from(env.payload, 'base64').toString('base64url');
    const sig = Buffer.from(env.signatures[0]?.sig ?? '', 'base64').toString('base64url');
    assert.equal(code({ ...env, payload: urlSafe }), 'ok');
    assert.equal(code({ ...env, signatures: [{ keyid: env.signatures[0]?.keyid, sig }] }), 'ok');
    assert.equal(code({ ...env, payload: env.payload.replace(/=+$/, '') }), 'ok');
  });

  it('refuses to attest what would not verify', () => {
    const leaf = tree.leaves[3];
    assert.ok(leaf);
    const proof = inclusionProof(tree.hashes, 3, 7);
    const input = { leaf, index: 3, treeSize: 7, proof, checkpoint: tree.checkpoint };
    const spaced = Buffer.from(JSON.stringify(tree.entries[3], null, 1));
    const cases: [string, Parameters<typeof attestEntry>[0], NoteSigner][] = [
      ['non-canonical leaf', { ...input, leaf: spaced }, signer],
      ['not JSON', { ...input, leaf: Buffer.from('nope') }, signer],
      ['wrong index', { ...input, index: 4, proof: inclusionProof(tree.hashes, 4, 7) }, signer],
      [
        'wrong tree size',
        { ...input, treeSize: 6, proof: inclusionProof(tree.hashes, 3, 6) },
        signer,
      ],
      ['wrong proof', { ...input, proof: inclusionProof(tree.hashes, 2, 7) }, signer],
      ['checkpoint by another key', input, otherSigner],
      ['bad key ID', input, { ...signer, keyId: signer.keyId ^ 1 }],
    ];
    for (const [what, bad, by] of cases) {
      assert.throws(() => attestEntry(bad, by), TypeError, what);
    }
  });
});

describe('tampering', () => {
  const first = env.signatures[0];
  assert.ok(first);

  it('a changed payload fails the signature', () => {
    const original = Buffer.from(env.payload, 'base64');
    const payload = flip(original, original.length - 2, 0x01);
    assert.equal(code({ ...env, payload: payload.toString('base64') }), 'bad_signature');
    // A whole different statement, honestly built, but not signed by the log key.
    assert.equal(code({ ...env, payload: attest(tree, 4).payload }), 'bad_signature');
  });

  it('a changed signature fails', () => {
    const sig = flip(Buffer.from(first.sig, 'base64'), 10, 0x80);
    assert.equal(
      code({ ...env, signatures: [{ ...first, sig: sig.toString('base64') }] }),
      'bad_signature',
    );
    const short = sig.subarray(0, 63).toString('base64');
    assert.equal(code({ ...env, signatures: [{ ...first, sig: short }] }), 'bad_signature');
  });

  it('a changed payload type is refused (and would break the signature: PAE binds it)', () => {
    assert.equal(code({ ...env, payloadType: 'application/json' }), 'wrong_payload_type');
  });

  it('another key: no signature by it, and a forged keyid does not help', () => {
    const other = noteVerifier(ORIGIN, otherKey);
    const r = verifyAttestation(env, other);
    assert.equal(r.ok ? 'ok' : r.code, 'no_signature');
    const renamed = noteVerifier('gatehouse.local/other', logKey);
    const r2 = verifyAttestation(env, renamed);
    assert.equal(r2.ok ? 'ok' : r2.code, 'no_signature');
    // Signed by the other key but claiming the log key's keyid.
    const forged = resign(env, () => {}, otherSigner);
    assert.equal(forged.signatures[0]?.keyid, first.keyid);
    assert.equal(code(forged), 'bad_signature');
    // Every signature claiming the log key must verify, even beside a good one.
    const junk = Buffer.alloc(64, 7).toString('base64');
    assert.equal(
      code({ ...env, signatures: [first, { keyid: first.keyid, sig: junk }] }),
      'bad_signature',
    );
    // Signatures by unknown keys are set aside.
    assert.equal(code({ ...env, signatures: [{ keyid: 'x+00000000', sig: junk }, first] }), 'ok');
  });

  it('the re-signing helper keeps an unedited statement valid', () => {
    assert.equal(code(resign(env, () => {})), 'ok');
  });

  it('an entry edited inside the predicate no longer matches the subject digest', () => {
    const edited = resign(env, (s) => {
      (predicateOf(s).entry as Entry).outcome = 'allow-everything';
    });
    assert.equal(code(edited), 'digest_mismatch');
    // Even with the subject digest updated, the leaf hash no longer leads anywhere.
    const both = resign(env, (s) => {
      const entry = predicateOf(s).entry as Entry;
      entry.outcome = 'allow-everything';
      const subject = (s.subject as { digest: { sha256: string } }[])[0];
      assert.ok(subject);
      subject.digest.sha256 = createHash('sha256').update(canonicalJson(entry)).digest('hex');
    });
    assert.equal(code(both), 'digest_mismatch');
    const digestOnly = resign(env, (s) => {
      const subject = (s.subject as { digest: { sha256: string } }[])[0];
      assert.ok(subject);
      subject.digest.sha256 = 'ab'.repeat(32);
    });
    assert.equal(code(digestOnly), 'digest_mismatch');
    const leafOnly = resign(env, (s) => {
      predicateOf(s).leafHash = '00'.repeat(32);
    });
    assert.equal(code(leafOnly), 'digest_mismatch');
  });

  it('an edited inclusion proof does not reach the checkpoint root', () => {
    const flipped = resign(env, (s) => {
      const proof = predicateOf(s).inclusionProof as string[];
      proof[1] = `${proof[1]?.slice(0, -1)}${proof[1]?.endsWith('0') ? '1' : '0'}`;
    });
    assert.equal(code(flipped), 'bad_inclusion_proof');
    const shortened = resign(env, (s) => {
      (predicateOf(s).inclusionProof as string[]).pop();
    });
    assert.equal(code(shortened), 'bad_inclusion_proof');
    const swapped = resign(env, (s) => {
      (predicateOf(s).inclusionProof as string[]).reverse();
    });
    assert.equal(code(swapped), 'bad_inclusion_proof');
  });

  it('a checkpoint of another tree, size or log is caught', () => {
    const withCheckpoint = (checkpoint: string, treeSize?: number) =>
      resign(env, (s) => {
        predicateOf(s).checkpoint = checkpoint;
        if (treeSize !== undefined) predicateOf(s).treeSize = treeSize;
      });
    // Same size, other entries: the proof leads elsewhere.
    assert.equal(code(withCheckpoint(makeTree(7, '-other').checkpoint)), 'bad_inclusion_proof');
    // A real, smaller checkpoint of the same log: the sizes disagree.
    const six = makeTree(7);
    const prefix = signNote(
      formatCheckpoint({ origin: ORIGIN, size: 6, rootHash: rootOf(six.hashes.slice(0, 6)) }),
      signer,
    );
    assert.equal(code(withCheckpoint(prefix)), 'tree_size_mismatch');
    // Claiming size 6 with the size-7 proof: the sizes agree, the proof does not.
    assert.equal(code(withCheckpoint(prefix, 6)), 'bad_inclusion_proof');
    // Another log's checkpoint, signed by its own key or by ours under its name.
    assert.equal(code(withCheckpoint(makeTree(7, '', otherSigner).checkpoint)), 'bad_checkpoint');
    const elsewhere = makeTree(
      7,
      '',
      noteSigner('elsewhere.example/log', logKey),
      'elsewhere.example/log',
    );
    assert.equal(code(withCheckpoint(elsewhere.checkpoint)), 'bad_checkpoint');
    const wrongOrigin = makeTree(7, '', signer, 'elsewhere.example/log');
    const r = verifyAttestation(withCheckpoint(wrongOrigin.checkpoint), verifier);
    assert.ok(!r.ok && r.code === 'bad_checkpoint' && r.message.includes('wrong_origin'));
    // A tampered checkpoint.
    assert.equal(code(withCheckpoint(tree.checkpoint.replace('\n7\n', '\n8\n'))), 'bad_checkpoint');
  });

  it('an index that is not the entry index is caught', () => {
    const moved = resign(env, (s) => {
      predicateOf(s).index = 4;
    });
    assert.equal(code(moved), 'index_mismatch');
    const entryMoved = resign(env, (s) => {
      (predicateOf(s).entry as Entry).index = 4;
    });
    assert.equal(code(entryMoved), 'index_mismatch');
  });

  it('a subject other than this log entry is caught', () => {
    const renamed = resign(env, (s) => {
      (s.subject as { name: string }[])[0]!.name = 'gatehouse-audit/elsewhere.example/log/3';
    });
    assert.equal(code(renamed), 'subject_mismatch');
    const two = resign(env, (s) => {
      const subjects = s.subject as unknown[];
      subjects.push(subjects[0]);
    });
    assert.equal(code(two), 'subject_mismatch');
    const none = resign(env, (s) => {
      s.subject = [];
    });
    assert.equal(code(none), 'subject_mismatch');
  });

  it('another statement or predicate type is refused', () => {
    const v01 = resign(env, (s) => {
      s._type = 'https://in-toto.io/Statement/v0.1';
    });
    assert.equal(code(v01), 'wrong_statement_type');
    const slsa = resign(env, (s) => {
      s.predicateType = 'https://slsa.dev/provenance/v1';
    });
    assert.equal(code(slsa), 'wrong_predicate_type');
  });
});
