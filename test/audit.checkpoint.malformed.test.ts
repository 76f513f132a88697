/**
 * Malformed signed notes, checkpoints and verifier keys: each gets the right tagged result, and
 * nothing throws. The "bad message" and key-mangling cases follow golang.org/x/mod/sumdb/note,
 * note_test.go (TestOpen, TestNewVerifier): https://github.com/golang/mod/blob/master/sumdb/note/note_test.go
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { formatCheckpoint, openCheckpoint, parseCheckpoint } from '../src/audit/checkpoint.js';
import {
  MAX_NOTE_BYTES,
  MAX_NOTE_SIGNATURES,
  noteSigner,
  noteVerifier,
  openNote,
  parseVerifierKey,
  signNote,
} from '../src/audit/note.js';

const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const TEXT =
  'If you think cryptography is the answer to your problem,\n' +
  "then you don't know what your problem is.\n";
const PETER_B64 =
  'x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=';
const PETER_SIG = `— PeterNeumann ${PETER_B64}\n`;
const NOTE = `${TEXT}\n${PETER_SIG}`;

const peter = parseVerifierKey(PETER_VKEY);
assert.ok(peter.ok);
const known = [peter.key];

/** The result code of opening `note` with Peter's key ('ok' when it opens). */
function code(note: string | Uint8Array): string {
  const r = openNote(note, known);
  return r.ok ? 'ok' : r.code;
}

/** A syntactically valid signature line from a key nobody configured. */
function unknownSig(name: string, fill: number): string {
  return `— ${name} ${Buffer.alloc(68, fill).toString('base64')}\n`;
}

