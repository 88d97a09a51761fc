import type { ApproverDirectory, DirectoryContent } from '../approvals/directory.js';
import { approverDirectory, parseDirectory } from '../approvals/directory.js';
import { canonicalDigest } from '../verify/hash.js';
import { canonicalId } from '../model/identity.js';
import { cachedFile } from './file-cache.js';

/** One version of the directory of people, as loaded: what it says, its version, and lookups. */
export interface LoadedDirectory {
  /** `sha256:<hex>` of the RFC 8785 JSON of `content`: recorded, and named by every decision made under it. */
  version: string;
  content: DirectoryContent;
  approvers: ApproverDirectory;
  /** A requester's groups as the directory lists them (as requester or approver); none when absent. */
  groupsOf(id: string): string[];
}

export function directoryVersion(content: DirectoryContent): string {
  return canonicalDigest(content);
}

/**
 * Ids compared as decisions compare them (model/identity.ts), and generously where an id cannot be
 * canonicalised: looking up fewer groups than someone has could only let them miss a rule (rules
 * add requirements, never remove them).
 */
const loose = (id: string) => {
  const canonical = canonicalId(id);
  return canonical.ok ? canonical.id : id.normalize('NFKC').trim().toLowerCase();
};

export function loadedDirectory(input: unknown): LoadedDirectory {
  const content = parseDirectory(input);
  const groups = new Map<string, Set<string>>();
  for (const person of [...content.approvers, ...(content.requesters ?? [])]) {
    const key = loose(person.id);
    const set = groups.get(key) ?? new Set<string>();
    for (const group of person.groups) set.add(group);
    groups.set(key, set);
  }
  return {
    version: directoryVersion(content),
    content,
    approvers: approverDirectory(content),
    groupsOf: (id) => [...(groups.get(loose(id)) ?? [])].sort(),
  };
}

const EMPTY = loadedDirectory({ approvers: [] });

/** The directory from a file (re-read when it changes), an object, or none (nobody approves, nobody has groups). */
export function directorySource(source: string | object | undefined): () => Promise<LoadedDirectory> {
  if (source === undefined) return async () => EMPTY;
  if (typeof source === 'object') {
    const fixed = loadedDirectory(source);
    return async () => fixed;
  }
  return cachedFile(source, 'approver directory', loadedDirectory);
}

/**
 * An ApproverDirectory that always answers from the directory in force now; `used` is told which
 * version answered (to put it on the record before a decision rests on it).
 */
export function currentApprovers(
  directory: () => Promise<LoadedDirectory>,
  used?: (loaded: LoadedDirectory) => Promise<void>,
): ApproverDirectory {
  return {
    facts: async (...args) => {
      const loaded = await directory();
      await used?.(loaded);
      return { ...(await loaded.approvers.facts(...args)), directoryVersion: loaded.version };
    },
  };
}
