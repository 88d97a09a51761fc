import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  formatCheckpoint,
  parseCheckpoint,
  parseCheckpointBody,
  signCheckpoint,
  verifyCheckpoint,
} from '../../src/verify/checkpoint.js';
import { EvidenceFormatError } from '../../src/verify/format-error.js';
import { EMPTY_ROOT, leafHash, rootOf } from '../../src/verify/merkle.js';
import { keyId, parseVerifierKey, signNote, verifierKeyString } from '../../src/verify/note.js';

const ORIGIN = 'writ.example/ledger/main';
const log = generateKeyPairSync('ed25519');
const signer = { name: ORIGIN, privateKey: log.privateKey };
const key = { name: ORIGIN, publicKey: log.publicKey };
const root = rootOf(Array.from({ length: 5 }, (_, i) => leafHash(Buffer.from(`record ${i}`))));
const BODY = formatCheckpoint({ origin: ORIGIN, size: 5, root });
const signed = signCheckpoint(BODY, signer);

const codeOf = (verdict: ReturnType<typeof verifyCheckpoint>): string => (verdict.ok ? 'ok' : verdict.code);
const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * The checkpoint with one body line replaced and validly signed by the log's own key (as a
 * careless signer bypassing signCheckpoint's checks would), so only the format can be at fault.
 */
function signedWithLine(index: number, line: string): string {
  const lines = BODY.split('\n');
  lines[index] = line;
  return signNote(lines.join('\n'), signer);
}

/** Base64 text with the 6-bit value of character `at` changed by `xor`. */
function alterBase64(text: string, at: number, xor: number): string {
  return text.slice(0, at) + BASE64_ALPHABET[BASE64_ALPHABET.indexOf(text[at]!) ^ xor]! + text.slice(at + 1);
}

