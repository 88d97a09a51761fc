/** What a bundle's README names: its chain, checkpoint, records and operations, and the exporter's key. */
export interface BundleReadmeInput {
  chain: string;
  origin: string;
  treeSize: number;
  records: number;
  operations: string[];
  verifierKey: string;
  timestamped?: boolean;
  /** Every chain the export wrote a bundle of, this one's among them. */
  exportChains?: readonly string[];
}

/** The README.md every bundle carries: what is in it and how to check it, with or without Writ. */
export function bundleReadme(input: BundleReadmeInput): string {
  const timestamped = input.timestamped ?? false;
  return [intro(input), files(timestamped), PIN_THE_KEY, checkWithWrit(timestamped), CHECK_BY_HAND, footer(input)].join(
    '',
  );
}

function intro(input: BundleReadmeInput): string {
  return `# Writ evidence bundle

This directory is evidence of ${input.operations.length} governed operation(s) (${input.records} ledger records of chain
\`${input.chain}\`), exported from a Writ ledger and covered by the signed checkpoint of log \`${input.origin}\`
at tree size ${input.treeSize}. Everything can be checked offline, without access to the ledger.

Operations: ${input.operations.length ? input.operations.map((id) => `\`${id}\``).join(', ') : '(none: manual records only)'}
${siblings(input)}
`;
}

/** A bundle of an export over several chains answers only for its own: it says so, and where the rest is. */
function siblings({ chain, exportChains = [] }: BundleReadmeInput): string {
  if (exportChains.length <= 1) return '';
  const others = exportChains.filter((c) => c !== chain);
  return `
**This bundle is one of ${exportChains.length} written together** (chains ${exportChains.map((c) => `\`${c}\``).join(', ')}):
the records of chain${others.length > 1 ? 's' : ''} ${others.map((c) => `\`${c}\``).join(', ')} are in the sibling
director${others.length > 1 ? 'ies' : 'y'} of the same name. Check the directory that holds them all: this bundle checked on its
own fails as not the whole export.
`;
}

function files(timestamped: boolean): string {
  return `## Files

| file | what it is |
|---|---|
| \`records.jsonl\` | one JSON line per ledger record, in ascending \`seq\`: \`seq\`, \`chain\`, \`canonical\` (base64 of the record's canonical bytes: **these bytes are the evidence**), \`prevHash\` and \`hash\` (hex) |
| \`records.csv\` | the same records as a table for sampling (RFC 4180). A convenience derived from the records: not evidence |
| \`statements.intoto.jsonl\` | one line per operation: a signed in-toto Statement (DSSE envelope) summarising it: intent, targets, outcome, approvals; its subjects are the operation's records |
| \`governance.policy.<hex>.json\`, \`governance.directory.<hex>.json\` | the policy text and the directory of people (approvers, requesters, their groups and keys) each decision ran under, as the RFC 8785 bytes whose SHA-256 is the revision the \`policy.decided\` record names; the \`governance.*\` records that put them in the ledger are among the records |
| \`proofs.json\` | for every record, its RFC 9162 inclusion proof in the Merkle tree of the checkpoint |
| \`checkpoint.txt\` | the signed checkpoint (C2SP signed note) that commits to the tree's root |
${timestamped ? TIMESTAMPS_ROW : ''}| \`key.pub\` | the signer's verifier key. **Do not trust it because it is here**: compare it with the key the operator gave you out of band |
| \`manifest.json\` | every file above with its SHA-256 and size |
| \`manifest.sig\` | a signed note over the SHA-256 of \`manifest.json\` |

`;
}

const PIN_THE_KEY = `## Pin the signer's key first

The signatures prove who made this bundle only if you check them with a key you already trust.
Anyone can make a bundle that agrees with itself, signed with a key of their own, and ship that key
as \`key.pub\`. So obtain the log's verifier key from its operator out of band (their published
key, a signed message, in person), keep it, and compare: a verifier key reads \`<name>+<key id>+<key>\`,
and its name and 8-hex-digit key id are its fingerprint. Use the key you obtained, never this
bundle's \`key.pub\` (or the line at the end of this file), unless the two are identical.

`;

