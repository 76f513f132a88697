import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { decodeCursor, encodeCursor, pageOf, type Source } from '../src/gateway/cursors.js';
import { compileUriTemplate, matchesUriTemplate } from '../src/gateway/uri-template.js';

const list = (server: string, n: number): Source<string> => ({
  server,
  items: Array.from({ length: n }, (_, i) => `${server}${i}`),
});

/** Every page from the first, with the cursors handed out. */
function allPages(sources: Source<string>[], size: number, visible = (_: string) => true) {
  const pages: string[][] = [];
  const cursors: unknown[] = [];
  let cursor: string | undefined;
  do {
    const page = pageOf(sources, cursor, visible, size);
    pages.push(page.items);
    cursor = page.nextCursor;
    if (cursor) cursors.push(decodeCursor(cursor));
  } while (cursor && pages.length < 100);
  return { pages, cursors };
}

const invalidCursor = (err: unknown) =>
  err instanceof McpError &&
  err.code === (ErrorCode.InvalidParams as number) &&
  /invalid cursor/.test(err.message);

describe('gateway list cursors', () => {
  it('pages across upstreams: a page ending inside a list, at its end, and empty lists skipped', () => {
    const sources = [list('a', 5), list('empty', 0), list('b', 7), list('c', 3), list('z', 0)];
    const { pages, cursors } = allPages(sources, 5);
    assert.deepEqual(pages, [
      ['a0', 'a1', 'a2', 'a3', 'a4'],
      ['b0', 'b1', 'b2', 'b3', 'b4'],
      ['b5', 'b6', 'c0', 'c1', 'c2'],
    ]);
    // The page that ends exactly at a's end points past the empty list, at b's first entry.
    assert.deepEqual(cursors, [
      { s: 'b', o: 0 },
      { s: 'b', o: 5 },
    ]);
  });

  it('hands out no cursor when the last page ends exactly at the last entry', () => {
    const { pages, cursors } = allPages([list('a', 4), list('b', 0)], 4);
    assert.deepEqual(pages, [['a0', 'a1', 'a2', 'a3']]);
    assert.deepEqual(cursors, []);
  });

  it('checks a bounded number of entries per page, continuing where it stopped', () => {
    let checks = 0;
    let most = 0;
    const onlyLast = (s: string) => {
      checks++;
      return s === 'a999' || s === 'b0';
    };
    const sources = [list('a', 1000), list('b', 1)];
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      checks = 0;
      const page = pageOf(sources, cursor, onlyLast, 5);
      most = Math.max(most, checks);
      pages.push(page.items);
      cursor = page.nextCursor;
    } while (cursor && pages.length < 100);
    assert.ok(most <= 50, `${most} checks for one page`);
    assert.deepEqual(pages.flat(), ['a999', 'b0'], 'nothing skipped, nothing twice');
    assert.equal(pages.length, 21);
  });

  it('counts offsets over every entry and fills pages with visible ones only', () => {
    const odd = (s: string) => Number(s.slice(1)) % 2 === 1;
    const { pages, cursors } = allPages([list('a', 6), list('b', 4)], 2, odd);
    assert.deepEqual(pages, [['a1', 'a3'], ['a5', 'b1'], ['b3']]);
    assert.deepEqual(cursors, [
      { s: 'a', o: 5 },
      { s: 'b', o: 3 },
    ]);
  });

  it('continues with the next upstream when a list shrank below the offset', () => {
    const page = pageOf([list('a', 2), list('b', 2)], encodeCursor({ s: 'a', o: 9 }), () => true);
    assert.deepEqual(page.items, ['b0', 'b1']);
  });

  it('refuses malformed cursors with InvalidParams "invalid cursor"', () => {
    const sources = [list('a', 3)];
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const bad of [
      '',
      'not base64!',
      'x'.repeat(600),
      Buffer.from('not json').toString('base64url'),
      b64({ s: 'nobody', o: 0 }),
      b64({ s: 'a', o: -1 }),
      b64({ s: 'a', o: 1.5 }),
      b64({ s: 'a', o: '1' }),
      b64({ s: 'a', o: 0, extra: true }),
      b64(['a', 0]),
      b64(null),
    ])
      assert.throws(() => pageOf(sources, bad, () => true), invalidCursor, bad);
  });
});

describe('resource URI templates (RFC 6570 level 1)', () => {
  const matches = (template: string, uri: string) => {
    const t = compileUriTemplate(template);
    assert.ok(t, template);
    return matchesUriTemplate(t, uri);
  };

  it('matches {var} as one or more characters other than "/"', () => {
    assert.ok(matches('demo://r/{id}', 'demo://r/42'));
    assert.ok(matches('demo://r/{a}-{b}/x', 'demo://r/1-2-3/x'));
    assert.ok(!matches('demo://r/{id}', 'demo://r/'));
    assert.ok(!matches('demo://r/{id}', 'demo://r/4/2'));
    assert.ok(!matches('demo://r/{id}', 'demo://q/42'));
    assert.ok(matches('t:{a}{b}', 't:xy'));
    assert.ok(!matches('t:{a}{b}', 't:x'));
  });

  it('matches {+var} as any characters, "/" included', () => {
    assert.ok(matches('file:///{+path}', 'file:///etc/hosts'));
    assert.ok(matches('file:///{+path}.txt', 'file:///a/b.txt'));
    assert.ok(!matches('file:///{+path}.txt', 'file:///a/b.md'));
  });

  it('does not route by templates beyond level 1 or beyond the limits', () => {
    for (const t of ['x/{?q}', 'x/{/p}', 'x/{a,b}', 'x/{a*}', 'x/{a', 'x/}', '', 'x'.repeat(2000)])
      assert.equal(compileUriTemplate(t), undefined, t);
    // One that starts with an expression would match URIs of every scheme.
    assert.equal(compileUriTemplate('{+any}'), undefined);
    assert.equal(compileUriTemplate('{a}://x'), undefined);
  });

  it('finds literals after {+var} in linear time, wherever they repeat', () => {
    assert.ok(matches('x:{+a}abab{+b}c', 'x:abababababc'));
    assert.ok(!matches('x:{+a}abab{+b}c', 'x:abababab'));
    assert.ok(matches('x:{+a}aab', 'x:aaaab'));
  });

  // Generous bounds: a 2-core machine under test load, against seconds for quadratic matching.
  it('stays fast on hostile input (no backtracking)', () => {
    const t = compileUriTemplate('x{a}{b}{c}{d}{e}{f}{g}{h}z');
    assert.ok(t);
    const started = performance.now();
    assert.ok(!matchesUriTemplate(t, `x${'a'.repeat(4096)}`));
    assert.ok(performance.now() - started < 500);
    // Many templates with a long literal after {+var}, against a URI of the literal's letter.
    const hostile = Array.from({ length: 1000 }, (_, k) =>
      compileUriTemplate(`a{+a}${'a'.repeat(1000)}{+b}b${k}`),
    );
    const uri = `${'a'.repeat(4096)}c`;
    const begun = performance.now();
    for (const h of hostile) {
      assert.ok(h);
      assert.ok(!matchesUriTemplate(h, uri));
    }
    assert.ok(performance.now() - begun < 5000, `${Math.round(performance.now() - begun)} ms`);
  });
});