describe('a signed checkpoint', () => {
  test('has the C2SP layout: origin, size, base64 root, blank line, em-dash signature line', () => {
    const [origin, size, rootLine, blank, signature, end] = signed.split('\n');
    assert.equal(origin, ORIGIN);
    assert.equal(size, '5');
    assert.equal(rootLine, root.toString('base64'));
    assert.equal(blank, '');
    assert.match(signature!, /^\u2014 writ\.example\/ledger\/main [A-Za-z0-9+/]{91}=$/);
    assert.deepEqual(Buffer.from(signature!.split(' ')[2]!, 'base64').subarray(0, 4), keyId(ORIGIN, log.publicKey));
    assert.equal(end, '');
  });

  test('round-trips through signing, parsing and verifying', () => {
    const verdict = verifyCheckpoint(signed, key, { origin: ORIGIN });
    assert.deepEqual(verdict, { ok: true, checkpoint: { origin: ORIGIN, size: 5, root, extensions: [] } });
    const parsed = parseCheckpoint(signed);
    assert.equal(parsed.body, BODY);
    assert.deepEqual(parsed.checkpoint, { origin: ORIGIN, size: 5, root, extensions: [] });
    assert.equal(verifyCheckpoint(Buffer.from(signed, 'utf8'), key).ok, true, 'bytes are accepted as UTF-8');
  });

  test('round-trips any origin, size, root and extension lines', () => {
    const line = fc
      .string({ minLength: 1, maxLength: 20, unit: 'grapheme' })
      .filter((text) => !/[\u0000-\u001f]/.test(text));
    fc.assert(
      fc.property(
        line,
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.array(line, { maxLength: 3 }),
        (origin, size, rootBytes, extensions) => {
          const text = signCheckpoint(formatCheckpoint({ origin, size, root: rootBytes, extensions }), signer);
          const verdict = verifyCheckpoint(text, key);
          assert.deepEqual(verdict, {
            ok: true,
            checkpoint: { origin, size, root: Buffer.from(rootBytes), extensions },
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  test('of the empty tree carries size 0 and the empty root', () => {
    const text = signCheckpoint(formatCheckpoint({ origin: ORIGIN, size: 0, root: EMPTY_ROOT }), signer);
    assert.match(text, /^writ\.example\/ledger\/main\n0\n47DEQpj8HBSa\+\/TImW\+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n/);
    assert.equal(verifyCheckpoint(text, key).ok, true);
  });

  test('is refused after any single byte of it changes', () => {
    const bytes = Buffer.from(signed, 'utf8');
    fc.assert(
      fc.property(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (position, delta) => {
        const changed = Buffer.from(bytes);
        changed[position] = (changed[position]! + delta) % 256;
        const verdict = verifyCheckpoint(changed, key);
        assert.equal(verdict.ok, false, `byte ${position} changed by ${delta}`);
      }),
      { numRuns: 2000 },
    );
  });

  test('is refused after any change to the signature characters, including ones base64 would ignore', () => {
    const start = signed.lastIndexOf(' ') + 1;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ ';
    const accepted: string[] = [];
    for (let i = start; i < signed.length - 1; i++) {
      for (const c of alphabet) {
        if (c === signed[i]) continue;
        const changed = signed.slice(0, i) + c + signed.slice(i + 1);
        if (verifyCheckpoint(changed, key).ok) accepted.push(`${i}:${c}`);
      }
    }
    assert.deepEqual(accepted, []);
  });

  test('by another key, or under another name, is UNKNOWN_KEY', () => {
    const other = generateKeyPairSync('ed25519');
    assert.equal(codeOf(verifyCheckpoint(signed, { name: ORIGIN, publicKey: other.publicKey })), 'UNKNOWN_KEY');
    assert.equal(
      codeOf(verifyCheckpoint(signed, { name: 'writ.example/other', publicKey: log.publicKey })),
      'UNKNOWN_KEY',
    );
  });

  test('whose signature line names this key but was made by another is BAD_SIGNATURE', () => {
    const forger = generateKeyPairSync('ed25519');
    const forged = signCheckpoint(formatCheckpoint({ origin: ORIGIN, size: 6, root }), {
      name: ORIGIN,
      privateKey: forger.privateKey,
    });
    const [body, line] = forged.split('\n\n') as [string, string];
    const signature = Buffer.from(line.trimEnd().split(' ')[2]!, 'base64');
    keyId(ORIGIN, log.publicKey).copy(signature);
    const relabelled = `${body}\n\n\u2014 ${ORIGIN} ${signature.toString('base64')}\n`;
    assert.equal(codeOf(verifyCheckpoint(relabelled, key)), 'BAD_SIGNATURE');
  });

  test("is accepted with others' cosignatures beside it, and refused if any copy of its own signature is bad", () => {
    const witness = generateKeyPairSync('ed25519');
    const cosigned =
      signed +
      signCheckpoint(parseCheckpoint(signed).body, { name: 'witness.example', privateKey: witness.privateKey }).split(
        '\n\n',
      )[1];
    assert.equal(verifyCheckpoint(cosigned, key).ok, true);
    assert.equal(verifyCheckpoint(cosigned, { name: 'witness.example', publicKey: witness.publicKey }).ok, true);
    const ownLine = signed.split('\n\n')[1]!;
    const signatureStart = ownLine.lastIndexOf(' ') + 1;
    const badCopy = ownLine.slice(0, signatureStart) + alterBase64(ownLine.slice(signatureStart), 40, 1);
    assert.equal(codeOf(verifyCheckpoint(signed + badCopy, key)), 'BAD_SIGNATURE');
    assert.equal(verifyCheckpoint(signed + ownLine, key).ok, true, 'a repeated good signature is harmless');
  });

  test('from another origin than expected is WRONG_ORIGIN', () => {
    assert.equal(codeOf(verifyCheckpoint(signed, key, { origin: 'writ.example/ledger/other' })), 'WRONG_ORIGIN');
  });
});

describe('a malformed checkpoint', () => {
  const cases: Array<[string, string | Uint8Array]> = [
    ['with CRLF line ends', signed.replaceAll('\n', '\r\n')],
    ['with one CR before a newline', signed.replace('\n', '\r\n')],
    ['without its final newline', signed.slice(0, -1)],
    ['without a blank line before the signatures', signed.replace('\n\n', '\n')],
    ['without signatures', signed.slice(0, signed.indexOf('\n\n') + 2)],
    ['with an empty origin', signedWithLine(0, '')],
    ['with a tab in the origin', signed.replace(`${ORIGIN}\n`, 'writ\tledger\n')],
    ['with a size with a leading zero', signedWithLine(1, '05')],
    ['with a size with a sign', signedWithLine(1, '+5')],
    ['with a negative size', signedWithLine(1, '-5')],
    ['with a fractional size', signedWithLine(1, '5.0')],
    ['with a size in hex', signedWithLine(1, '0x5')],
    ['with spaces around the size', signedWithLine(1, ' 5')],
    ['with a size beyond 2^53 - 1', signedWithLine(1, '9007199254740992')],
    ['with an empty size', signedWithLine(1, '')],
    ['with a root in URL-safe base64', signedWithLine(2, Buffer.alloc(32, 0xfb).toString('base64url') + '=')],
    ['with a root without padding', signedWithLine(2, root.toString('base64').replace('=', ''))],
    ['with a root with stray low bits', signedWithLine(2, alterBase64(root.toString('base64'), 42, 1))],
    ['with a root of 31 bytes', signedWithLine(2, root.subarray(1).toString('base64'))],
    ['with a root in hex', signedWithLine(2, root.toString('hex'))],
    ['with only two lines', signed.replace(`${root.toString('base64')}\n`, '')],
    ['with an empty extension line', signed.replace('\n\n', '\n\n\n')],
    ['with an em dash missing', signed.replace('\u2014 ', '- ')],
    ['with a signature that is not base64', signed.replace(/ [^ ]+\n$/, ' not*base64\n')],
    ['with a signature too short to hold a key id', signed.replace(/ [^ ]+\n$/, ' AAAAAA==\n')],
    ['with a key name containing a plus', signed.replace(`\u2014 ${ORIGIN}`, '\u2014 writ+ledger')],
    ['with a lone surrogate', signed.replace(ORIGIN, `${ORIGIN}\ud800`)],
    [
      'in bytes that are not UTF-8',
      Buffer.concat([Buffer.from(signed.slice(0, 4)), Buffer.from([0xc3, 0x28]), Buffer.from(signed.slice(4))]),
    ],
    ['with 101 signatures', signed + signed.split('\n\n')[1]!.repeat(100)],
  ];

  for (const [what, text] of cases) {
    test(`${what} is MALFORMED`, () => {
      const verdict = verifyCheckpoint(text, key);
      assert.equal(codeOf(verdict), 'MALFORMED', verdict.ok ? 'accepted' : verdict.reason);
      assert.throws(() => parseCheckpoint(text), EvidenceFormatError);
    });
  }

  test('whose root is a second spelling of the right bytes is still MALFORMED', () => {
    const spelling = alterBase64(root.toString('base64'), 42, 1);
    assert.notEqual(spelling, root.toString('base64'));
    assert.deepEqual(Buffer.from(spelling, 'base64'), root, "Node's own decoder would read the same root");
    assert.equal(codeOf(verifyCheckpoint(signedWithLine(2, spelling), key)), 'MALFORMED');
  });

  test('is never signed: formatCheckpoint and signCheckpoint refuse to produce one', () => {
    assert.throws(() => formatCheckpoint({ origin: '', size: 1, root }), EvidenceFormatError);
    assert.throws(() => formatCheckpoint({ origin: 'a\n2', size: 1, root }), EvidenceFormatError);
    assert.throws(() => formatCheckpoint({ origin: ORIGIN, size: -1, root }), EvidenceFormatError);
    assert.throws(() => formatCheckpoint({ origin: ORIGIN, size: 1.5, root }), EvidenceFormatError);
    assert.throws(() => formatCheckpoint({ origin: ORIGIN, size: 1, root: root.subarray(1) }), EvidenceFormatError);
    assert.throws(() => formatCheckpoint({ origin: ORIGIN, size: 1, root, extensions: [''] }), EvidenceFormatError);
    assert.throws(() => signCheckpoint(`${ORIGIN}\n05\n${root.toString('base64')}\n`, signer), EvidenceFormatError);
    assert.throws(() => signCheckpoint(`${ORIGIN}\n5\n${root.toString('base64')}`, signer), EvidenceFormatError);
  });
});

describe('checkpoints from elsewhere', () => {
  test("the C2SP specification's example parses, and is UNKNOWN_KEY without its log's key", () => {
    const example =
      'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n' +
      '\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n';
    const parsed = parseCheckpoint(example);
    assert.equal(parsed.checkpoint.origin, 'example.com/behind-the-sofa');
    assert.equal(parsed.checkpoint.size, 20852163);
    assert.equal(parsed.checkpoint.root.toString('base64'), 'CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=');
    assert.equal(parsed.signatures[0]!.signature.length, 64);
    assert.equal(
      codeOf(verifyCheckpoint(example, { name: 'example.com/behind-the-sofa', publicKey: log.publicKey })),
      'UNKNOWN_KEY',
    );
  });

  test('a checkpoint body alone parses with its extension lines', () => {
    assert.deepEqual(
      parseCheckpointBody(`${ORIGIN}\n0\n${EMPTY_ROOT.toString('base64')}\nextension one\nextension two\n`),
      {
        origin: ORIGIN,
        size: 0,
        root: EMPTY_ROOT,
        extensions: ['extension one', 'extension two'],
      },
    );
  });

  test("a verifier key string configured from a log's public key verifies its checkpoints", () => {
    const configured = parseVerifierKey(verifierKeyString(ORIGIN, log.publicKey));
    assert.equal(verifyCheckpoint(signed, configured, { origin: ORIGIN }).ok, true);
  });
});
