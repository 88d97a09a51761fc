import { createHash, webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';

/**
 * RFC 3161 time-stamp tokens, parsed and checked with pkijs: the ASN.1 is never read by hand.
 * A token is a CMS SignedData whose content is a TSTInfo naming the hash it stamps and the time.
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

export type TimestampFindingCode = 'TIMESTAMP_MALFORMED' | 'TIMESTAMP_OTHER_BYTES' | 'TIMESTAMP_UNTRUSTED';

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
    if (tstInfo.messageImprint.hashAlgorithm.algorithmId !== SHA256_OID)
      throw new Error(`it stamps a ${tstInfo.messageImprint.hashAlgorithm.algorithmId} hash, not SHA-256`);
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

/** The operator's pinned TSA certificate, from PEM. */
export function parseTsaCertificate(pem: string): pkijs.Certificate {
  const match = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem);
  if (!match) throw new Error('the TSA certificate is not a PEM certificate');
  return pkijs.Certificate.fromBER(Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64'));
}

/**
 * Checks that the token stamps exactly `stamped` (by its SHA-256) and was signed by the pinned
 * certificate's key.
 * The token's own certificates are set aside: the signer is looked up among the pinned one only,
 * so a token from any other authority fails however well it chains to its own CA.
 */
export async function checkToken(der: Uint8Array, stamped: Buffer, pinned: pkijs.Certificate): Promise<ParsedToken> {
  const parsed = parseToken(der);
  const sha256 = createHash('sha256').update(stamped).digest();
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
  return parsed;
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  const result = error as { message?: string } | undefined;
  return result?.message ?? String(error);
}

/** A DER TimeStampReq for a SHA-256 digest, asking the TSA to include its certificate. */
export function timestampRequest(sha256: Buffer, nonce: Buffer): Uint8Array {
  const request = new pkijs.TimeStampReq({
    version: 1,
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: SHA256_OID }),
      hashedMessage: new asn1js.OctetString({ valueHex: new Uint8Array(sha256) }),
    }),
    nonce: new asn1js.Integer({ valueHex: new Uint8Array(nonce) }),
    certReq: true,
  });
  return new Uint8Array(request.toSchema().toBER());
}
