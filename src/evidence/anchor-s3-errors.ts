import type { S3AnchorConfig } from './anchor-s3-config.js';

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

export function s3ErrorName(error: unknown): string {
  return (error as SdkError).name ?? '';
}

export function httpStatusOf(error: unknown): number | undefined {
  return (error as SdkError).$metadata?.httpStatusCode;
}

/** A key that holds nothing readable now: never written, or its newest version is a delete marker. */
export function isMissingKey(error: unknown): boolean {
  return s3ErrorName(error) === 'NoSuchKey' || s3ErrorName(error) === 'NotFound' || httpStatusOf(error) === 404;
}

/** The store refused an If-None-Match: * write because the key already exists. */
export function isAlreadyThere(error: unknown): boolean {
  const status = httpStatusOf(error);
  return s3ErrorName(error) === 'PreconditionFailed' || status === 412 || status === 409;
}

/**
 * One sentence an operator can act on, for whatever the SDK threw: a missing bucket, refused
 * credentials, no credentials at all, or a store that does not answer.
 */
export function explainS3Error(error: unknown, config: S3AnchorConfig): string {
  const where = `bucket ${config.bucket}${config.endpoint ? ` at ${config.endpoint}` : ` in ${config.region}`}`;
  const name = s3ErrorName(error);
  const message = (error as SdkError).message ?? String(error);
  const network = (error as SdkError).code ?? name;
  if (name === 'NoSuchBucket') return `${where} does not exist: create it with Object Lock enabled`;
  if (name === 'AccessDenied' || name === 'Forbidden' || httpStatusOf(error) === 403)
    return `${where} refused this identity (${message}): grant it s3:PutObject, s3:GetObject, s3:GetObjectVersion, s3:ListBucketVersions, s3:GetObjectRetention and s3:GetBucketObjectLockConfiguration`;
  if (name === 'CredentialsProviderError')
    return `no AWS credentials for ${where}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or run with a role (${message})`;
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|TimeoutError|RequestTimeout/.test(`${network} ${message}`))
    return `cannot reach ${where}: ${message || network}`;
  return `${where}: ${name ? `${name}: ` : ''}${message}`;
}
