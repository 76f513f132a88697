/**
 * An incremental Server-Sent Events parser over raw bytes, as the WHATWG HTML standard interprets an
 * event stream (§9.2.6), with limits: the bytes come from an upstream, which may be hostile.
 *
 * Lines are cut on bytes (CR, LF, CRLF) before decoding: neither byte occurs inside a multi-byte
 * UTF-8 sequence, so a character split across chunks is whole again once its line is, and each line
 * is decoded once. Invalid UTF-8 becomes U+FFFD, as the standard says.
 */

const LF = 0x0a;
const CR = 0x0d;
const BOM = 0xfeff;

/** One dispatched event. */
export interface SseEvent {
  /** The `event:` field, or `message` when the event named none. */
  readonly type: string;
  /** The `data:` lines, joined by `\n`. */
  readonly data: string;
  /** The last event ID of the stream as of this event (it persists across events). */
  readonly id: string;
}

/** The stream broke a limit: its connection should be dropped. */
export class SseLimitError extends Error {}

/**
 * Feeds bytes in, calls `onEvent` for each complete event; one line and one event's data are each
 * capped at `maxBytes`.
 *
 * @example
 *   const p = new SseParser((e) => console.log(e.type, e.data), 16 * 1024 * 1024);
 *   p.push(Buffer.from('event: message\ndata: {"a":1}\n\n')); // logs: message {"a":1}
 */
export class SseParser {
  /** Bytes of a line not yet ended, kept as they came (joined once, when the line ends). */
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** The previous chunk ended in CR: an LF starting the next one ends no second line. */
  private afterCr = false;
  private firstLine = true;
  private data: string | undefined;
  private dataBytes = 0;
  private type = '';
  private idBuffer = '';
  private id = '';
  private retry: number | undefined;

  constructor(
    private readonly onEvent: (event: SseEvent) => void,
    private readonly maxBytes: number,
  ) {}

  /** The ID of the last event dispatched (or announced by an event without data); '' for none. */
  get lastEventId(): string {
    return this.id;
  }

  /** The reconnection delay the server asked for with `retry:`, if it did. */
  get retryMs(): number | undefined {
    return this.retry;
  }

  /** Parses a chunk; throws SseLimitError when a line or an event grows past the limit. */
  push(chunk: Buffer): void {
    let start = 0;
    if (this.afterCr) {
      this.afterCr = false;
      if (chunk[0] === LF) start = 1;
    }
    // Each position is searched for once per chunk, so many short lines cost O(chunk), not O(n²).
    let lf = chunk.indexOf(LF, start);
    let cr = chunk.indexOf(CR, start);
    while (start < chunk.length) {
      if (lf !== -1 && lf < start) lf = chunk.indexOf(LF, start);
      if (cr !== -1 && cr < start) cr = chunk.indexOf(CR, start);
      const end = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
      if (end === -1) {
        this.keep(chunk.subarray(start));
        return;
      }
      this.line(this.take(chunk.subarray(start, end)));
      start = end + 1;
      if (end === cr) {
        if (start === chunk.length) this.afterCr = true;
        else if (chunk[start] === LF) start++;
      }
    }
  }

  /** The stream ended: an event without its closing blank line is dropped, as the standard says. */
  end(): void {
    this.partial = [];
    this.partialBytes = 0;
    this.data = undefined;
    this.dataBytes = 0;
    this.type = '';
  }

  private keep(part: Buffer): void {
    this.partialBytes += part.length;
    if (this.partialBytes > this.maxBytes) throw this.tooLong();
    this.partial.push(part);
  }

  private take(tail: Buffer): Buffer {
    if (this.partial.length === 0) {
      if (tail.length > this.maxBytes) throw this.tooLong();
      return tail;
    }
    this.keep(tail);
    const whole = Buffer.concat(this.partial, this.partialBytes);
    this.partial = [];
    this.partialBytes = 0;
    return whole;
  }

  private tooLong(): SseLimitError {
    return new SseLimitError(`an event stream line is longer than ${this.maxBytes} bytes`);
  }

  private line(bytes: Buffer): void {
    if (bytes.length === 0) return this.dispatch();
    let text = bytes.toString('utf8');
    if (this.firstLine) {
      this.firstLine = false;
      if (text.charCodeAt(0) === BOM) text = text.slice(1);
    }
    if (text.charCodeAt(0) === 0x3a) return; // ':' starts a comment (keep-alives)
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    switch (field) {
      case 'data':
        this.dataBytes += bytes.length;
        if (this.dataBytes > this.maxBytes)
          throw new SseLimitError(`an event is larger than ${this.maxBytes} bytes`);
        this.data = this.data === undefined ? value : `${this.data}\n${value}`;
        return;
      case 'event':
        this.type = value;
        return;
      case 'id':
        if (!value.includes('\0')) this.idBuffer = value;
        return;
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.retry = Number(value);
        return;
      default: // unknown fields are ignored
    }
  }

  private dispatch(): void {
    this.id = this.idBuffer;
    const data = this.data;
    const type = this.type || 'message';
    this.data = undefined;
    this.dataBytes = 0;
    this.type = '';
    if (data !== undefined) this.onEvent({ type, data, id: this.id });
  }
}
