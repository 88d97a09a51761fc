/**
 * Bumped whenever the canonical record's shape changes; verifiers refuse versions they do not know.
 * The one place the version lives: the writer stamps it, the chain and bundle verifiers check it.
 */
export const RECORD_FORMAT_VERSION = 1;
