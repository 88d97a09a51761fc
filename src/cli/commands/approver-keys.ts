import { readFile } from 'node:fs/promises';
import type { PinnedApproverKeys } from '../../verify/bundle/decisions.js';
import { pinnedApproverKeys } from '../../verify/bundle/decisions.js';
import type { PinnedChannelKey } from '../../verify/bundle/channel-keys.js';
import { pinnedChannelKeys } from '../../verify/bundle/channel-keys.js';
import { CliExit, EXIT } from '../shared/exit.js';

/** `--approver-keys <file>`: the approver directory (JSON) whose keys the auditor pinned. */
export async function loadApproverKeys(path: string): Promise<PinnedApproverKeys> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliExit(EXIT.usage, `cannot read the approver keys ${path}: ${(error as Error).message}`);
  }
  try {
    return pinnedApproverKeys(JSON.parse(text));
  } catch (error) {
    throw new CliExit(EXIT.usage, `the approver keys ${path} are unusable: ${(error as Error).message}`);
  }
}

/** `--channel-key <file>`: the Writ channel key(s) the auditor pinned. */
export async function loadChannelKeys(path: string): Promise<PinnedChannelKey[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliExit(EXIT.usage, `cannot read the channel key ${path}: ${(error as Error).message}`);
  }
  try {
    return pinnedChannelKeys(text);
  } catch (error) {
    throw new CliExit(EXIT.usage, `the channel key ${path} is unusable: ${(error as Error).message}`);
  }
}
