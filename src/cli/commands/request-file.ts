import { readFile, stat } from 'node:fs/promises';
import { REQUEST_LIMITS } from '../../model/json-limits.js';
import { WritError, hasCode } from '../../model/errors.js';
import { CliExit, EXIT } from '../shared/exit.js';

/**
 * Far above any request the limits let through (a pretty-printed one is larger than its compact
 * JSON), but a bound on what is read into memory before the request's own limits are checked.
 */
const MAX_REQUEST_FILE_BYTES = 16 * 1024 * 1024;

/** The JSON of a request file ("-": standard input), or the CLI exit that says why not. */
export async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    if (path !== '-' && (await stat(path)).size > MAX_REQUEST_FILE_BYTES) throw new TooLarge();
    text = path === '-' ? await readStdin() : await readFile(path, 'utf8');
  } catch (error) {
    if (hasCode(error, 'REQUEST_TOO_LARGE'))
      throw new CliExit(
        EXIT.bad,
        `request refused: ${path} is larger than ${MAX_REQUEST_FILE_BYTES / 1024 / 1024} MiB (a request may be at most ${REQUEST_LIMITS.maxBytes / 1024} KiB as JSON)`,
      );
    throw new CliExit(EXIT.usage, `cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliExit(EXIT.bad, `${path} is not JSON: ${(error as Error).message}`);
  }
}

class TooLarge extends WritError {
  constructor() {
    super('REQUEST_TOO_LARGE', '');
  }
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (text.length > MAX_REQUEST_FILE_BYTES) throw new TooLarge();
  }
  return text;
}
