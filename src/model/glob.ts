/**
 * Writ's one glob: `*` stands for any run of characters (none, `/`, `.` and line breaks included);
 * every other character stands for itself. Policy targets and the postgres connector's allowed
 * tables are written in it, so one pattern means the same wherever it is read.
 */
export function globMatcher(pattern: string): (value: string) => boolean {
  const literal = (part: string) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  // dotAll: a target may contain line breaks, and `*` must still span them.
  const regex = new RegExp(`^${pattern.split('*').map(literal).join('.*')}$`, 's');
  return (value) => regex.test(value);
}

export function globMatches(pattern: string, value: string): boolean {
  return globMatcher(pattern)(value);
}
