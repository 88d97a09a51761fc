/**
 * The explicit opt-out from verified identities, for policies in tests where who asked and who
 * decided is not the point. Policy asks for verified identities by default; these tests drive
 * requests and decisions by name, so their policies say so, as a real policy file would have to.
 */
export const ASSERTED_IDENTITIES = { requests: 'asserted', decisions: 'asserted' } as const;
