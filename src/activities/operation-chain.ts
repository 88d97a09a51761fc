import { Context } from '@temporalio/activity';
import type { OperationChains } from '../ledger/operation-chains.js';
import { chainInAttempt } from './chain-in-attempt.js';
import { recordedOperationId } from './recorded-operation-id.js';

/**
 * The chain of the operation the running activity works for (its workflow id is the operation
 * id, as its records name it), or the home chain outside an activity. The governance recorder
 * asks it, so that the policy, directory and provider keys a decision rests on go on the chain of
 * that decision, a refused one included.
 */
export function activityChain(chains: Pick<OperationChains, 'home' | 'forOperation'>): () => Promise<string> {
  return async () => {
    let workflowId: string | undefined;
    try {
      workflowId = Context.current().info.workflowExecution?.workflowId;
    } catch {
      // Not inside an activity (Context.current() throws there).
      return chains.home;
    }
    return workflowId ? chainInAttempt(chains, recordedOperationId(workflowId)) : chains.home;
  };
}
