import type { Json } from '../../model/json.js';
import type { ActionCall, Verification } from '../types.js';
import type { Kind } from './actions.js';
import { locate } from './paths.js';
import { readOnDisk, versionOf } from './state.js';

/** Versions and sizes, not content: verdicts stay small in the ledger whatever the file size. */
const digest = (bytes: Buffer | undefined, mode: number): Json =>
  bytes === undefined ? null : { version: versionOf(bytes), size: bytes.length, mode };

// Against the bytes the call asked for, never against what execute reported.
export async function verify<P>(root: string, kind: Kind<P>, { target, params }: ActionCall<P>): Promise<Verification> {
  const disk = await readOnDisk(await locate(root, target));
  const observed = digest(disk.bytes, disk.mode);
  const asked = kind.intended(params, disk.mode);
  if (asked === null) {
    return disk.bytes === undefined
      ? { ok: true, observed, expected: null }
      : { ok: false, observed, expected: null, reason: `${target} exists again after it was deleted` };
  }
  const expected: Json = { version: versionOf(asked.bytes), size: asked.bytes.length };
  if (disk.bytes === undefined) return { ok: false, observed, expected, reason: `${target} is missing` };
  if (disk.version !== versionOf(asked.bytes)) {
    return {
      ok: false,
      observed,
      expected,
      reason: `${target} holds other bytes than were asked (${disk.bytes.length} bytes, ${disk.version}; asked ${asked.bytes.length} bytes, ${versionOf(asked.bytes)})`,
    };
  }
  return { ok: true, observed, expected };
}
