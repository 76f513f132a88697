/**
 * Signed notes and checkpoints: known answers from the Go reference implementation and RFC 8032,
 * round trips, and tampering.
 *
 * Go vectors: golang.org/x/mod/sumdb/note, note_test.go (TestNewVerifier, TestSign, TestOpen),
 * https://github.com/golang/mod/blob/master/sumdb/note/note_test.go (BSD-3-Clause). Ed25519 is
 * deterministic, so signing the same text with the same seed must give the same bytes.
 * RFC 8032 §7.1 TEST 1 gives the fixed key pair (https://www.rfc-editor.org/rfc/rfc8032#section-7.1).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { formatCheckpoint, openCheckpoint, parseCheckpoint } from '../src/audit/checkpoint.js';
import {
  noteKeyId,
  noteSigner,
  noteVerifier,
  openNote,
  parseVerifierKey,
  signNote,
  verifierKey,
  type NoteVerifier,
} from '../src/audit/note.js';
import { ed25519PrivateKeyFromSeed, ed25519RawPublicKey } from '../src/crypto/note-keys.js';

const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
// The seed of PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz.
const PETER_SKEY_B64 = 'AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT =
  'If you think cryptography is the answer to your problem,\n' +
  "then you don't know what your problem is.\n";
const PETER_B64 =
  'x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=';
const ENOCH_B64 =
  'rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=';
const PETER_SIG = `— PeterNeumann ${PETER_B64}\n`;
const ENOCH_SIG = `— EnochRoot ${ENOCH_B64}\n`;

// RFC 8032 §7.1 TEST 1.
const RFC_SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const RFC_PUBLIC = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';

function verifier(vkey: string): NoteVerifier {
  const v = parseVerifierKey(vkey);
  assert.ok(v.ok, `${vkey}: ${v.ok ? '' : v.message}`);
  return v.key;
}

function peterSigner() {
  const skey = Buffer.from(PETER_SKEY_B64, 'base64');
  assert.equal(skey[0], 0x01, 'the Go signer key is an Ed25519 (0x01) seed');
  return noteSigner('PeterNeumann', ed25519PrivateKeyFromSeed(skey.subarray(1)));
}

const peter = { name: 'PeterNeumann', keyId: 0xc74f20a3, base64: PETER_B64 };
const enoch = { name: 'EnochRoot', keyId: 0xaf0cfe78, base64: ENOCH_B64 };

describe('signed note: Go reference vectors', () => {
  it('parses the Go verifier key and writes it back byte for byte', () => {
    const v = verifier(PETER_VKEY);
    assert.equal(v.name, 'PeterNeumann');
    assert.equal(v.keyId, 0xc74f20a3);
    assert.equal(v.publicKey.length, 32);
    assert.equal(verifierKey(v.name, v.publicKey), PETER_VKEY);
    assert.equal(verifierKey('EnochRoot', verifier(ENOCH_VKEY).publicKey), ENOCH_VKEY);
  });

  it('derives the Go key ID from the signer seed and reproduces the Go signed note exactly', () => {
    const signer = peterSigner();
    assert.equal(signer.keyId, 0xc74f20a3);
    assert.equal(verifierKey('PeterNeumann', signer.privateKey), PETER_VKEY);
    assert.equal(signNote(TEXT, signer), `${TEXT}\n${PETER_SIG}`);
  });

  it('opens the Go note: known keys verify, unknown keys are set aside (TestOpen)', () => {
    const note = `${TEXT}\n${PETER_SIG}${ENOCH_SIG}`;
    const one = openNote(note, [verifier(PETER_VKEY)]);
    assert.deepEqual(one, { ok: true, text: TEXT, verified: [peter], unverified: [enoch] });
    const both = openNote(note, [verifier(PETER_VKEY), verifier(ENOCH_VKEY)]);
    assert.deepEqual(both, { ok: true, text: TEXT, verified: [peter, enoch], unverified: [] });
    const none = openNote(note, []);
    assert.equal(none.ok ? 'ok' : none.code, 'no_known_signature');
  });

  it('accepts the note as UTF-8 bytes with the same result', () => {
    const bytes = new TextEncoder().encode(`${TEXT}\n${PETER_SIG}`);
    assert.deepEqual(openNote(bytes, [verifier(PETER_VKEY)]), {
      ok: true,
      text: TEXT,
      verified: [peter],
      unverified: [],
    });
  });

  it('refuses two verifiers for one name and key ID only when that key signed', () => {
    const e = verifier(ENOCH_VKEY);
    const p = verifier(PETER_VKEY);
    const used = openNote(`${TEXT}\n${ENOCH_SIG}`, [e, p, e]);
    assert.equal(used.ok ? 'ok' : used.code, 'ambiguous_key');
    assert.equal(openNote(`${TEXT}\n${PETER_SIG}`, [e, p, e]).ok, true);
  });

  it('splits at the last blank line, so the signed text may hold blank lines', () => {
    const signer = peterSigner();
    const text = 'first paragraph\n\nsecond paragraph\n\n';
    const n = openNote(signNote(text, signer), [verifier(PETER_VKEY)]);
    assert.equal(n.ok && n.text, text);
  });

  it('keeps one entry per key for repeated signatures', () => {
    const note = `${TEXT}\n${PETER_SIG}${PETER_SIG}${ENOCH_SIG}${ENOCH_SIG}`;
    const n = openNote(note, [verifier(PETER_VKEY)]);
    assert.deepEqual(n, { ok: true, text: TEXT, verified: [peter], unverified: [enoch] });
  });
});

describe('signed note: RFC 8032 key (§7.1 TEST 1)', () => {
  const privateKey = ed25519PrivateKeyFromSeed(Buffer.from(RFC_SEED, 'hex'));
  const name = 'gatehouse.example/audit';

  it('derives the RFC 8032 public key from the seed', () => {
    assert.equal(Buffer.from(ed25519RawPublicKey(privateKey) ?? []).toString('hex'), RFC_PUBLIC);
  });

  it('computes the key ID and verifier key byte for byte', () => {
    // Expected values computed independently: SHA-256(name || 0x0A || 0x01 || public key)[:4].
    assert.equal(noteKeyId(name, Buffer.from(RFC_PUBLIC, 'hex')), 0xca741635);
    const vkey = 'gatehouse.example/audit+ca741635+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea';
    assert.equal(verifierKey(name, Buffer.from(RFC_PUBLIC, 'hex')), vkey);
    assert.equal(verifierKey(name, privateKey), vkey);
    assert.deepEqual(verifier(vkey), noteVerifier(name, privateKey));
  });
});

describe('checkpoint', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const origin = 'gatehouse.example/log';
  const signer = noteSigner(origin, privateKey);
  const trusted = [noteVerifier(origin, publicKey)];
  // RFC 6962: the root of the empty tree is SHA-256 of the empty string.
  const emptyRoot = Buffer.from('47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=', 'base64');

  it('formats the body exactly as tlog-checkpoint lays it out', () => {
    assert.equal(
      formatCheckpoint({ origin, size: 0, rootHash: emptyRoot }),
      `${origin}\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n`,
    );
    const withExt = formatCheckpoint({ origin, size: 7, rootHash: emptyRoot, extensions: ['x y'] });
    assert.ok(withExt.endsWith('\n7\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\nx y\n'));
  });

  it('parses the example checkpoint of the C2SP spec', () => {
    const p = parseCheckpoint(
      'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n',
    );
    assert.ok(p.ok);
    assert.equal(p.checkpoint.origin, 'example.com/behind-the-sofa');
    assert.equal(p.checkpoint.size, 20852163);
    assert.equal(p.checkpoint.rootHash.length, 32);
    assert.deepEqual(p.checkpoint.extensions, []);
  });

  it('round-trips through sign and open, with extension lines and a cosignature', () => {
    const rootHash = Buffer.alloc(32, 0xab);
    const body = { origin, size: 123456, rootHash, extensions: ['ext one', 'two'] };
    const witness = generateKeyPairSync('ed25519');
    const note = signNote(formatCheckpoint(body), [
      signer,
      noteSigner('witness.example', witness.privateKey),
    ]);
    const opened = openCheckpoint(note, trusted, origin);
    assert.ok(opened.ok, opened.ok ? '' : opened.message);
    assert.deepEqual(opened.checkpoint, { ...body, rootHash: new Uint8Array(rootHash) });
    assert.deepEqual(
      opened.unverified.map((s) => s.name),
      ['witness.example'],
    );
    const both = openCheckpoint(note, [
      ...trusted,
      noteVerifier('witness.example', witness.publicKey),
    ]);
    assert.equal(both.ok && both.verified.length, 2);
  });

  it('refuses a checkpoint of another log', () => {
    const note = signNote(formatCheckpoint({ origin, size: 1, rootHash: emptyRoot }), signer);
    const c = openCheckpoint(note, trusted, 'other.example/log');
    assert.equal(c.ok ? 'ok' : c.code, 'wrong_origin');
  });

  it('refuses bad fields when formatting', () => {
    const ok = { origin, size: 1, rootHash: emptyRoot };
    assert.throws(() => formatCheckpoint({ ...ok, origin: '' }), TypeError);
    assert.throws(() => formatCheckpoint({ ...ok, origin: 'a\nb' }), TypeError);
    assert.throws(() => formatCheckpoint({ ...ok, size: -1 }), TypeError);
    assert.throws(() => formatCheckpoint({ ...ok, size: 1.5 }), TypeError);
    assert.throws(() => formatCheckpoint({ ...ok, rootHash: new Uint8Array(31) }), TypeError);
    assert.throws(() => formatCheckpoint({ ...ok, extensions: [''] }), TypeError);
  });
});

describe('tampering', () => {
  const note = `${TEXT}\n${PETER_SIG}`;
  const known = [verifier(PETER_VKEY)];
  const code = (n: string) => {
    const r = openNote(n, known);
    return r.ok ? 'ok' : r.code;
  };

  it('fails when the text changes by one character', () => {
    assert.equal(code(note.replace('cryptography', 'cryptographY')), 'invalid_signature');
    assert.equal(code(`x${note}`), 'invalid_signature');
  });

  it('fails when the signature changes (TestOpen: ABCD spliced into it)', () => {
    assert.equal(
      code(`${TEXT}\n${PETER_SIG.slice(0, 60)}ABCD${PETER_SIG.slice(60)}`),
      'invalid_signature',
    );
    const flipped = Buffer.from(PETER_B64, 'base64');
    flipped[10] = (flipped[10] ?? 0) ^ 1;
    assert.equal(
      code(`${TEXT}\n— PeterNeumann ${flipped.toString('base64')}\n`),
      'invalid_signature',
    );
  });

  it('sets the signature aside when the name or key ID changes, so no known key signed', () => {
    assert.equal(code(note.replace('PeterNeumann', 'PeterNeuman')), 'no_known_signature');
    const wrongId = Buffer.from(PETER_B64, 'base64');
    wrongId[0] = (wrongId[0] ?? 0) ^ 0x80;
    assert.equal(
      code(`${TEXT}\n— PeterNeumann ${wrongId.toString('base64')}\n`),
      'no_known_signature',
    );
  });

  it('fails when a good signature comes with a bad one from the same key', () => {
    const forged = Buffer.concat([Buffer.from('c74f20a3', 'hex'), Buffer.alloc(64, 1)]);
    const bad = `— PeterNeumann ${forged.toString('base64')}\n`;
    assert.equal(code(`${TEXT}\n${PETER_SIG}${bad}`), 'invalid_signature');
    assert.equal(code(`${TEXT}\n${bad}${PETER_SIG}`), 'invalid_signature');
  });

  it('fails when a checkpoint field changes after signing', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const body = formatCheckpoint({ origin: 'o.example', size: 10, rootHash: Buffer.alloc(32) });
    const signed = signNote(body, noteSigner('o.example', privateKey));
    const c = openCheckpoint(signed.replace('\n10\n', '\n11\n'), [
      noteVerifier('o.example', publicKey),
    ]);
    assert.equal(c.ok ? 'ok' : c.code, 'invalid_signature');
  });
});
