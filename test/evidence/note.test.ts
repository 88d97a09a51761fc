import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { EvidenceFormatError } from '../../src/verify/format-error.js';
import {
  ed25519PublicKeyBytes,
  keyId,
  parseNote,
  parseVerifierKey,
  signNote,
  verifierKeyString,
  verifyNote,
} from '../../src/verify/note.js';

/**
 * The reference keys, text and signatures of Go's signed-note implementation, copied from
 * golang.org/x/mod/sumdb/note (note_test.go: TestNewVerifier, TestSign, TestOpen). Ed25519 is
 * deterministic, so signing the same text with the same key must reproduce the same bytes.
 */
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG =
  '\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_SIG =
  '\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';

/** An Ed25519 private key from its 32-byte RFC 8032 seed, wrapped in the fixed PKCS #8 prefix of RFC 8410. */
function ed25519FromSeed(seed: Buffer) {
  return createPrivateKey({
    key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]),
    format: 'der',
    type: 'pkcs8',
  });
}

const peterPrivate = ed25519FromSeed(Buffer.from(PETER_SKEY.split('+').slice(4).join('+'), 'base64').subarray(1));
const peterPublic = createPublicKey(peterPrivate);

describe('signed notes, against the Go reference vectors', () => {
  test('the reference key has the published key id and verifier key', () => {
    assert.equal(keyId('PeterNeumann', peterPublic).toString('hex'), 'c74f20a3');
    assert.equal(verifierKeyString('PeterNeumann', peterPublic), PETER_VKEY);
    assert.equal(
      verifierKeyString('PeterNeumann', peterPrivate),
      PETER_VKEY,
      'the private half gives the same public key',
    );
  });

  test('signing the reference text with the reference key reproduces the published note byte for byte', () => {
    assert.equal(signNote(TEXT, { name: 'PeterNeumann', privateKey: peterPrivate }), `${TEXT}\n${PETER_SIG}`);
  });

  test('both published signatures verify with their published verifier keys, each ignoring the other', () => {
    const note = `${TEXT}\n${PETER_SIG}${ENOCH_SIG}`;
    for (const vkey of [PETER_VKEY, ENOCH_VKEY]) {
      const verdict = verifyNote(note, parseVerifierKey(vkey));
      assert.equal(verdict.ok, true, vkey);
      assert.equal(verdict.ok && verdict.note.text, TEXT);
      assert.equal(verdict.ok && verdict.note.signatures.length, 2);
    }
  });

  test('a verifier key round-trips through its string form', () => {
    const key = parseVerifierKey(PETER_VKEY);
    assert.equal(key.name, 'PeterNeumann');
    assert.equal(key.keyId.toString('hex'), 'c74f20a3');
    assert.deepEqual(ed25519PublicKeyBytes(key.publicKey), ed25519PublicKeyBytes(peterPublic));
    assert.equal(verifierKeyString(key.name, key.publicKey), PETER_VKEY);
  });

  test('every shortened or single-character-altered verifier key is refused', () => {
    const refused = (text: string): boolean => {
      try {
        parseVerifierKey(text);
        return false;
      } catch (error) {
        return error instanceof EvidenceFormatError;
      }
    };
    const accepted: string[] = [];
    for (let i = 0; i <= PETER_VKEY.length; i++) {
      for (let j = i + 1; j <= PETER_VKEY.length; j++) {
        if ((i !== 0 || j !== PETER_VKEY.length) && !refused(PETER_VKEY.slice(i, j)))
          accepted.push(PETER_VKEY.slice(i, j));
      }
    }
    for (let i = 0; i < PETER_VKEY.length; i++) {
      const altered =
        PETER_VKEY.slice(0, i) + String.fromCharCode(PETER_VKEY.charCodeAt(i) + 1) + PETER_VKEY.slice(i + 1);
      if (!refused(altered)) accepted.push(altered);
    }
    // From Go's test: a key of the wrong length and an unknown algorithm, each with a matching key id.
    for (const bad of [
      'PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==',
      'PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
    ]) {
      if (!refused(bad)) accepted.push(bad);
    }
    assert.deepEqual(accepted, []);
  });

  test("the malformed messages of Go's Open test are refused as MALFORMED", () => {
    const bad: Array<string | Uint8Array> = [
      TEXT,
      `${TEXT}\n`,
      `${TEXT}\n${PETER_SIG.slice(0, -1)}`,
      `\u0001${TEXT}\n${PETER_SIG}`,
      Buffer.concat([Buffer.from([0xff]), Buffer.from(`${TEXT}\n${PETER_SIG}`)]),
      `${TEXT}\n\u2014 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=`,
      `${TEXT}\n${PETER_SIG}Unexpected line.\n`,
      `${TEXT}\n${PETER_SIG.repeat(101)}`,
    ];
    for (const message of bad) {
      const verdict = verifyNote(message, parseVerifierKey(PETER_VKEY));
      assert.equal(verdict.ok ? 'ok' : verdict.code, 'MALFORMED', JSON.stringify(message.toString()));
    }
  });

  test('a signature by the right key over other text is BAD_SIGNATURE', () => {
    const verdict = verifyNote(
      `${TEXT.replace('cryptography', 'cryptographY')}\n${PETER_SIG}`,
      parseVerifierKey(PETER_VKEY),
    );
    assert.equal(verdict.ok ? 'ok' : verdict.code, 'BAD_SIGNATURE');
  });
});

describe('signed-note key ids', () => {
  test('are the first four bytes of SHA-256(name || 0x0A || 0x01 || 32-byte public key)', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from('writ.example/log'), Buffer.from([0x0a, 0x01]), raw]))
      .digest()
      .subarray(0, 4);
    assert.equal(raw.length, 32);
    assert.deepEqual(keyId('writ.example/log', publicKey), expected);
    const vkey = verifierKeyString('writ.example/log', publicKey);
    assert.equal(
      vkey,
      `writ.example/log+${expected.toString('hex')}+${Buffer.concat([Buffer.from([1]), raw]).toString('base64')}`,
    );
    assert.equal(verifierKeyString('writ.example/log', parseVerifierKey(vkey).publicKey), vkey);
  });

  test('are refused for names that would break a signature line, and for keys that are not Ed25519', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    for (const name of ['', 'a b', 'a+b', 'tab\there', 'nbsp\u00a0here', 'line\u2028sep']) {
      assert.throws(() => keyId(name, publicKey), TypeError, JSON.stringify(name));
    }
    assert.throws(() => keyId('writ', generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey), TypeError);
  });

  test('parseNote keeps the text exactly, final newline included, and splits at the last blank line', () => {
    const note = parseNote(`first\n\nsecond\n\n${PETER_SIG}`);
    assert.equal(note.text, 'first\n\nsecond\n');
    assert.equal(note.signatures.length, 1);
    assert.equal(note.signatures[0]!.name, 'PeterNeumann');
    assert.equal(note.signatures[0]!.keyId.toString('hex'), 'c74f20a3');
    assert.equal(note.signatures[0]!.signature.length, 64);
  });
});
