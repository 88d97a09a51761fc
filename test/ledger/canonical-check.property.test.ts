import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { canonicalText } from '../../src/verify/canonical.js';
import { RECORD_MEMBERS, canonicalProblem, scanCanonical } from '../../src/verify/canonical-check.js';

const json = fc.jsonValue({ stringUnit: 'grapheme', maxDepth: 4 });
const problem = (text: string) => canonicalProblem(Buffer.from(text, 'utf8'));

/** The reference: bytes are canonical when re-serialising what they parse to gives them back. */
function reference(text: string): boolean {
  try {
    return canonicalText(JSON.parse(text)) === text;
  } catch {
    return false;
  }
}

/** Ways a writer could spell the same JSON (or seem to) with bytes that are not canonical. */
const respelling = fc.oneof(
  fc.record({ kind: fc.constant('indent' as const), indent: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant('reorder' as const), seed: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), seed: fc.nat() }),
  fc.record({
    kind: fc.constant('number' as const),
    seed: fc.nat(),
    form: fc.constantFrom('0$&', '$&.0', '$&e0', '$&E+00', '$&0000000000000000000001'),
  }),
  fc.record({
    kind: fc.constant('escape' as const),
    seed: fc.nat(),
    form: fc.constantFrom('\\u0061', '\\/', '\\u000a', '\\u001F', '\\ud83d\\ude00'),
  }),
);

interface Respelling {
  kind: string;
  seed?: number;
  indent?: number;
  form?: string;
}

function respell(value: unknown, how: Respelling): string {
  const text = canonicalText(value);
  const seed = typeof how.seed === 'number' ? how.seed : 0;
  switch (how.kind) {
    case 'indent':
      return JSON.stringify(JSON.parse(text), null, how.indent);
    case 'reorder':
      return JSON.stringify(reorder(JSON.parse(text), seed));
    case 'duplicate': {
      // Repeat the first member of some object with another value: `{"a":1}` -> `{"a":0,"a":1}`.
      const members = [...text.matchAll(/\{("(?:[^"\\]|\\.)*"):/g)];
      const member = members[seed % Math.max(members.length, 1)];
      if (!member) return `{"outcome":"failed","outcome":${text}}`;
      const at = member.index + 1;
      return `${text.slice(0, at)}${member[1]}:"${seed}",${text.slice(at)}`;
    }
    case 'number': {
      let n = 0;
      const count = [...text.matchAll(/(?<=[:[,])-?\d+(?=[,\]}])/g)].length || 1;
      return text.replace(/(?<=[:[,])-?\d+(?=[,\]}])/g, (digits) =>
        n++ === seed % count ? (how.form ?? '').replace('$&', digits) : digits,
      );
    }
    case 'escape': {
      const at = text.indexOf('"');
      return at < 0 ? `["${how.form ?? ''}"]` : `${text.slice(0, at + 1)}${how.form ?? ''}${text.slice(at + 1)}`;
    }
    default:
      return text;
  }
}

function reorder(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((inner) => reorder(inner, seed));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value).map(([key, inner]) => [key, reorder(inner, seed)] as const);
  const k = entries.length ? seed % entries.length : 0;
  return Object.fromEntries([...entries.slice(k), ...entries.slice(0, k)].reverse());
}

describe('the canonical-bytes check', () => {
  test('accepts the RFC 8785 serialisation of any JSON value', () => {
    fc.assert(
      fc.property(json, (value) => assert.equal(problem(canonicalText(value)), null)),
      { numRuns: 3000 },
    );
  });

  test('agrees with re-serialising whatever the bytes parse to, for every respelling', () => {
    let refused = 0;
    fc.assert(
      fc.property(json, respelling, (value, how) => {
        const text = respell(value, how);
        const found = problem(text);
        assert.equal(found === null, reference(text), `${JSON.stringify(text)}: check says ${found ?? 'canonical'}`);
        if (found !== null) refused++;
      }),
      { numRuns: 5000 },
    );
    // Most respellings change the bytes; the agreement must not come from both saying "canonical".
    assert.ok(refused > 2500, `only ${refused} of 5000 respellings were refused`);
  });

  test('when a key is given twice, it names the key and where it is', () => {
    const text = '{"payload":{"outcome":"failed","outcome":"succeeded"},"type":"operation.closed"}';
    assert.equal(problem(text), 'duplicate key "outcome" (at payload)');
    assert.match(problem('{"a":1,"b":2,"a":3}') ?? '', /^duplicate key "a"/);
  });

  test('when the bytes differ from the canonical form in any other way, it says how', () => {
    assert.match(problem('{"b":1,"a":2}') ?? '', /not in RFC 8785 order/);
    assert.match(problem('{"a": 1}') ?? '', /whitespace/);
    assert.match(problem('{"a":1.0}') ?? '', /1\.0 is written 1/);
    assert.match(problem('{"a":1e400}') ?? '', /beyond/);
    assert.match(problem('{"a":0.10000000000000000001}') ?? '', /is written 0\.1/);
    assert.match(problem('["\\u0041"]') ?? '', /needless escape/);
    assert.match(problem('{"a":1}\n') ?? '', /more after/);
    assert.match(canonicalProblem(Buffer.from([0x22, 0xc3, 0x22])) ?? '', /UTF-8/);
    assert.match(problem('{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000)) ?? '', /nested too deeply/);
  });

  test('reads the members a verifier needs from the bytes as JSON.parse reads them, at the top level only', () => {
    // Each member present or not, with any JSON value; the same names nested, as decoys.
    const member = fc.option(json, { nil: undefined });
    const record = fc.record(
      {
        v: member,
        chain: member,
        operationId: member,
        type: member,
        state: member,
        payload: member,
        nested: fc.dictionary(fc.constantFrom(...RECORD_MEMBERS), json),
        other: json,
      },
      { requiredKeys: ['nested'] },
    );
    fc.assert(
      fc.property(record, (value) => {
        const text = canonicalText(value);
        const scan = scanCanonical(Buffer.from(text, 'utf8'));
        assert.equal(scan.problem, null);
        const parsed = JSON.parse(text) as Record<string, unknown>;
        for (const name of RECORD_MEMBERS) assert.deepEqual(scan.members.read(name), parsed[name], name);
      }),
      { numRuns: 3000 },
    );
    // Strings with escapes take JSON.parse's path; plain strings and numbers the short one.
    const escaped = scanCanonical(Buffer.from('{"chain":"a\\"b\\n","state":"ok","v":-1.5e-7}', 'utf8'));
    assert.equal(escaped.problem, null);
    assert.equal(escaped.members.read('chain'), 'a"b\n');
    assert.equal(escaped.members.read('state'), 'ok');
    assert.equal(escaped.members.read('v'), -1.5e-7);
    assert.equal(escaped.members.read('type'), undefined);
  });
});
