import type * as pkijs from 'pkijs';

const EXTENDED_KEY_USAGE = '2.5.29.37';
const TIME_STAMPING = '1.3.6.1.5.5.7.3.8';

export interface CertificateProblem {
  code: 'TIMESTAMP_CERT_PURPOSE' | 'TIMESTAMP_CERT_EXPIRED';
  detail: string;
}

/**
 * What RFC 3161 section 2.3 asks of a TSA's certificate, checked on the pinned one: its only
 * extended key usage is id-kp-timeStamping, marked critical, so a key certified for something
 * else (a TLS server, code signing) cannot pass its signatures off as time-stamps; and the token's
 * time lies within the certificate's validity. Revocation is not checked (offline: no OCSP or CRL).
 */
export function checkTsaCertificate(certificate: pkijs.Certificate, genTime: Date): CertificateProblem | null {
  const usages = (certificate.extensions ?? []).filter((e) => e.extnID === EXTENDED_KEY_USAGE);
  const purposes = (usages[0]?.parsedValue as pkijs.ExtKeyUsage | undefined)?.keyPurposes ?? [];
  if (usages.length !== 1 || !usages[0]!.critical || purposes.length !== 1 || purposes[0] !== TIME_STAMPING)
    return {
      code: 'TIMESTAMP_CERT_PURPOSE',
      detail: `the pinned TSA certificate is not for time-stamping: its extended key usage must be id-kp-timeStamping alone, marked critical (it has ${usages.length ? `${usages[0]!.critical ? 'critical ' : 'non-critical '}${purposes.join(', ') || 'none'}` : 'none'})`,
    };
  const notBefore = certificate.notBefore.value;
  const notAfter = certificate.notAfter.value;
  if (genTime < notBefore || genTime > notAfter)
    return {
      code: 'TIMESTAMP_CERT_EXPIRED',
      detail: `stamped ${genTime.toISOString()}, outside the pinned TSA certificate's validity ${notBefore.toISOString()} to ${notAfter.toISOString()}`,
    };
  return null;
}
