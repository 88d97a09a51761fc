import type { z } from 'zod';

/**
 * How a refused value's problems are worded. The texts are recorded and shown to people, so each
 * caller keeps the wording it has always had.
 */
export type IssueWording =
  /** A path alone (`steps.0.target`), and this for a problem with the value as a whole: `(request)`. */
  (
    | { whole: string }
    /** Every path under this name (`params.set.balance`), and the name alone for the whole value. */
    | { root: string }
  ) & {
    /** Each unknown key of a strict object as a problem of its own, with this text; absent: zod's one issue. */
    unknownKey?: string;
  };

/**
 * Names every field that is wrong, `path: problem` joined by "; ", so a refused value can be fixed
 * in one pass. Pure: workflows word their refusals with it too.
 */
export function describeIssues(error: Pick<z.ZodError, 'issues'>, wording: IssueWording): string {
  const at = (path: readonly PropertyKey[]) => {
    const joined = path.map(String).join('.');
    if ('root' in wording) return path.length ? `${wording.root}.${joined}` : wording.root;
    return path.length ? joined : wording.whole;
  };
  return error.issues
    .flatMap((issue) =>
      issue.code === 'unrecognized_keys' && wording.unknownKey !== undefined
        ? issue.keys.map((key) => `${at([...issue.path, key])}: ${wording.unknownKey}`)
        : [`${at(issue.path)}: ${issue.message}`],
    )
    .join('; ');
}
