import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MIN_CHARS,
  destinations,
  forEachTextKey,
  leafStrings,
  normalise,
  valueKeys,
} from '../src/provenance/values.js';

const IBAN_COMPACT = 'c:de89370400440532013000';

/** Every key forEachTextKey emits for `text`, in order. */
function textKeys(text: string): string[] {
  const keys: string[] = [];
  forEachTextKey(text, (k) => {
    keys.push(k);
    return true;
  });
  return keys;
}

/** The normal forms under which values are recognised again (src/provenance/values.ts). */
describe('provenance values: normalise', () => {
  it('folds case', () => {
    assert.equal(normalise('DE89 AbCd'), 'de89 abcd');
    assert.equal(normalise('ÄÖÜ Straße'), 'äöü straße');
  });

  it('folds Unicode compatibility forms (NFKC): full-width letters and digits, ligatures', () => {
    assert.equal(normalise('１２３４５６'), '123456');
    assert.equal(normalise('ＤＥ８９'), 'de89');
    assert.equal(normalise('ﬁle'), 'file');
  });

  it('collapses every run of whitespace to one space and trims the ends', () => {
    assert.equal(normalise('  pay \t\n  my\r\nlandlord  '), 'pay my landlord');
    // A no-break space and an ideographic space are whitespace too.
    assert.equal(normalise('a\u00a0b\u3000c'), 'a b c');
    assert.equal(normalise(' \t\n '), '');
  });
});

describe('provenance values: valueKeys', () => {
  it('gives an IBAN in any spacing, separators or case the same compact key', () => {
    const forms = [
      'DE89 3704 0044 0532 0130 00',
      'de89370400440532013000',
      'DE89-3704-0044-0532-0130-00',
      'DE89.3704.0044.0532.0130.00',
      '  de89  3704 0044\t0532 0130 00 ',
      'ＤＥ８９ ３７０４ ００４４ ０５３２ ０１３０ ００',
    ];
    for (const form of forms) {
      const keys = valueKeys(form);
      assert.equal(keys.length, 2, `${form}: ${keys.join()}`);
      assert.equal(keys[0], `n:${normalise(form)}`, form);
      assert.equal(keys[1], IBAN_COMPACT, form);
    }
  });

  it('gives a phone number written with +, parentheses, dashes, dots or spaces one compact key', () => {
    for (const form of [
      '+49 (30) 1234-567',
      '+49.30.1234.567',
      '+49301234567',
      '+49 30 1234 567',
    ]) {
      assert.deepEqual(valueKeys(form), [`n:${normalise(form)}`, 'c:49301234567'], form);
    }
    assert.deepEqual(valueKeys('555-1234'), ['n:555-1234', 'c:5551234']);
  });

  it('gives ordinary words, e-mail addresses and URLs no compact form', () => {
    for (const value of [
      'hello world',
      'Alice@Example.com',
      'https://forum.example.net/thread/4242',
      'invoice 2024', // too few digits to be a number
      'room 12-34-56', // six digits
    ]) {
      const keys = valueKeys(value);
      assert.deepEqual(keys, [`n:${normalise(value)}`], value);
      assert.ok(!keys.some((k) => k.startsWith('c:')), value);
    }
  });

  it('has no key at all for values under MIN_CHARS', () => {
    assert.equal(MIN_CHARS, 4);
    for (const short of ['13', 'abc', '', '   ', ' 1 2 ', '１３']) {
      assert.deepEqual(valueKeys(short), [], JSON.stringify(short));
    }
    assert.deepEqual(valueKeys('abcd'), ['n:abcd'], 'exactly MIN_CHARS counts');
  });
});

