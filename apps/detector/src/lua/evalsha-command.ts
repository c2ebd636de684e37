import { Command } from 'ioredis';

function digitCount(n: number): number {
  let len = 1;
  for (let p = 10; p <= n; p *= 10) len++;
  return len;
}

/**
 * Strings from this many characters on (tokens, fingerprints, context JSON) are written by Buffer's
 * native copy; shorter ones byte by byte (a native call costs more than a few characters).
 */
const NATIVE_FROM = 12;

/**
 * Writes RESP bulk strings into one growing scratch buffer, byte by byte for ASCII (tokens,
 * fingerprints, ids, numbers: no intermediate strings, nothing for the collector), through
 * Buffer.write for anything else.
 */
class RespWriter {
  private static scratch = Buffer.allocUnsafe(1 << 20);
  private buf = RespWriter.scratch;
  private o = 0;

  private room(bytes: number): void {
    if (this.o + bytes <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.o + bytes));
    this.buf.copy(bigger, 0, 0, this.o);
    this.buf = RespWriter.scratch = bigger;
  }

  /**
   * writes `n` (a non-negative safe integer of `len` decimal digits) in int32 arithmetic: a
   * millisecond time's low nine digits first (a double's % and / cost several times an int's)
   */
  private digits(n: number, len: number): void {
    const b = this.buf;
    let o = this.o + len;
    this.o = o;
    let m: number;
    if (n > 0x7fffffff) {
      const hi = Math.floor(n / 1e9);
      let lo = (n - hi * 1e9) | 0;
      for (let k = 0; k < 9; k++) {
        b[--o] = 48 + (lo % 10);
        lo = (lo / 10) | 0;
      }
      m = hi | 0;
      if (m === 0) return;
    } else m = n | 0;
    do {
      b[--o] = 48 + (m % 10);
      m = (m / 10) | 0;
    } while (m > 0);
  }

  private crlf(): void {
    this.buf[this.o++] = 13;
    this.buf[this.o++] = 10;
  }

  /** `<c><n>\r\n`: an array (`*`) or bulk string (`$`) header */
  header(c: number, n: number): void {
    this.room(24);
    this.buf[this.o++] = c;
    this.digits(n, digitCount(n));
    this.crlf();
  }

  string(s: string): void {
    const len = s.length;
    this.room(3 * len + 32);
    const b = this.buf;
    const start = this.o;
    // the header assumes one byte a character; `$` and up to 21 digits, then CRLF
    this.header(36, len);
    let o = this.o;
    if (len >= NATIVE_FROM) {
      // ASCII exactly when its UTF-8 is as long as it is: then one latin1 copy, else UTF-8
      const bytes = Buffer.byteLength(s);
      if (bytes !== len) {
        this.o = start;
        this.header(36, bytes);
        o = this.o;
      }
      this.o = o + b.write(s, o, bytes, bytes === len ? 'latin1' : 'utf8');
      this.crlf();
      return;
    }
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c > 127) {
        this.o = start;
        this.header(36, Buffer.byteLength(s));
        this.o += b.write(s, this.o, 'utf8');
        this.crlf();
        return;
      }
      b[o++] = c;
    }
    this.o = o;
    this.crlf();
  }

  bytes(v: Buffer): void {
    this.header(36, v.length);
    this.room(v.length + 2);
    this.o += v.copy(this.buf, this.o);
    this.crlf();
  }

  number(n: number): void {
    if (!(Number.isSafeInteger(n) && n >= 0)) return this.string(String(n));
    const len = digitCount(n);
    this.header(36, len);
    this.room(len + 2);
    this.digits(n, len);
    this.crlf();
  }

  /** A copy of what was written (the scratch buffer is reused by the next request). */
  take(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.o));
  }
}

/**
 * The RESP request of `EVALSHA sha numKeys ...keys ...args`, byte for byte what ioredis writes for
 * `evalsha(sha, numKeys, ...keys, ...args)`. Built here in one pass because a round's batch calls
 * carry ~12 arguments per event: ioredis's Command copies them with Array.prototype.flat (~270 ns an
 * argument on Node 20), converts them and concatenates them as strings, about 13 us per event in
 * all (profile of the detector benchmark, issue 13).
 */
export function encodeEvalsha(
  sha: string,
  keys: readonly string[],
  args: readonly (string | number | Buffer)[],
): Buffer {
  const w = new RespWriter();
  w.header(42, 3 + keys.length + args.length);
  w.string('evalsha');
  w.string(sha);
  w.number(keys.length);
  for (let i = 0; i < keys.length; i++) w.string(keys[i]);
  for (let i = 0; i < args.length; i++) {
    const v = args[i];
    if (typeof v === 'number') w.number(v);
    else if (typeof v === 'string') w.string(v);
    else w.bytes(v);
  }
  return w.take();
}

/**
 * An EVALSHA whose request was encoded by encodeEvalsha. ioredis only sees the SHA, the key count
 * and the keys (what a Cluster pipeline needs to find the slot); it writes the encoded request as
 * it is. `buffer`: the reply as a Buffer (a binary reply), else as text like `evalsha`.
 */
export class EncodedEvalsha extends Command {
  private readonly request: Buffer;

  constructor(
    sha: string,
    keys: readonly string[],
    args: readonly (string | number | Buffer)[],
    buffer: boolean,
  ) {
    super('evalsha', [sha, keys.length, ...keys], { replyEncoding: buffer ? null : 'utf8' });
    this.request = encodeEvalsha(sha, keys, args);
  }

  override toWritable(): Buffer {
    return this.request;
  }
}
