import { WritError } from '../model/errors.js';

/**
 * Proves that stored bytes are exactly the RFC 8785 (JCS) serialisation of the JSON they parse
 * to, in one pass over the text and without building the value. Bytes that are not canonical
 * can read two ways: with a key twice (`"outcome":"failed","outcome":"succeeded"`) JSON.parse
 * and jsonb keep the last, other parsers the first, and a number like 1.00000000000000000001 is
 * exact in jsonb but rounded in JavaScript. The hash covers the bytes, so only a check of the
 * bytes themselves can say that everyone reads the same record.
 *
 * Stricter than re-serialising in one respect: an escaped surrogate (`\ud800`) is refused, as
 * the ledger never stores a lone surrogate (jsonb cannot) and RFC 8785 writes pairs as they are.
 */
export function canonicalProblem(bytes: Uint8Array): string | null {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  // Invalid UTF-8 decodes to U+FFFD; only when one is present is the slower round trip needed.
  if (text.includes('\uFFFD') && !Buffer.from(text, 'utf8').equals(bytes)) return 'the bytes are not valid UTF-8';
  const scanner = new Scanner(text);
  try {
    scanner.value();
    if (scanner.at !== text.length) scanner.fail('there is more after the JSON value');
    return null;
  } catch (error) {
    if (error instanceof NotCanonical)
      return error.path.length ? `${error.message} (at ${error.path.join('.')})` : error.message;
    if (error instanceof RangeError) return 'the JSON is nested too deeply to be checked';
    throw error;
  }
}

class NotCanonical extends WritError {
  readonly path: string[] = [];
  constructor(message: string) {
    super('NOT_CANONICAL', message);
  }
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const SHORT_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
// Control characters RFC 8785 writes with a two-character escape, never as \u00XX.
const HAS_SHORT_ESCAPE = new Set([0x08, 0x09, 0x0a, 0x0c, 0x0d]);

class Scanner {
  at = 0;

  constructor(private readonly text: string) {}

  fail(message: string): never {
    throw new NotCanonical(message);
  }