describe('malformed notes', () => {
  it('refuses the Go "malformed note" table', () => {
    const cases: [string | Uint8Array, string][] = [
      [TEXT, 'no_signature_block'],
      [`${TEXT}\n`, 'no_signature_block'],
      [`${TEXT}\n${PETER_SIG.slice(0, -1)}`, 'no_signature_block'],
      [`\x01${NOTE}`, 'control_character'],
      [Buffer.concat([Buffer.from([0xff]), Buffer.from(NOTE)]), 'not_utf8'],
      [`${TEXT}\n— Bad Name ${PETER_B64}`, 'no_signature_block'],
      [`${TEXT}\n— Bad Name ${PETER_B64}\n`, 'bad_signature_line'],
      [`${NOTE}Unexpected line.\n`, 'bad_signature_line'],
    ];
    for (const [note, want] of cases) assert.equal(code(note), want, JSON.stringify(String(note)));
  });

  it('refuses every truncation of a valid note, without throwing', () => {
    assert.equal(code(NOTE), 'ok');
    for (let i = 0; i < NOTE.length; i++) assert.notEqual(code(NOTE.slice(0, i)), 'ok', `${i}`);
    const bytes = Buffer.from(NOTE);
    // Cuts inside the em dash leave invalid UTF-8.
    for (let i = 0; i < bytes.length; i++) assert.notEqual(code(bytes.subarray(0, i)), 'ok');
  });

  it('refuses a signature block without the blank line before it', () => {
    assert.equal(code(`${TEXT}${PETER_SIG}`), 'no_signature_block');
  });

  it('refuses signatures that are not strict, canonical base64', () => {
    const urlSafe = PETER_B64.replace(/\//g, '_').replace(/\+/g, '-');
    const variants = [
      urlSafe,
      PETER_B64.replace(/=+$/, ''),
      // 'M' (001100) to 'N' (001101): the same 68 bytes with non-zero padding bits, a second spelling.
      `${PETER_B64.slice(0, -2)}N=`,
      `${PETER_B64.slice(0, 20)} ${PETER_B64.slice(20)}`,
      `${PETER_B64}==`,
      '',
      'AAAA', // decodes to fewer than 5 bytes: no room for a key ID and a signature
    ];
    for (const b64 of variants) {
      assert.equal(code(`${TEXT}\n— PeterNeumann ${b64}\n`), 'bad_signature_line', b64);
    }
  });

  it('refuses lines without the em dash and a single space', () => {
    for (const prefix of ['– ', '- ', '—', '—\u2003', '—\u00a0', ' — ', '—  ', '-- ']) {
      const line = `${prefix}PeterNeumann ${PETER_B64}\n`;
      assert.equal(code(`${TEXT}\n${line}`), 'bad_signature_line', JSON.stringify(prefix));
    }
  });

  it('refuses control characters (CR, tab) and lone surrogates anywhere', () => {
    assert.equal(code(NOTE.replace(/\n/g, '\r\n')), 'control_character');
    assert.equal(code(NOTE.replace('problem,', 'problem,\t')), 'control_character');
    assert.equal(code(`${TEXT}\n${PETER_SIG}`.replace('If', '\ud800If')), 'not_utf8');
  });

  it('keeps a byte-order mark as signed text, so it breaks the signature', () => {
    assert.equal(
      code(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(NOTE)])),
      'invalid_signature',
    );
  });

  it('refuses oversized notes, as a string or as bytes', () => {
    const huge = `${'a'.repeat(MAX_NOTE_BYTES)}\n\n${PETER_SIG}`;
    assert.equal(code(huge), 'too_large');
    assert.equal(code(Buffer.from(huge)), 'too_large');
    // Under the ceiling but with multi-byte characters taking it over.
    assert.equal(code(`${'é'.repeat(MAX_NOTE_BYTES / 2)}\n\n${PETER_SIG}`), 'too_large');
  });

  it('ignores extra signatures from unknown keys, and an oversized one', () => {
    const extra = unknownSig('stranger.example', 7) + unknownSig('PeterNeumann', 9);
    const long = `— big.example ${Buffer.alloc(100_000, 3).toString('base64')}\n`;
    const r = openNote(`${NOTE}${extra}${long}${extra}`, known);
    assert.ok(r.ok);
    assert.deepEqual(
      r.unverified.map((s) => s.name),
      ['stranger.example', 'PeterNeumann', 'big.example'],
    );
    assert.equal(code(`${TEXT}\n${extra}`), 'no_known_signature');
  });

  it(`refuses more than ${MAX_NOTE_SIGNATURES} signature lines`, () => {
    assert.equal(code(`${TEXT}\n${PETER_SIG.repeat(MAX_NOTE_SIGNATURES)}`), 'ok');
    assert.equal(
      code(`${TEXT}\n${PETER_SIG.repeat(MAX_NOTE_SIGNATURES + 1)}`),
      'too_many_signatures',
    );
  });

  it('answers non-text input and broken verifier lists without throwing', () => {
    for (const bad of [null, undefined, 42, {}, []]) {
      const r = openNote(bad as never, known);
      assert.equal(r.ok ? 'ok' : r.code, 'not_utf8');
    }
    const r = openNote(NOTE, [null, 7, { name: 'PeterNeumann', keyId: 0xc74f20a3 }] as never);
    assert.equal(r.ok ? 'ok' : r.code, 'invalid_signature');
    assert.equal(openNote(NOTE, null as never).ok, false);
  });
});

