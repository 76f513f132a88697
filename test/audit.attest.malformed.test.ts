/**
 * Malformed entry attestations: every shape of bad envelope or statement gets a tagged result with
 * its code, and nothing throws. Every field of an envelope is attacker-controlled.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ATTESTATION_PAYLOAD_TYPE,
  MAX_ENVELOPE_BYTES,
  attestEntry,
  pae,
  verifyAttestation,
  type DsseEnvelope,
} from '../src/audit/index.js';
import { formatCheckpoint } from '../src/audit/checkpoint.js';
import { inclusionProof, leafHash, rootOf } from '../src/audit/merkle.js';
import { noteSigner, noteVerifier, signNote } from '../src/audit/note.js';
import { canonicalJson, signMessage } from '../src/crypto/index.js';
import { ed25519PrivateKeyFromSeed } from '../src/crypto/note-keys.js';

const ORIGIN = 'gatehouse.local/audit';
const logKey = ed25519PrivateKeyFromSeed(Buffer.alloc(32, 0x11));
const signer = noteSigner(ORIGIN, logKey);
const verifier = noteVerifier(ORIGIN, logKey);

const entries = Array.from({ length: 5 }, (_, i) => ({ v: 1, index: i, type: 'decision' }));
const leaves = entries.map((e) => new Uint8Array(Buffer.from(canonicalJson(e), 'utf8')));
const hashes = leaves.map(leafHash);
const checkpoint = signNote(
  formatCheckpoint({ origin: ORIGIN, size: 5, rootHash: rootOf(hashes) }),
  signer,
);
const env: DsseEnvelope = attestEntry(
  { leaf: leaves[2]!, index: 2, treeSize: 5, proof: inclusionProof(hashes, 2, 5), checkpoint },
  signer,
);
const keyid = env.signatures[0]!.keyid;
const goodSig = env.signatures[0]!;

/** An envelope over arbitrary payload bytes, correctly signed by the log key. */
function signed(payload: Uint8Array | string): DsseEnvelope {
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
  const sig = signMessage('Ed25519', logKey, pae(ATTESTATION_PAYLOAD_TYPE, bytes));
  return {
    payloadType: ATTESTATION_PAYLOAD_TYPE,
    payload: bytes.toString('base64'),
    signatures: [{ keyid, sig: Buffer.from(sig).toString('base64') }],
  };
}

/** An envelope over the real statement after `edit`, correctly signed by the log key. */
function signedStatement(edit: (s: Record<string, unknown>) => void): DsseEnvelope {
  const s = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as Record<
    string,
    unknown
  >;
  edit(s);
  return signed(JSON.stringify(s));
}

function predicate(s: Record<string, unknown>): Record<string, unknown> {
  return s.predicate as Record<string, unknown>;
}

/** The code of verifying `envelope`, asserting that verification does not throw. */
function code(envelope: unknown): string {
  let r: ReturnType<typeof verifyAttestation> | undefined;
  assert.doesNotThrow(() => {
    r = verifyAttestation(envelope, verifier);
  });
  assert.ok(r);
  if (!r.ok) {
    assert.equal(typeof r.message, 'string');
    assert.ok(r.message.length > 0);
  }
  return r.ok ? 'ok' : r.code;
}

