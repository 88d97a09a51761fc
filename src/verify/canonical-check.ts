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
  return scanCanonical(bytes).problem;
}

/** The top-level members a verifier reads of every record: its format and its lifecycle facts. */
export const RECORD_MEMBERS = ['v', 'chain', 'operationId', 'type', 'state', 'payload'] as const;
export type RecordMember = (typeof RECORD_MEMBERS)[number];

// A copy per record of a packed array is cheaper than building one.
const NO_SPANS: readonly number[] = RECORD_MEMBERS.flatMap(() => [-1, -1]);

/**
 * Where the scan found the top-level members of RECORD_MEMBERS, so a verifier reads them from the
 * proven bytes without parsing the record: each is parsed alone, when asked for.
 */
export class RecordMembers {
  /** Per member of RECORD_MEMBERS: the start and end of its value's text, -1 when absent. */
  readonly spans: number[] = NO_SPANS.slice();

  constructor(private readonly text: string) {}

  /** The member's value, or undefined when the record has none. */
  read(name: RecordMember): unknown {
    const index = RECORD_MEMBERS.indexOf(name) * 2;
    const start = this.spans[index]!;
    if (start < 0) return undefined;
    const end = this.spans[index + 1]!;
    const first = this.text.charCodeAt(start);
    // The scan proved the value canonical: a string without a backslash is its text between the
    // quotes, and a number reads the same to Number as to JSON.parse. These are nearly all reads.
    if (first === 0x22) {
      const inner = this.text.slice(start + 1, end - 1);
      if (!inner.includes('\\')) return inner;
    } else if (first === 0x2d || (first >= 0x30 && first <= 0x39)) {
      return Number(this.text.slice(start, end));
    }
    return JSON.parse(this.text.slice(start, end));
  }
}

/** A scan's verdict, and when the bytes are canonical, where the members a verifier reads are. */
export interface CanonicalScan {
  problem: string | null;
  members: RecordMembers;
}

/** `decoded`: the bytes as strict UTF-8, nothing dropped (a byte order mark kept), when the caller has them. */
export function scanCanonical(bytes: Uint8Array, decoded?: string): CanonicalScan {
  const text = decoded ?? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  const members = new RecordMembers(text);
  // Invalid UTF-8 decodes to U+FFFD; only when one is present is the slower round trip needed.
  if (text.includes('\uFFFD') && !Buffer.from(text, 'utf8').equals(bytes))
    return { problem: 'the bytes are not valid UTF-8', members };
  const scanner = new Scanner(text, members);
  try {
    scanner.value();
    if (scanner.at !== text.length) scanner.fail('there is more after the JSON value');
    return { problem: null, members };
  } catch (error) {
    if (error instanceof NotCanonical)
      return {
        problem: error.path.length ? `${error.message} (at ${error.path.join('.')})` : error.message,
        members,
      };
    if (error instanceof RangeError) return { problem: 'the JSON is nested too deeply to be checked', members };
    throw error;
  }
}

/** Indexes into RECORD_MEMBERS by name length: most keys are ruled out by their length alone. */
const MEMBERS_BY_LENGTH: number[][] = [];
RECORD_MEMBERS.forEach((name, index) => (MEMBERS_BY_LENGTH[name.length] ??= []).push(index));

/** The index into RECORD_MEMBERS of the key text[start, end), or -1: nothing allocated. */
function memberIndex(text: string, start: number, end: number): number {
  const candidates = MEMBERS_BY_LENGTH[end - start];
  if (candidates === undefined) return -1;
  for (const index of candidates) if (text.startsWith(RECORD_MEMBERS[index]!, start)) return index;
  return -1;
}

class NotCanonical extends WritError {
  readonly path: string[] = [];
  constructor(message: string) {
    super('NOT_CANONICAL', message);
  }
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
// An integer of at most 15 digits is exactly representable and written back digit for digit.
const SHORT_INTEGER = /-?[1-9][0-9]{0,14}(?![.eE0-9])/y;
const SHORT_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
// Control characters RFC 8785 writes with a two-character escape, never as \u00XX.
const HAS_SHORT_ESCAPE = new Set([0x08, 0x09, 0x0a, 0x0c, 0x0d]);

/**
 * A key as the scanner saw it: where its text lies, and its decoded value only when it held an
 * escape. Keys without escapes (nearly all) are compared where they lie, with nothing allocated.
 */
interface KeySpan {
  start: number;
  end: number;
  decoded: string | null;
}

class Scanner {
  at = 0;
  /** Set by string(true): the decoded key when it held an escape, else null. */
  private keyDecoded: string | null = null;

  constructor(
    private readonly text: string,
    /** Filled for the top-level object only. */
    private readonly members: RecordMembers | null = null,
  ) {}

  fail(message: string): never {
    throw new NotCanonical(message);
  }

