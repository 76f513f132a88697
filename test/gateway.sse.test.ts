/** The SSE parser against the WHATWG event stream rules the upstream transport relies on. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SseParser, type SseEvent } from '../src/gateway/sse.js';

/** Every event `text` yields, fed as one chunk or as the given pieces. */
function parse(...pieces: (string | Buffer)[]): { events: SseEvent[]; parser: SseParser } {
  const events: SseEvent[] = [];
  const parser = new SseParser((e) => events.push(e), 1024 * 1024);
  for (const p of pieces) parser.push(typeof p === 'string' ? Buffer.from(p) : p);
  parser.end();
  return { events, parser };
}

describe('SSE parser', () => {
  it('dispatches an event at a blank line, named message when it has no event field', () => {
    const { events } = parse('data: {"a":1}\n\n');
    assert.deepEqual(events, [{ type: 'message', data: '{"a":1}', id: '' }]);
  });

  it('joins data lines with \\n and keeps the event type', () => {
    const { events } = parse('event: note\ndata: one\ndata:two\ndata\n\n');
    assert.deepEqual(events, [{ type: 'note', data: 'one\ntwo\n', id: '' }]);
  });

  it('removes exactly one space after the colon', () => {
    const { events } = parse('data:  two spaces\n\n');
    assert.equal(events[0]?.data, ' two spaces');
  });

  it('accepts LF, CRLF and CR line ends, mixed', () => {
    const { events } = parse('data: a\r\n\r\ndata: b\r\rdata: c\n\ndata: d\r\n\n');
    assert.deepEqual(
      events.map((e) => e.data),
      ['a', 'b', 'c', 'd'],
    );
  });

  it('does not take a CRLF split between chunks for two line ends', () => {
    const { events } = parse('data: a\r', '\ndata: b\r', '\n\r', '\n');
    assert.deepEqual(
      events.map((e) => e.data),
      ['a\nb'],
    );
  });

  it('ignores comments, unknown fields and events without data', () => {
    const { events } = parse(': keep-alive\n\nfoo: bar\nid: 7\n\ndata: x\n\n');
    assert.deepEqual(events, [{ type: 'message', data: 'x', id: '7' }]);
  });

  it('remembers the last event id across events, also from a priming event without data', () => {
    const { events, parser } = parse('id: 1\ndata:\n\nid: prime\n\ndata: x\n\n');
    assert.deepEqual(
      events.map((e) => [e.id, e.data]),
      [
        ['1', ''],
        ['prime', 'x'],
      ],
    );
    assert.equal(parser.lastEventId, 'prime');
  });

  it('ignores an id containing NUL, and takes retry only as digits', () => {
    const { parser } = parse('id: ok\nretry: 1500\n\nid: a\0b\nretry: 12x\n\n');
    assert.equal(parser.lastEventId, 'ok');
    assert.equal(parser.retryMs, 1500);
  });

  it('drops an event the stream ends before its blank line', () => {
    const { events } = parse('data: complete\n\ndata: cut');
    assert.deepEqual(
      events.map((e) => e.data),
      ['complete'],
    );
  });

  it('strips one byte order mark at the start of the stream', () => {
    const { events } = parse(Buffer.from([0xef, 0xbb, 0xbf]), 'data: x\n\n');
    assert.equal(events[0]?.data, 'x');
  });

  it('decodes a multi-byte character split across chunks', () => {
    const bytes = Buffer.from('data: grüße 🌍\n\n');
    const at = bytes.indexOf(0x9f); // inside the 4-byte emoji
    const { events } = parse(bytes.subarray(0, at), bytes.subarray(at));
    assert.equal(events[0]?.data, 'grüße 🌍');
  });
});
