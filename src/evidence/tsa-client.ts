import { randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { SHA256_OID, checkpointDigest, parseToken } from '../verify/timestamp-token.js';

export interface Timestamp {
  checkpointSha256: Buffer;
  genTime: Date;
  /** The TimeStampToken's DER (a CMS ContentInfo). */
  token: Buffer;
}

const TIMEOUT_MS = 10_000;

/**
 * Asks the TSA at `url` to stamp the SHA-256 of a signed checkpoint (RFC 3161 over HTTP). Whatever
 * comes back is checked to be a granted token for exactly that hash and our nonce; a TSA that
 * answers garbage, an error status or nothing is an error naming the TSA.
 */
export async function requestTimestamp(url: string, note: string): Promise<Timestamp> {
  const checkpointSha256 = checkpointDigest(note);
  const nonce = randomBytes(8);
  // A positive INTEGER with no leading zero byte: DER-minimal, so the TSA accepts and echoes these bytes.
  nonce[0] = (nonce[0]! & 0x7f) | 0x40;
  let body: Buffer;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query' },
      body: timestampRequest(checkpointSha256, nonce),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
    body = Buffer.from(await response.arrayBuffer());
  } catch (error) {
    throw new Error(`time-stamp authority ${url} did not answer: ${describeFetchError(error)}`, { cause: error });
  }
  const token = tokenFromResponse(url, body);
  const parsed = parseToken(token);
  if (!parsed.imprint.equals(checkpointSha256))
    throw new Error(`time-stamp authority ${url} stamped other bytes than the checkpoint`);
  const echoed = parsed.tstInfo.nonce ? Buffer.from(parsed.tstInfo.nonce.valueBlock.valueHexView) : null;
  if (!echoed?.equals(nonce)) throw new Error(`time-stamp authority ${url} answered without our nonce (a replay?)`);
  return { checkpointSha256, genTime: parsed.genTime, token };
}

function tokenFromResponse(url: string, body: Buffer): Buffer {
  let response: pkijs.TimeStampResp;
  try {
    response = pkijs.TimeStampResp.fromBER(body);
  } catch (error) {
    throw new Error(
      `time-stamp authority ${url} answered something that is not a TimeStampResp: ${(error as Error).message}`,
    );
  }
  const status = response.status.status;
  if (status !== pkijs.PKIStatus.granted && status !== pkijs.PKIStatus.grantedWithMods) {
    const text = response.status.statusStrings?.map((s) => s.valueBlock.value).join('; ');
    throw new Error(`time-stamp authority ${url} refused: status ${status}${text ? ` (${text})` : ''}`);
  }
  if (!response.timeStampToken) throw new Error(`time-stamp authority ${url} granted but sent no token`);
  return Buffer.from(response.timeStampToken.toSchema().toBER());
}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

/** A DER TimeStampReq for a SHA-256 digest, asking the TSA to include its certificate. */
function timestampRequest(sha256: Buffer, nonce: Buffer): Uint8Array {
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
