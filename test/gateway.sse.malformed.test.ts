/**
 * The SSE parser on hostile input (THREATS A2: an upstream may be an attacker): garbage, huge lines
 * and events, invalid UTF-8 and events without data never throw anything but SseLimitError, never
 * grow past the limit, and a stream cut at any byte parses as it does whole.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { SseLimitError, SseParser, type SseEvent } from '../src/gateway/sse.js';

const LIMIT = 1024;

function collect(limit = LIMIT): { events: SseEvent[]; parser: SseParser } {
  const events: SseEvent[] = [];
  return { events, parser: new SseParser((e) => events.push(e), limit) };
}

const STREAM = Buffer.from(
  '\uFEFF: hello\r\nretry: 250\r\nid: 1\r\nevent: message\r\ndata: {"jsonrpc":"2.0",\r\n' +
    'data: "method":"x/ü"}\r\n\r\nid: 2\n\n:comment\rdata: 🌍\r\rdata\n\nevent: other\ndata: y\n\n',
);

describe('SSE parser on malformed input', () => {
  it('parses a stream cut at every byte exactly as it parses it whole', () => {
    const whole = collect();
    whole.parser.push(STREAM);
    assert.equal(whole.events.length, 4);
    for (let at = 0; at <= STREAM.length; at++) {
      const split = collect();
      split.parser.push(STREAM.subarray(0, at));
      split.parser.push(STREAM.subarray(at));
      assert.deepEqual(split.events, whole.events, `split at byte ${at}`);
      assert.equal(split.parser.lastEventId, whole.parser.lastEventId);
      assert.equal(split.parser.retryMs, 250);
    }
  });

  it('parses a stream fed one byte at a time as it parses it whole', () => {
    const whole = collect();
    whole.parser.push(STREAM);
    const bytes = collect();
    for (let i = 0; i < STREAM.length; i++) bytes.parser.push(STREAM.subarray(i, i + 1));
    assert.deepEqual(bytes.events, whole.events);
  });

  it('survives random garbage: events or SseLimitError, nothing else', () => {
    for (let round = 0; round < 200; round++) {
      const { parser } = collect();
      try {
        for (let i = 0; i < 8; i++) parser.push(randomBytes(1 + ((round * 37 + i) % 700)));
        parser.end();
      } catch (err) {
        assert.ok(err instanceof SseLimitError, String(err));
      }
    }
  });

  it('turns invalid UTF-8 into U+FFFD instead of failing', () => {
    const { events, parser } = collect();
    parser.push(
      Buffer.concat([Buffer.from('data: a'), Buffer.from([0xff, 0xc3, 0x28]), Buffer.from('\n\n')]),
    );
    assert.equal(events[0]?.data, 'a\uFFFD\uFFFD(');
  });

  it('refuses a line longer than the limit, also when it arrives in small pieces', () => {
    const whole = collect();
    assert.throws(() => whole.parser.push(Buffer.alloc(LIMIT + 1, 0x61)), SseLimitError);
    const pieces = collect();
    assert.throws(() => {
      for (let i = 0; i <= LIMIT; i += 100) pieces.parser.push(Buffer.alloc(100, 0x61));
    }, /longer than 1024 bytes/);
  });

  it('refuses an event whose data lines together pass the limit', () => {
    const { parser, events } = collect();
    const line = Buffer.from(`data: ${'x'.repeat(200)}\n`);
    assert.throws(() => {
      for (let i = 0; i < 10; i++) parser.push(line);
    }, /event is larger than 1024 bytes/);
    assert.equal(events.length, 0);
  });

  it('accepts many short lines in one chunk without slowing down', () => {
    const { parser, events } = collect(64 * 1024 * 1024);
    const chunk = Buffer.from('data: x\n\n'.repeat(200_000));
    const started = performance.now();
    parser.push(chunk);
    assert.equal(events.length, 200_000);
    assert.ok(performance.now() - started < 2000, 'linear in the chunk size');
  });

  it('dispatches nothing for events without data, and keeps going', () => {
    const { parser, events } = collect();
    parser.push(Buffer.from('\n\n\n\nevent: x\n\nid: 3\n\n:\n\nretry\n\ndata: ok\n\n'));
    assert.deepEqual(events, [{ type: 'message', data: 'ok', id: '3' }]);
  });
});
