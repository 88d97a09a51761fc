import { sign } from 'node:crypto';
import type { NoteSigner } from '../../verify/note.js';
import { keyId } from '../../verify/note.js';
import type { DsseEnvelope } from '../../verify/bundle/format.js';
import { DSSE_PAYLOAD_TYPE, PREDICATE_TYPE, STATEMENT_TYPE, dssePae } from '../../verify/bundle/format.js';
import { sha256Hex } from '../../verify/hash.js';
import { governanceReferences } from '../../verify/bundle/governance.js';
import { EventType, isStatementApproval } from '../../model/events.js';
import type { Json } from './json-object.js';
import { obj } from './json-object.js';
import type { BundleRecord } from './select.js';

/**
 * The in-toto Statement of one operation. Its subjects are the operation's ledger records, each
 * named `<chain>/<seq>` with the SHA-256 of its canonical bytes: the statement is bound to the exact
 * evidence, and the targets it touched are in the predicate.
 */
export function statementFor(
  operationId: string,
  chain: string,
  records: BundleRecord[],
  checkpoint: { origin: string; size: number; root: string },
): Json {
  const planned = records.find((r) => r.record.type === EventType.operationPlanned);
  const envelope = obj(obj(planned?.record.payload).envelope);
  const closed = records.find((r) => r.record.type === EventType.operationClosed);
  const last = [...records].reverse().find((r) => typeof r.record.state === 'string');
  const first = records[0]!.record;
  const requester = obj(first.actor).id ?? null;
  const approvals = records
    .filter((r) => isStatementApproval(String(r.record.type)))
    .map((r) => {
      const p = obj(r.record.payload);
      return {
        seq: r.seq,
        type: r.record.type,
        occurredAt: r.record.occurredAt,
        approver: p.approver ?? p.by ?? null,
        approvers: p.approvers ?? null,
        reason: p.reason ?? null,
        refusal: p.refusal ?? null,
        approverDiffersFromRequester: p.approverDiffersFromRequester ?? null,
        // A signed decision's evidence, as recorded: verify-bundle --approver-keys checks it against pinned keys.
        kind: p.kind ?? null,
        digest: p.digest ?? null,
        signature: p.signature ?? null,
        keyId: p.keyId ?? null,
      };
    });
  return {
    _type: STATEMENT_TYPE,
    subject: records.map((r) => ({ name: `${chain}/${r.seq}`, digest: { sha256: sha256Hex(r.canonical) } })),
    predicateType: PREDICATE_TYPE,
    predicate: {
      operationId,
      correlationId: first.correlationId ?? null,
      requester,
      envelope: planned
        ? {
            intent: envelope.intent ?? null,
            actor: envelope.actor ?? null,
            mode: envelope.mode ?? null,
            paramsHash: envelope.paramsHash ?? null,
            targets: envelope.targets ?? [],
            requestedAt: envelope.requestedAt ?? null,
            labels: envelope.labels ?? {},
          }
        : null,
      outcome: closed ? (obj(closed.record.payload).outcome ?? null) : null,
      finalState: last?.record.state ?? null,
      approvals,
      records: { chain, first: records[0]!.seq, last: records[records.length - 1]!.seq, count: records.length },
      governance: records.map((r) => governanceReferences(r.record)).find((refs) => refs.policy !== undefined) ?? null,
      checkpoint,
    },
  };
}

export function dsseEnvelope(statement: Json, signer: NoteSigner): DsseEnvelope {
  const payload = Buffer.from(JSON.stringify(statement), 'utf8');
  const sig = sign(null, dssePae(DSSE_PAYLOAD_TYPE, payload), signer.privateKey);
  return {
    payloadType: DSSE_PAYLOAD_TYPE,
    payload: payload.toString('base64'),
    signatures: [{ keyid: keyId(signer.name, signer.privateKey).toString('hex'), sig: sig.toString('base64') }],
  };
}
