import { createHash, webcrypto } from 'node:crypto';
import * as pkijs from 'pkijs';
import { checkTsaCertificate } from './timestamp-cert.js';

/**
 * RFC 3161 time-stamp tokens, parsed and checked with pkijs: the ASN.1 is never read by hand.
 * A token is a CMS SignedData whose content is a TSTInfo naming the hash it stamps and the time.
 * Pure (no storage), so `writ verify` and the offline bundle verifier share it.
 */
pkijs.setEngine(
  'node-webcrypto',
  new pkijs.CryptoEngine({
    name: 'node-webcrypto',
    crypto: webcrypto as unknown as pkijs.CryptoEngineParameters['crypto'],
  }),
);

export const SHA256_OID = '2.16.840.1.101.3.4.2.1';
const TST_INFO_OID = '1.2.840.113549.1.9.16.1.4';
const OID = /^[0-2](\.(0|[1-9][0-9]*))+$/;

export type TimestampFindingCode =
  | 'TIMESTAMP_MALFORMED'
  | 'TIMESTAMP_OTHER_BYTES'
  | 'TIMESTAMP_UNTRUSTED'
  | 'TIMESTAMP_CERT_PURPOSE'
  | 'TIMESTAMP_CERT_EXPIRED';

export class TimestampError extends Error {
  constructor(
    readonly code: TimestampFindingCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ParsedToken {
  signedData: pkijs.SignedData;
  tstInfo: pkijs.TSTInfo;
  genTime: Date;
  imprint: Buffer;
}

/** The SHA-256 a token for these bytes must stamp: a checkpoint's note as UTF-8. */
export function checkpointDigest(note: string | Uint8Array): Buffer {
  return createHash('sha256')
    .update(typeof note === 'string' ? Buffer.from(note, 'utf8') : note)
    .digest();
}

/** The DER of a TimeStampToken (a ContentInfo) into its SignedData and TSTInfo. */
export function parseToken(der: Uint8Array): ParsedToken {
  try {
    const contentInfo = pkijs.ContentInfo.fromBER(der);
    if (contentInfo.contentType !== pkijs.ContentInfo.SIGNED_DATA) throw new Error('not a CMS SignedData');
    const signedData = new pkijs.SignedData({ schema: contentInfo.content });
    if (signedData.encapContentInfo.eContentType !== TST_INFO_OID) throw new Error('its content is not a TSTInfo');
    const eContent = signedData.encapContentInfo.eContent;
    if (!eContent) throw new Error('its TSTInfo is missing');
    const tstInfo = pkijs.TSTInfo.fromBER(eContent.getValue());
    checkTstInfo(tstInfo);
    return {
      signedData,
      tstInfo,
      genTime: tstInfo.genTime,
      imprint: Buffer.from(tstInfo.messageImprint.hashedMessage.valueBlock.valueHexView),
    };
  } catch (error) {
    throw new TimestampError('TIMESTAMP_MALFORMED', `not an RFC 3161 time-stamp token: ${(error as Error).message}`);
  }
}

/** RFC 3161 section 2.4.2: version 1, a policy, a SHA-256 imprint, a nonce (if any) a positive integer. */
function checkTstInfo(tstInfo: pkijs.TSTInfo): void {
  if (tstInfo.version !== 1) throw new Error(`its TSTInfo has version ${tstInfo.version}, not 1`);
  if (typeof tstInfo.policy !== 'string' || !OID.test(tstInfo.policy))
    throw new Error('its TSTInfo names no policy object identifier');
  if (tstInfo.messageImprint.hashAlgorithm.algorithmId !== SHA256_OID)
    throw new Error(`it stamps a ${tstInfo.messageImprint.hashAlgorithm.algorithmId} hash, not SHA-256`);
  if (tstInfo.messageImprint.hashedMessage.valueBlock.valueHexView.length !== 32)
    throw new Error('its message imprint is not 32 bytes');
  if (Number.isNaN(tstInfo.genTime.getTime())) throw new Error('its genTime is not a time');
  const nonce = tstInfo.nonce?.valueBlock.valueHexView;
  if (nonce && (nonce.length === 0 || (nonce[0]! & 0x80) !== 0)) throw new Error('its nonce is not a positive integer');
}

/** The operator's pinned TSA certificate, from PEM. */
export function parseTsaCertificate(pem: string): pkijs.Certificate {
  const match = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem);
  if (!match) throw new Error('the TSA certificate is not a PEM certificate');
  return pkijs.Certificate.fromBER(Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64'));
}

/**
 * Checks that the token stamps exactly `stamped` (by its SHA-256), was signed by the pinned
 * certificate's key, and that the certificate was one for time-stamping, valid at the token's time.
 * The token's own certificates are set aside: the signer is looked up among the pinned one only,
 * so a token from any other authority fails however well it chains to its own CA.
 */
export async function checkToken(
  der: Uint8Array,
  stamped: Uint8Array,
  pinned: pkijs.Certificate,
): Promise<ParsedToken> {
  const parsed = parseToken(der);
  const sha256 = checkpointDigest(stamped);
  if (!parsed.imprint.equals(sha256))
    throw new TimestampError(
      'TIMESTAMP_OTHER_BYTES',
      `the token stamps ${parsed.imprint.toString('hex')}, not the checkpoint's SHA-256 ${sha256.toString('hex')}`,
    );
  parsed.signedData.certificates = [pinned];
  let verified = false;
  try {
    verified =
      (await parsed.signedData.verify({ signer: 0, checkChain: false, data: new Uint8Array(stamped).buffer })) === true;
  } catch (error) {
    throw new TimestampError('TIMESTAMP_UNTRUSTED', `not signed by the pinned TSA certificate: ${describe(error)}`);
  }
  if (!verified) throw new TimestampError('TIMESTAMP_UNTRUSTED', 'its signature does not verify');
  const problem = checkTsaCertificate(pinned, parsed.genTime);
  if (problem) throw new TimestampError(problem.code, problem.detail);
  return parsed;
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  const result = error as { message?: string } | undefined;
  return result?.message ?? String(error);
}