describe('malformed envelopes', () => {
  it('the fixture verifies', () => {
    assert.equal(code(env), 'ok');
  });

  it('refuses values that are not an envelope object', () => {
    const cases: unknown[] = [
      undefined,
      null,
      42,
      true,
      [],
      [env],
      'not json',
      '',
      '[]',
      'null',
      new Uint8Array([0xff, 0xfe]),
      new Uint8Array(0),
      () => env,
      Symbol('env'),
      new Date(0),
    ];
    for (const c of cases) assert.equal(code(c), 'malformed_envelope', String(typeof c));
  });

  it('refuses an envelope missing a field, or with a field of the wrong type', () => {
    for (const field of ['payloadType', 'payload', 'signatures'] as const) {
      const { [field]: _dropped, ...rest } = env;
      assert.equal(code(rest), 'malformed_envelope', `without ${field}`);
      for (const bad of [null, 1, {}, true]) {
        assert.equal(
          code({ ...env, [field]: bad }),
          'malformed_envelope',
          `${field}: ${JSON.stringify(bad)}`,
        );
      }
    }
    assert.equal(code({ ...env, signatures: [{ keyid }] }), 'malformed_envelope');
    assert.equal(code({ ...env, signatures: [{ keyid, sig: 5 }] }), 'malformed_envelope');
    assert.equal(
      code({ ...env, signatures: [{ keyid: 7, sig: goodSig.sig }] }),
      'malformed_envelope',
    );
    assert.equal(code({ ...env, signatures: [null] }), 'malformed_envelope');
    assert.equal(code({ ...env, signatures: ['sig'] }), 'malformed_envelope');
  });

  it('refuses signatures that are not an array, or none at all, or too many', () => {
    assert.equal(code({ ...env, signatures: goodSig }), 'malformed_envelope');
    assert.equal(code({ ...env, signatures: 'x' }), 'malformed_envelope');
    assert.equal(code({ ...env, signatures: [] }), 'malformed_envelope');
    const many = Array.from({ length: 17 }, () => goodSig);
    assert.equal(code({ ...env, signatures: many }), 'malformed_envelope');
    assert.equal(code({ ...env, signatures: many.slice(1) }), 'ok');
  });

  it('refuses a payload that is not base64, in any way', () => {
    const cases = [
      '!!!!',
      'aGVsb', // 5 characters: no whole byte count
      'aGVs bG8=',
      'aGVsbG8\nd29ybGQ=',
      'aGVsbG8gd29ybGQ==', // too much padding
      'aGVsbG8gd29ybGR=', // non-zero trailing bits
      'ab+_',
      'aGVsbG8gd29ybGQ=\u0000',
      '=',
    ];
    for (const payload of cases) {
      assert.equal(code({ ...env, payload }), 'malformed_envelope', JSON.stringify(payload));
    }
  });

  it('checks the signature before reading the payload: unsigned junk is a bad signature', () => {
    const junk = Buffer.from('not json at all').toString('base64');
    assert.equal(code({ ...env, payload: junk }), 'bad_signature');
    assert.equal(code({ ...env, payload: '' }), 'bad_signature');
  });

  it('refuses signatures that are not base64 or not for this key', () => {
    assert.equal(code({ ...env, signatures: [{ keyid, sig: '%%%%' }] }), 'bad_signature');
    assert.equal(code({ ...env, signatures: [{ keyid, sig: '' }] }), 'bad_signature');
    assert.equal(code({ ...env, signatures: [{ sig: goodSig.sig }] }), 'no_signature');
    assert.equal(code({ ...env, signatures: [{ keyid: '', sig: goodSig.sig }] }), 'no_signature');
    const upper = keyid.toUpperCase();
    assert.equal(
      code({ ...env, signatures: [{ keyid: upper, sig: goodSig.sig }] }),
      'no_signature',
    );
  });

  it('refuses a huge envelope before parsing it', () => {
    const big = `{"payload":"${'A'.repeat(MAX_ENVELOPE_BYTES)}"}`;
    assert.equal(code(big), 'too_large');
    assert.equal(code(Buffer.from(big)), 'too_large');
    assert.equal(code({ ...env, payload: 'A'.repeat(MAX_ENVELOPE_BYTES + 4) }), 'too_large');
    // Few UTF-16 units, many UTF-8 bytes.
    const wide = '€'.repeat(Math.floor(MAX_ENVELOPE_BYTES / 2));
    assert.ok(wide.length <= MAX_ENVELOPE_BYTES);
    assert.equal(code(wide), 'too_large');
    assert.equal(code({ ...env, payloadType: 'x'.repeat(5000) }), 'malformed_envelope');
    const longSig = { keyid, sig: 'A'.repeat(4096) };
    assert.equal(code({ ...env, signatures: [longSig] }), 'malformed_envelope');
  });

  it('refuses extra junk around the JSON text', () => {
    const text = JSON.stringify(env);
    for (const junk of [`${text}x`, `${text}{}`, `x${text}`, `${text},${text}`, `[${text}]`]) {
      assert.equal(code(junk), 'malformed_envelope', junk.slice(0, 20));
    }
    assert.equal(code(`\n ${text}\n`), 'ok');
  });

  it('ignores unknown fields, as DSSE requires, without trusting them', () => {
    // envelope.md, "Parsing rules": "Consumers MUST ignore unrecognized fields."
    const extra = { ...env, payloadUtf8: 'forged', junk: [1, 2, 3], __proto__: { payload: 'x' } };
    assert.equal(code(extra), 'ok');
    const r = verifyAttestation({ ...env, signatures: [{ ...goodSig, extra: 1 }] }, verifier);
    assert.ok(r.ok);
    assert.deepEqual(r.entry, entries[2]);
  });

  it('never throws on hostile objects', () => {
    const throwing = new Proxy(
      {},
      {
        get() {
          throw new Error('boom');
        },
        has() {
          throw new Error('boom');
        },
        ownKeys() {
          throw new Error('boom');
        },
      },
    );
    assert.equal(code(throwing), 'malformed_envelope');
    const getter = Object.defineProperty({ ...env }, 'payload', {
      get() {
        throw new Error('boom');
      },
      enumerable: true,
    });
    assert.equal(code(getter), 'malformed_envelope');
    assert.equal(code({ ...env, signatures: throwing }), 'malformed_envelope');
  });

  it('refuses every truncation and every one-character change of a valid envelope text', () => {
    const text = JSON.stringify(env);
    for (let i = 0; i < text.length; i++) {
      assert.notEqual(code(text.slice(0, i)), 'ok', `truncated at ${i}`);
      const swap = text[i] === 'x' ? 'y' : 'x';
      const changed = `${text.slice(0, i)}${swap}${text.slice(i + 1)}`;
      assert.notEqual(code(changed), 'ok', `changed at ${i}`);
    }
  });
});