function checkWithWrit(timestamped: boolean): string {
  return `## Check it with Writ

    writ verify-bundle <this directory> --verifier-key <the key you pinned, or a file holding it>

Exit status 0: intact, signed by the key you pinned. 1: damaged (the message names the file and the
record). 2: usage error. 3: no key was pinned (no \`--verifier-key\`, no \`$WRIT_VERIFIER_KEY\`): the
bundle is internally consistent, checked against its own \`key.pub\`, but its signer is unknown.

Approvals, rejections and resolutions signed by the people who made them are checked against their
keys only if you pin those too: add \`--approver-keys <the approver directory you obtained out of
band>\`. Without it the signatures are reported as not checked, never as verified.

${timestamped ? TIMESTAMPS_CHECK : ''}Every request and decision that says a proof established who made it is re-checked from the proof
its record carries: a person's Ed25519 signature against their key in the recorded directory, an
identity provider's token against the provider keys on record (\`governance.identity_key\`) at the
record's time, and a Writ channel's assertion (single sign-on or Slack) against the channel keys
in the recorded directory. Pin Writ's channel key too, obtained out of band: add \`--channel-key
<file>\`; without it the assertions are checked only against keys the bundle itself names. A
request or decision whose identity was only asserted (the policy allowed it) is reported as
"identity not verified": a notice, not damage.

`;
}

const CHECK_BY_HAND = `## Check it by hand

The exact rules are in Writ's docs/FORMAT.md: records and the chain (sections 1, 2 and 4), the
Merkle tree (section 6), checkpoints and keys (section 7) and the bundle itself ("Evidence bundles").
In short:

1. \`manifest.sig\` is a C2SP signed note whose text is the two lines \`writ-bundle-manifest/v1\` and
   the lower-case hex SHA-256 of \`manifest.json\`'s bytes; its Ed25519 signature must verify with the
   verifier key (key id = first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key)).
2. Each file listed in \`manifest.json\` must have exactly that SHA-256 and size; no other files may be present.
3. \`checkpoint.txt\` must verify with the same key; its body is the origin, the tree size and the base64 root.
4. For every line of \`records.jsonl\`: \`hash\` = SHA-256(prevHash || canonical) (raw bytes), and when the
   previous line has \`seq\` - 1, its \`hash\` is this line's \`prevHash\` (32 zero bytes before seq 1).
5. For every record, the leaf hash SHA-256(0x00 || canonical) with leaf index \`seq\` - 1 and the proof in
   \`proofs.json\` must give the checkpoint's root (RFC 9162 section 2.1.3.2; node = SHA-256(0x01 || left || right)).
   A proof's \`path\` lists places in \`nodes\`: its hashes are those nodes, from the leaf's sibling up.
6. Each line of \`statements.intoto.jsonl\` is one operation's statement, every operation has one and
   none has two. Its DSSE signature is Ed25519 over "DSSEv1" SP len(payloadType) SP payloadType SP len(payload) SP payload
   (lengths in bytes, decimal), keyid = the key id in hex; its subjects are \`<chain>/<seq>\` with the
   SHA-256 of each of the operation's records' canonical bytes.
7. For every \`policy.decided\` record, \`payload.decision.policyRevision\` and \`directoryVersion\` are
   \`sha256:<hex>\`; \`governance.policy.<hex>.json\` (\`governance.directory.<hex>.json\`) must hash to that
   hex, and a \`governance.policy\` (\`governance.directory\`) record in \`records.jsonl\` must hold the same JSON
   in \`payload.policy\` (\`payload.directory\`): that is who was allowed to decide, and by which rules.
8. For every \`operation.planned\` and decision record whose \`payload.identity\` says verified, re-check
   the proof it carries (docs/FORMAT.md, "Identity proofs") against the directory its \`directoryVersion\`
   names and the \`governance.identity_key\` records before it; its \`identity.proof_used\` record must
   name the same use and operation.

`;

function footer(input: BundleReadmeInput): string {
  return `Verifier key of this export, as the exporter states it (compare it with the one you pinned): \`${input.verifierKey}\`
`;
}

const TIMESTAMPS_ROW =
  "| `timestamps.json` | RFC 3161 time-stamp tokens of the checkpoint (and of the stamped checkpoint before it): a time-stamp authority's signed word that the checkpoint, and so every record it covers, existed by then; or why the checkpoint has none |\n";

const TIMESTAMPS_CHECK = `The time-stamps prove a time only if you check them against the authority's certificate, obtained
out of band: add \`--tsa-cert <certificate>\`. Without it they are reported as not checked; with it,
a checkpoint without a token is damage.

`;
