import { WritError } from '../model/errors.js';

/** Where `writ worker` sends its spans, and under which service name. */
export interface TracingConfig {
  /** The OTLP/HTTP traces URL: the endpoint with `/v1/traces`, as the OTLP spec builds it. */
  tracesUrl: string;
  serviceName: string;
}

/**
 * WRIT_OTEL_EXPORTER_OTLP_ENDPOINT, else the standard OTEL_EXPORTER_OTLP_ENDPOINT (a base URL, to
 * which `/v1/traces` is added); OTEL_SERVICE_NAME, else `writ-worker`. No endpoint: no tracing.
 */
export function tracingConfigFromEnv(env: NodeJS.ProcessEnv = process.env): TracingConfig | undefined {
  const writ = env.WRIT_OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const standard = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const endpoint = writ || standard;
  if (!endpoint) return undefined;
  const where = writ ? 'WRIT_OTEL_EXPORTER_OTLP_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT';
  return { tracesUrl: tracesUrl(endpoint, where), serviceName: env.OTEL_SERVICE_NAME?.trim() || 'writ-worker' };
}

function tracesUrl(endpoint: string, where: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new WritError(
      'USAGE',
      `${where} must be an absolute http(s) URL such as http://collector:4318, not "${endpoint}"`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new WritError('USAGE', `${where} must be an http or https URL (OTLP/HTTP), not ${url.protocol}`);
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}