describe('malformed statements (signed by the log key)', () => {
  it('refuses a payload that is not UTF-8 JSON', () => {
    assert.equal(code(signed('not json')), 'malformed_statement');
    assert.equal(code(signed('')), 'malformed_statement');
    assert.equal(code(signed(Uint8Array.of(0x7b, 0xff, 0x7d))), 'malformed_statement');
    assert.equal(code(signed('{"_type":1}')), 'malformed_statement');
    for (const json of ['[]', '"x"', 'null', '42']) {
      assert.equal(code(signed(json)), 'malformed_statement', json);
    }
  });

  it('refuses statements of the wrong shape', () => {
    const cases: [string, (s: Record<string, unknown>) => void][] = [
      ['no subject', (s) => delete s.subject],
      ['subject not array', (s) => (s.subject = { name: 'x' })],
      ['subject without digest', (s) => (s.subject = [{ name: 'x' }])],
      [
        'uppercase digest',
        (s) => (s.subject = [{ name: 'x', digest: { sha256: 'A'.repeat(64) } }]),
      ],
      ['no predicate', (s) => delete s.predicate],
      ['predicate array', (s) => (s.predicate = [])],
      ['entry array', (s) => (predicate(s).entry = [])],
      ['entry null', (s) => (predicate(s).entry = null)],
      ['no entry', (s) => delete predicate(s).entry],
      ['index float', (s) => (predicate(s).index = 2.5)],
      ['index negative', (s) => (predicate(s).index = -1)],
      ['index string', (s) => (predicate(s).index = '2')],
      ['index unsafe', (s) => (predicate(s).index = 2 ** 53)],
      ['tree size zero', (s) => (predicate(s).treeSize = 0)],
      ['leaf hash short', (s) => (predicate(s).leafHash = 'abcd')],
      ['proof not array', (s) => (predicate(s).inclusionProof = 'ab')],
      ['proof of numbers', (s) => (predicate(s).inclusionProof = [1, 2])],
      [
        'proof hash base64',
        (s) => (predicate(s).inclusionProof = [Buffer.alloc(32).toString('base64')]),
      ],
      [
        'proof too long',
        (s) => (predicate(s).inclusionProof = Array.from({ length: 65 }, () => '00'.repeat(32))),
      ],
      ['checkpoint not string', (s) => (predicate(s).checkpoint = 5)],
      ['checkpoint huge', (s) => (predicate(s).checkpoint = 'x'.repeat((1 << 20) + 1))],
    ];
    for (const [what, edit] of cases) {
      assert.equal(code(signedStatement(edit)), 'malformed_statement', what);
    }
  });

  it('checkpoint text that does not open is a bad checkpoint', () => {
    for (const text of ['', 'garbage', `${checkpoint}x`, checkpoint.replace('\u2014', '-')]) {
      const e = signedStatement((s) => (predicate(s).checkpoint = text));
      assert.equal(code(e), 'bad_checkpoint', JSON.stringify(text));
    }
  });

  it('ignores unknown statement fields (in-toto parsing rules) but not unknown types', () => {
    assert.equal(code(signedStatement((s) => (s.extra = { a: 1 }))), 'ok');
    assert.equal(code(signedStatement((s) => (predicate(s).note = 'hi'))), 'ok');
    assert.equal(code(signedStatement((s) => (s._type = 5))), 'malformed_statement');
    assert.equal(code(signedStatement((s) => delete s.predicateType)), 'malformed_statement');
  });

  it('an entry with a "__proto__" key is hashed with it, not silently dropped', () => {
    // Re-encoding the statement without the key (as a copying parser would) must not verify.
    const e = signedStatement((s) => {
      const entry = predicate(s).entry as Record<string, unknown>;
      Object.defineProperty(entry, '__proto__', { value: 1, enumerable: true });
    });
    assert.equal(code(e), 'digest_mismatch');
  });
});
