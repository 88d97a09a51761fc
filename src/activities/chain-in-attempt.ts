import { Context } from '@temporalio/activity';

interface ChainLookup {
  forOperation(operationId: string): Promise<string>;
}

const answers = new WeakMap<Context, Map<string, Promise<string>>>();

/**
 * The operation's chain, asked of the ledger once per activity attempt. Before an operation's
 * first record the ledger has no answer to keep, and the plan activity asks three times (for its
 * envelope, and for the policy and the directory it records the decision on): one question of
 * PostgreSQL each time, for an answer that must be the same for every record of the attempt anyway.
 * A failed lookup is not kept. Outside an activity every call asks.
 */
export function chainInAttempt(chains: ChainLookup, operationId: string): Promise<string> {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return chains.forOperation(operationId);
  }
  let asked = answers.get(context);
  if (!asked) answers.set(context, (asked = new Map()));
  const known = asked.get(operationId);
  if (known) return known;
  const answer = chains.forOperation(operationId);
  asked.set(operationId, answer);
  answer.catch(() => asked.delete(operationId));
  return answer;
}

/** `chains`, asking once per activity attempt (see chainInAttempt). */
export function chainsInAttempt(chains: ChainLookup): ChainLookup {
  return { forOperation: (operationId) => chainInAttempt(chains, operationId) };
}
