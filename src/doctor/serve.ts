import type { CheckResult } from './check.js';
import { fail, messageOf, ok } from './check.js';

/** `writ serve` on this host answers HTTP: anything below 500 (a 404 for `/` included) means it handles requests. */
export async function serveHttpCheck(env: NodeJS.ProcessEnv): Promise<CheckResult> {
  const port = env.WRIT_SERVE_PORT || '8787';
  const url = `http://127.0.0.1:${port}/`;
  const fix =
    'writ serve is not serving on this host: see its logs (docker compose logs writ-serve), or set WRIT_SERVE_PORT';
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(3_000), redirect: 'manual' });
    await response.body?.cancel();
    return response.status < 500
      ? ok('serve-http', `${url} answered ${response.status}`)
      : fail('serve-http', `${url} answered ${response.status}`, fix);
  } catch (error) {
    return fail('serve-http', `${url}: ${messageOf(error)}`, fix);
  }
}