describe('malformed checkpoints', () => {
  const problems = (text: string) => {
    const p = parseCheckpoint(text);
    return p.ok
      ? []
      : p.problems.map((x) => (x.line === undefined ? x.code : `${x.code}@${x.line}`));
  };
  const root = Buffer.alloc(32, 1).toString('base64');

  it('names every problem at once', () => {
    assert.deepEqual(problems('\n0012\nnot base64!\n\next\n'), [
      'empty_line@1',
      'empty_line@4',
      'bad_size@2',
      'bad_root_hash@3',
    ]);
    assert.deepEqual(problems(`log\n1\n${root}`), ['no_final_newline']);
    assert.deepEqual(problems('log\n1\n'), ['too_few_lines']);
    assert.deepEqual(problems(''), ['no_final_newline', 'too_few_lines']);
    assert.deepEqual(problems(`log\r\n1\n${root}\n`), ['bad_character']);
  });

  it('checks the tree size: decimal, no leading zeros, no sign, within 2^53 - 1', () => {
    for (const size of ['00', '01', '-1', '+1', '1.0', ' 1', '1e3', '0x10', '١']) {
      assert.deepEqual(problems(`log\n${size}\n${root}\n`), ['bad_size@2'], size);
    }
    assert.deepEqual(problems(`log\n9007199254740992\n${root}\n`), ['size_too_large@2']);
    assert.deepEqual(problems(`log\n${'9'.repeat(400)}\n${root}\n`), ['size_too_large@2']);
    assert.deepEqual(problems(`log\n9007199254740991\n${root}\n`), []);
    assert.deepEqual(problems(`log\n0\n${root}\n`), []);
  });

  it('checks the root hash: strict base64 of exactly 32 bytes', () => {
    for (const hash of [
      Buffer.alloc(31).toString('base64'),
      Buffer.alloc(33).toString('base64'),
      root.replace('=', ''),
      root.replace(/A/g, '_'),
      'A'.repeat(200_000),
    ]) {
      assert.deepEqual(problems(`log\n1\n${hash}\n`), ['bad_root_hash@3'], hash.slice(0, 50));
    }
  });

  it('opens a signed note whose text is not a checkpoint as bad_checkpoint, with the problems', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const note = signNote('log\nten\n', noteSigner('log', privateKey));
    const c = openCheckpoint(note, [noteVerifier('log', publicKey)]);
    assert.ok(!c.ok);
    assert.equal(c.code, 'bad_checkpoint');
    assert.deepEqual(
      c.problems?.map((p) => p.code),
      ['too_few_lines', 'bad_size'],
    );
    assert.equal(parseCheckpoint(42 as never).ok, false);
  });

  it('passes note problems through openCheckpoint', () => {
    const body = formatCheckpoint({ origin: 'log', size: 1, rootHash: Buffer.alloc(32) });
    const c = openCheckpoint(body, []);
    assert.equal(c.ok ? 'ok' : c.code, 'no_signature_block');
  });
});

describe('malformed verifier keys', () => {
  const codeOf = (s: string) => {
    const k = parseVerifierKey(s);
    return k.ok ? 'ok' : k.code;
  };

  it('refuses every proper substring and every one-byte change of the Go key (TestNewVerifier)', () => {
    const b = Buffer.from(PETER_VKEY);
    for (let i = 0; i <= b.length; i++) {
      for (let j = i + 1; j <= b.length; j++) {
        if (i !== 0 || j !== b.length) assert.notEqual(codeOf(b.toString('utf8', i, j)), 'ok');
      }
    }
    for (let i = 0; i < b.length; i++) {
      const c = Buffer.from(b);
      c[i] = (c[i] ?? 0) + 1;
      assert.notEqual(codeOf(c.toString('latin1')), 'ok', c.toString('latin1'));
    }
  });

  it('names the Go problem keys: wrong length and unknown algorithm, with adjusted key IDs', () => {
    // Go accepts this base64 and then refuses the length; its non-zero padding bits stop us earlier.
    const goWrongLength =
      'PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==';
    assert.equal(codeOf(goWrongLength), 'bad_base64');
    const short = Buffer.concat([Buffer.from([1]), Buffer.alloc(31, 5)]).toString('base64');
    assert.equal(codeOf(`PeterNeumann+c74f20a3+${short}`), 'wrong_length');
    const otherAlg = 'PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
    assert.equal(codeOf(otherAlg), 'unknown_algorithm');
  });

  it('names bad names, IDs and encodings', () => {
    assert.equal(
      codeOf('Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'),
      'bad_name',
    );
    assert.equal(codeOf('+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'), 'bad_name');
    assert.equal(
      codeOf('PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'),
      'malformed',
    );
    assert.equal(
      codeOf('PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq_LDE4izWy10TW'),
      'bad_base64',
    );
    assert.equal(
      codeOf('PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'),
      'key_id_mismatch',
    );
    assert.equal(codeOf('PeterNeumann'), 'malformed');
    assert.equal(codeOf(7 as never), 'malformed');
  });

  it('refuses bad names and keys when building from our own keys', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    for (const name of ['', 'a b', 'a+b', 'a\u00a0b', 'a\nb']) {
      assert.throws(() => noteVerifier(name, publicKey), TypeError, JSON.stringify(name));
    }
    assert.throws(() => noteSigner('log', publicKey), TypeError);
    assert.throws(
      () => noteVerifier('log', generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey),
      TypeError,
    );
    assert.throws(() => signNote('no newline', noteSigner('log', privateKey)), TypeError);
    assert.throws(() => signNote('a\r\n', noteSigner('log', privateKey)), TypeError);
    assert.throws(() => signNote('a\n', []), TypeError);
  });
});
