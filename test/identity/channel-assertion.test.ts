import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { describe, test } from 'node:test';
import { SignJWT } from 'jose';
import type { ExpectedDecision, PinnedChannel } from '../../src/verify/channel-assertion.js';
import {
  CHANNEL_ASSERTION_TYPE,
  checkChannelAssertion,
  decisionWordsDigest,
} from '../../src/verify/channel-assertion.js';
import { approverKeyId } from '../../src/verify/decision-signature.js';

const NOW = 1_800_000_000;
const DIGEST = 'a'.repeat(64);

function channelKeys(name = 'writ-serve') {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pinned: PinnedChannel = { name, key: publicKey, keyId: approverKeyId(publicKey) };
  return { privateKey, pinned };
}

const expected: ExpectedDecision = { kind: 'approve', operationId: 'op-1', digest: DIGEST, reason: 'checked' };

async function assertion(
  privateKey: KeyObject,
  pinned: PinnedChannel,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT({
    channel: 'sso',
    decision: 'approve',
    op: 'op-1',
    digest: DIGEST,
    reason_sha256: decisionWordsDigest(expected),
    sub: 'bob',
    jti: randomUUID(),
    ...claims,
  })
    .setProtectedHeader({ alg: 'EdDSA', typ: CHANNEL_ASSERTION_TYPE, kid: pinned.keyId, ...header })
    .setIssuer(pinned.name)
    .setIssuedAt(NOW)
    .setExpirationTime(NOW + 300)
    .sign(privateKey);
}

describe('a channel assertion stands for exactly one decision', () => {
  test('an assertion for this decision, signed by a pinned channel, is accepted with its claims', async () => {
    const { privateKey, pinned } = channelKeys();
    const checked = await checkChannelAssertion(await assertion(privateKey, pinned), [pinned], expected, NOW + 5);
    assert.ok(checked.ok, checked.ok ? '' : checked.problem);
    assert.equal(checked.claims.sub, 'bob');
    assert.equal(checked.channel.name, 'writ-serve');
  });

  const rebinds: Array<[string, Partial<ExpectedDecision>, RegExp]> = [
    ['another operation', { operationId: 'op-2' }, /for operation op-1, not this one/],
    ['another digest', { digest: 'b'.repeat(64) }, /another approval digest/],
    ['another kind of decision', { kind: 'reject' }, /for a approve, not a reject/],
    ['other words', { reason: 'changed my mind' }, /other words than the decision carries/],
  ];
  for (const [what, change, refusal] of rebinds) {
    test(`an assertion made for ${what} is refused`, async () => {
      const { privateKey, pinned } = channelKeys();
      const token = await assertion(privateKey, pinned);
      const checked = await checkChannelAssertion(token, [pinned], { ...expected, ...change }, NOW + 5);
      assert.equal(checked.ok, false);
      assert.match(checked.ok ? '' : checked.problem, refusal);
    });
  }

  test('a key that is not pinned, a forged signature and an old assertion are refused', async () => {
    const { privateKey, pinned } = channelKeys();
    const stranger = channelKeys();
    // Signed by a key nobody pinned, claiming the pinned key's id.
    const forged = await assertion(stranger.privateKey, pinned);
    const forgedCheck = await checkChannelAssertion(forged, [pinned], expected, NOW + 5);
    assert.match(forgedCheck.ok ? '' : forgedCheck.problem, /signature does not verify against writ-serve's key/);
    const unpinned = await checkChannelAssertion(
      await assertion(stranger.privateKey, stranger.pinned),
      [pinned],
      expected,
      NOW + 5,
    );
    assert.match(unpinned.ok ? '' : unpinned.problem, /no pinned Writ channel has the key/);
    const late = await checkChannelAssertion(await assertion(privateKey, pinned), [pinned], expected, NOW + 3600);
    assert.match(late.ok ? '' : late.problem, /too old/);
  });

  test('an unsigned assertion (alg none) and one of another type are refused', async () => {
    const { privateKey, pinned } = channelKeys();
    const signed = await assertion(privateKey, pinned);
    const [, payload] = signed.split('.');
    const noneHeader = Buffer.from(JSON.stringify({ alg: 'none', typ: CHANNEL_ASSERTION_TYPE, kid: pinned.keyId }));
    const unsigned = `${noneHeader.toString('base64url')}.${payload}.`;
    const none = await checkChannelAssertion(unsigned, [pinned], expected, NOW + 5);
    assert.match(none.ok ? '' : none.problem, /signed with none, not EdDSA/);
    const other = await assertion(privateKey, pinned, {}, { typ: 'JWT' });
    const typed = await checkChannelAssertion(other, [pinned], expected, NOW + 5);
    assert.match(typed.ok ? '' : typed.problem, /type is not writ-decision\+jwt/);
  });
});