  value(): void {
    const c = this.text.charCodeAt(this.at);
    if (c === 0x7b) return this.object();
    if (c === 0x5b) return this.array();
    if (c === 0x22) {
      this.string(false);
      return;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    const literal = c === 0x74 ? 'true' : c === 0x66 ? 'false' : c === 0x6e ? 'null' : '';
    if (literal && this.text.startsWith(literal, this.at)) {
      this.at += literal.length;
      return;
    }
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.fail('whitespace outside a string');
    this.fail(
      Number.isNaN(c)
        ? 'the JSON ends too early'
        : `unexpected ${JSON.stringify(this.text[this.at])} at character ${this.at}`,
    );
  }

  private object(): void {
    this.at++;
    if (this.text.charCodeAt(this.at) === 0x7d) {
      this.at++;
      return;
    }
    const keys: string[] = [];
    for (;;) {
      if (this.text.charCodeAt(this.at) !== 0x22)
        this.fail(this.isWhitespace() ? 'whitespace outside a string' : `expected a key at character ${this.at}`);
      const key = this.string(true);
      const previous = keys[keys.length - 1];
      // RFC 8785 sorts keys by UTF-16 code units, which is how JavaScript compares strings.
      if (previous !== undefined && key <= previous) {
        this.fail(
          keys.includes(key)
            ? `duplicate key ${JSON.stringify(key)}`
            : `key ${JSON.stringify(key)} comes after ${JSON.stringify(previous)}: keys are not in RFC 8785 order`,
        );
      }
      keys.push(key);
      this.expect(0x3a, ':');
      try {
        this.value();
      } catch (error) {
        if (error instanceof NotCanonical) error.path.unshift(key);
        throw error;
      }
      const c = this.text.charCodeAt(this.at++);
      if (c === 0x7d) return;
      if (c !== 0x2c) this.unexpected(c, '"," or "}"');
    }
  }

  private array(): void {
    this.at++;
    if (this.text.charCodeAt(this.at) === 0x5d) {
      this.at++;
      return;
    }
    for (let index = 0; ; index++) {
      try {
        this.value();
      } catch (error) {
        if (error instanceof NotCanonical) error.path.unshift(`[${index}]`);
        throw error;
      }
      const c = this.text.charCodeAt(this.at++);
      if (c === 0x5d) return;
      if (c !== 0x2c) this.unexpected(c, '"," or "]"');
    }
  }

  /** The cursor is on the opening quote; returns the decoded string when `decode` (keys), else ''. */
  private string(decode: boolean): string {
    const start = ++this.at;
    let decoded: string | null = null;
    let run = start;
    for (;;) {
      const c = this.text.charCodeAt(this.at);
      if (c === 0x22) {
        if (!decode) {
          this.at++;
          return '';
        }
        const tail = this.text.slice(run, this.at++);
        return decoded === null ? tail : decoded + tail;
      }
      if (Number.isNaN(c)) this.fail('a string is not closed');
      if (c < 0x20) this.fail(`a string holds the raw control character U+${hex4(c)}`);
      if (c !== 0x5c) {
        this.at++;
        continue;
      }
      decoded = (decoded ?? '') + this.text.slice(run, this.at);
      decoded += this.escape();
      run = this.at;
    }
  }

  private escape(): string {
    const letter = this.text[this.at + 1] ?? '';
    const short = SHORT_ESCAPES[letter];
    if (short !== undefined) {
      this.at += 2;
      return short;
    }
    if (letter !== 'u')
      this.fail(letter === '/' ? 'an escaped "/" (RFC 8785 writes it as it is)' : `an invalid escape "\\${letter}"`);
    const digits = this.text.slice(this.at + 2, this.at + 6);
    if (!/^[0-9a-fA-F]{4}$/.test(digits)) this.fail(`an invalid escape "\\u${digits}"`);
    const code = Number.parseInt(digits, 16);
    if (code >= 0xd800 && code <= 0xdfff)
      this.fail(
        `an escaped surrogate "\\u${digits}" (the ledger stores no lone surrogates; RFC 8785 writes pairs as they are)`,
      );
    if (code >= 0x20)
      this.fail(`a needless escape "\\u${digits}" (RFC 8785 escapes only control characters, '"' and "\\")`);
    if (HAS_SHORT_ESCAPE.has(code)) this.fail(`"\\u${digits}" where RFC 8785 writes a two-character escape`);
    if (digits !== digits.toLowerCase()) this.fail(`"\\u${digits}" where RFC 8785 writes lower-case hex`);
    this.at += 6;
    return String.fromCharCode(code);
  }

  private number(): void {
    NUMBER.lastIndex = this.at;
    const token = NUMBER.exec(this.text)?.[0];
    if (!token) this.fail(`an invalid number at character ${this.at}`);
    this.at += token.length;
    const value = Number(token);
    if (!Number.isFinite(value)) this.fail(`the number ${token} is beyond what an IEEE 754 double holds`);
    // RFC 8785 numbers are ECMAScript's Number-to-String, with -0 written 0.
    const canonical = Object.is(value, -0) ? '0' : String(value);
    if (canonical !== token)
      this.fail(
        `the number ${token.length > 40 ? `${token.slice(0, 40)}...` : token} is written ${canonical} in RFC 8785`,
      );
  }

  private expect(code: number, what: string): void {
    const c = this.text.charCodeAt(this.at++);
    if (c !== code) this.unexpected(c, JSON.stringify(what));
  }

  private unexpected(c: number, wanted: string): never {
    this.at--;
    if (this.isWhitespace()) this.fail('whitespace outside a string');
    this.fail(Number.isNaN(c) ? 'the JSON ends too early' : `expected ${wanted} at character ${this.at}`);
  }

  private isWhitespace(): boolean {
    const c = this.text.charCodeAt(this.at);
    return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
  }
}

function hex4(code: number): string {
  return code.toString(16).padStart(4, '0').toUpperCase();
}