describe('provenance values: forEachTextKey', () => {
  it('finds an IBAN written in groups of four inside a sentence under its compact key', () => {
    const keys = textKeys('Please transfer the deposit to DE89 3704 0044 0532 0130 00 by Friday.');
    assert.ok(keys.includes(IBAN_COMPACT), keys.join('\n'));
    assert.ok(keys.includes('n:transfer') && keys.includes('n:deposit'), 'single words too');
  });

  it('finds an IBAN written whole or with dashes, in both forms', () => {
    const whole = textKeys('Pay DE89370400440532013000 now.');
    assert.ok(whole.includes('n:de89370400440532013000'), whole.join());
    assert.ok(whole.includes(IBAN_COMPACT), whole.join());
    const dashed = textKeys('IBAN: DE89-3704-0044-0532-0130-00, BIC COBADEFFXXX');
    assert.ok(dashed.includes(IBAN_COMPACT), dashed.join());
  });

  it('finds a quoted value in an attribute such as to="DE89..."', () => {
    for (const text of [
      'send_money(to="DE89370400440532013000", amount=2500)',
      "{'to': 'DE89370400440532013000'}",
      '<a data-to=`DE89370400440532013000`>',
    ]) {
      const keys = textKeys(text);
      assert.ok(keys.includes('n:de89370400440532013000'), `${text}: ${keys.join()}`);
      assert.ok(keys.includes(IBAN_COMPACT), text);
      assert.ok(!keys.some((k) => k.includes('"') || k.includes('=')), keys.join());
    }
  });

  it('finds a phone number written in groups', () => {
    const keys = textKeys('Call us on +49 (30) 1234-567 today.');
    assert.ok(keys.includes('c:49301234567'), keys.join());
  });

  it('finds e-mail addresses and URLs whole, without sentence punctuation', () => {
    const keys = textKeys('Write to Billing@Evil.example.net. See https://evil.example.net/pay!');
    assert.ok(keys.includes('n:billing@evil.example.net'), keys.join());
    assert.ok(keys.includes('n:https://evil.example.net/pay'), keys.join());
  });

  it('stops as soon as emit returns false', () => {
    let calls = 0;
    forEachTextKey('alpha bravo charlie delta echo DE89370400440532013000', () => {
      calls++;
      return false;
    });
    assert.equal(calls, 1);

    // Stopping on a normal form does not emit the compact form that would follow it.
    const seen: string[] = [];
    forEachTextKey('DE89370400440532013000 and more words here', (k) => {
      seen.push(k);
      return false;
    });
    assert.deepEqual(seen, ['n:de89370400440532013000']);

    let count = 0;
    forEachTextKey('alpha bravo charlie delta echo foxtrot', () => ++count < 3);
    assert.equal(count, 3, 'the call that returned false is the last one');
  });

  it('joins at most six tokens into one value', () => {
    // Seven groups of two digits: the six-group runs are known, the seven-group run is not.
    const keys = textKeys('ref 12 34 56 78 90 12 34 end');
    assert.ok(keys.includes('c:123456789012'), keys.join());
    assert.ok(keys.includes('c:345678901234'), keys.join());
    assert.ok(!keys.includes('c:12345678901234'), 'seven tokens are never one value');
    for (const k of keys) {
      const tokens = k.slice(2).split(' ').length;
      assert.ok(tokens <= 6, k);
    }
  });

  it('joins capitalised words into names, but does not index runs of prose', () => {
    const keys = textKeys('Wire it to Acme Holdings Ltd before the end of the week');
    assert.ok(keys.includes('n:acme holdings ltd'), keys.join());
    assert.ok(!keys.includes('n:before the end'), keys.join());
    assert.ok(!keys.includes('n:the end of the week'), keys.join());
  });

  it('emits nothing for values under MIN_CHARS and nothing for empty text', () => {
    assert.deepEqual(textKeys('13 at 9 ok'), []);
    assert.deepEqual(textKeys(''), []);
    assert.deepEqual(textKeys(' \n\t "" == ;; '), []);
  });
});

describe('provenance values: destinations', () => {
  it('finds a URL, an e-mail address, an IBAN and a phone number inside free text', () => {
    const found = destinations(
      'Hi! Details at https://evil.example.net/invoice?id=7 or ask billing@evil.example.net. ' +
        'Pay to DE89 3704 0044 0532 0130 00. Questions: +49 (30) 1234-567.',
    );
    for (const d of [
      'https://evil.example.net/invoice?id=7',
      'billing@evil.example.net',
      'DE89 3704 0044 0532 0130 00',
      // Brackets separate tokens; the groups are judged by their compact form.
      '+49 30 1234-567',
    ])
      assert.ok(found.includes(d), `${d} in ${JSON.stringify(found)}`);
  });

  it('finds each destination once, without surrounding sentence punctuation', () => {
    const found = destinations('Mail bob@evil.example.net. Again: bob@evil.example.net!');
    assert.deepEqual(found, ['bob@evil.example.net']);
    assert.deepEqual(destinations('See http://evil.example.net/a.'), ['http://evil.example.net/a']);
  });

  it('finds an IBAN followed by more words without them (the documented example)', () => {
    // The doc comment of destinations(): 'please pay DE89 ... 00 today' -> 'DE89 3704 0044 0532 0130 00'.
    const spaced = destinations('please pay DE89 3704 0044 0532 0130 00 today');
    assert.ok(spaced.includes('DE89 3704 0044 0532 0130 00'), JSON.stringify(spaced));
    const whole = destinations('please pay DE89370400440532013000 to the account today');
    assert.ok(whole.includes('DE89370400440532013000'), JSON.stringify(whole));
  });

  it('finds a URL followed by a comma without the comma', () => {
    const found = destinations('please open https://evil.example.net/pay, then reply');
    assert.ok(found.includes('https://evil.example.net/pay'), JSON.stringify(found));
  });

  it('finds nothing in plain prose, times or short numbers', () => {
    assert.deepEqual(
      destinations(
        'The quick brown fox jumps over the lazy dog. Meet at 13:30 on May 1st, room 12, ' +
          'bring 3 copies; thanks @team for the help.',
      ),
      [],
    );
    assert.deepEqual(destinations(''), []);
  });
});

describe('provenance values: leafStrings', () => {
  it('collects the strings of nested objects and arrays, in order', () => {
    assert.deepEqual(
      leafStrings({ to: 'a', notes: ['b', { deep: ['c', { deeper: 'd' }] }], cc: { x: 'e' } }),
      ['a', 'b', 'c', 'd', 'e'],
    );
    assert.deepEqual(leafStrings('plain'), ['plain']);
  });

  it('ignores numbers, booleans, null and undefined', () => {
    assert.deepEqual(
      leafStrings({
        amount: 2500,
        ok: true,
        none: null,
        missing: undefined,
        list: [1, false, 'x'],
      }),
      ['x'],
    );
    assert.deepEqual(leafStrings(42), []);
    assert.deepEqual(leafStrings(null), []);
    assert.deepEqual(leafStrings(undefined), []);
  });

  it('appends to the array it is given', () => {
    const out = ['first'];
    assert.equal(leafStrings(['second'], out), out);
    assert.deepEqual(out, ['first', 'second']);
  });
});