  value(): void {
    const c = this.text.charCodeAt(this.at);
    if (c === 0x22) return this.string(false);
    if (c === 0x7b) return this.object();
    if (c === 0x5b) return this.array();
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
    const opening = this.at++;
    if (this.text.charCodeAt(this.at) === 0x7d) {
      this.at++;
      return;
    }
    // Two spans, swapped each member, rather than one object per key.
    let key: KeySpan = { start: 0, end: 0, decoded: null };
    let previous: KeySpan = { start: 0, end: 0, decoded: null };
    for (let first = true; ; first = false) {
      if (this.text.charCodeAt(this.at) !== 0x22)
        this.fail(this.isWhitespace() ? 'whitespace outside a string' : `expected a key at character ${this.at}`);
      key.start = this.at + 1;
      this.string(true);
      key.end = this.at - 1;
      key.decoded = this.keyDecoded;
      // RFC 8785 sorts keys by UTF-16 code units, which is how JavaScript compares strings.
      if (!first && this.compareKeys(key, previous) <= 0) this.misordered(opening, key, previous);
      this.expect(0x3a, ':');
      const valueStart = this.at;
      try {
        this.value();
      } catch (error) {
        if (error instanceof NotCanonical) error.path.unshift(this.keyText(key));
        throw error;
      }
      if (opening === 0 && this.members !== null && key.decoded === null) {
        const index = memberIndex(this.text, key.start, key.end);
        if (index >= 0) {
          this.members.spans[index * 2] = valueStart;
          this.members.spans[index * 2 + 1] = this.at;
        }
      }
      [key, previous] = [previous, key];
      const c = this.text.charCodeAt(this.at++);
      if (c === 0x7d) return;
      if (c !== 0x2c) this.unexpected(c, '"," or "}"');
    }
  }

  private keyText(key: KeySpan): string {
    return key.decoded ?? this.text.slice(key.start, key.end);
  }

  private compareKeys(a: KeySpan, b: KeySpan): number {
    if (a.decoded !== null || b.decoded !== null) {
      const left = this.keyText(a);
      const right = this.keyText(b);
      return left < right ? -1 : left === right ? 0 : 1;
    }
    const text = this.text;
    const length = Math.min(a.end - a.start, b.end - b.start);
    for (let i = 0; i < length; i++) {
      const difference = text.charCodeAt(a.start + i) - text.charCodeAt(b.start + i);
      if (difference !== 0) return difference;
    }
    return a.end - a.start - (b.end - b.start);
  }

  /** Says whether a key out of order repeats an earlier one of its object, which is read again to tell. */
  private misordered(opening: number, key: KeySpan, previous: KeySpan): never {
    const text = this.keyText(key);
    const earlier = new Scanner(this.text);
    earlier.at = opening + 1;
    let duplicate = false;
    while (earlier.at < key.start - 1 && !duplicate) {
      const start = earlier.at + 1;
      earlier.string(true);
      duplicate = (earlier.keyDecoded ?? this.text.slice(start, earlier.at - 1)) === text;
      earlier.at++; // the colon
      earlier.value();
      earlier.at++; // the comma
    }
    this.fail(
      duplicate
        ? `duplicate key ${JSON.stringify(text)}`
        : `key ${JSON.stringify(text)} comes after ${JSON.stringify(this.keyText(previous))}: keys are not in RFC 8785 order`,
    );
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

  /**
   * The cursor is on the opening quote and ends after the closing one. With `decode` (keys), the
   * decoded key is left in keyDecoded when the key held an escape; without one it stays null.
   */
  private string(decode: boolean): void {
    const text = this.text;
    let run = ++this.at;
    let decoded: string | null = null;
    for (;;) {
      let c = text.charCodeAt(this.at);
      while (c >= 0x20 && c !== 0x22 && c !== 0x5c) c = text.charCodeAt(++this.at);
      if (c === 0x22) {
        if (decode) this.keyDecoded = decoded === null ? null : decoded + text.slice(run, this.at);
        this.at++;
        return;
      }
      if (Number.isNaN(c)) this.fail('a string is not closed');
      if (c < 0x20) this.fail(`a string holds the raw control character U+${hex4(c)}`);
      // A backslash: the only way out of a run besides the quote and a control character.
      const escaped = this.escape();
      if (decode) decoded = (decoded ?? '') + text.slice(run, this.at - escaped.length) + escaped.value;
      run = this.at;
    }
  }

  /** Checks the escape at the cursor and steps over it: its decoded value and how long it was written. */
  private escape(): { value: string; length: number } {
    const letter = this.text[this.at + 1] ?? '';
    const short = SHORT_ESCAPES[letter];
    if (short !== undefined) {
      this.at += 2;
      return { value: short, length: 2 };
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
    return { value: String.fromCharCode(code), length: 6 };
  }

  private number(): void {
    // Zero and short integers are canonical as written: no token, no round trip.
    const c = this.text.charCodeAt(this.at);
    const next = this.text.charCodeAt(this.at + 1);
    if (c === 0x30 && !(next === 0x2e || next === 0x65 || next === 0x45 || (next >= 0x30 && next <= 0x39))) {
      this.at++;
      return;
    }
    SHORT_INTEGER.lastIndex = this.at;
    if (SHORT_INTEGER.test(this.text)) {
      this.at = SHORT_INTEGER.lastIndex;
      return;
    }
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
