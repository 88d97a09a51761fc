import { OPERATION_ID } from '../model/operation-id.js';
import { sha256Hex } from '../verify/hash.js';

/**
 * The operation id a workflow's records are filed under: its workflow id, or, when that could not
 * be an operation id (a workflow started by hand with a malformed id), a name derived from it. The
 * refusal record and the governance records it rests on both use this, so they land on one chain.
 */
export function recordedOperationId(workflowId: string): string {
  return OPERATION_ID.test(workflowId) ? workflowId : `workflow-${sha256Hex(workflowId)}`;
}
