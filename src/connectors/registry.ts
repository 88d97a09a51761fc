import { describeIssues } from '../model/issues.js';
import type { RollbackContract } from '../model/contract.js';
import type { PolicyStep } from '../model/policy.js';
import type { ActionCall, Connector, ConnectorAction, Snapshot } from './types.js';
import { ConnectorInputError } from './types.js';

/** The connectors a worker can govern writes to. */
export class ConnectorRegistry {
  private readonly connectors = new Map<string, Connector>();

  constructor(connectors: readonly Connector[] = []) {
    for (const connector of connectors) this.register(connector);
  }

  register(connector: Connector): void {
    if (this.connectors.has(connector.name)) throw new Error(`connector ${connector.name} is registered twice`);
    this.connectors.set(connector.name, connector);
  }

  action(connectorName: string, actionName: string): ConnectorAction<unknown> {
    const connector = this.connectors.get(connectorName);
    if (!connector)
      throw new ConnectorInputError(
        `unknown connector "${connectorName}"; known: ${[...this.connectors.keys()].join(', ') || 'none'}`,
      );
    const action = connector.actions[actionName];
    if (!action)
      throw new ConnectorInputError(
        `connector ${connectorName} has no action "${actionName}"; it has: ${Object.keys(connector.actions).join(', ')}`,
      );
    return action;
  }

  /** Parses params with the action's schema; the message names the bad field. */
  parseParams(connectorName: string, actionName: string, params: unknown): unknown {
    const parsed = this.action(connectorName, actionName).params.safeParse(params);
    if (!parsed.success) {
      const unknownKey = `is not a parameter of ${connectorName}.${actionName}`;
      const problems = describeIssues(parsed.error, { root: 'params', unknownKey });
      throw new ConnectorInputError(`${connectorName}.${actionName}: ${problems}`);
    }
    return parsed.data;
  }

  /**
   * A step as policy sees it: its target as the connector resolves it and its effect given the
   * state before it. A connector that cannot resolve (old or third-party) is taken at its word:
   * the target as given, `identity`, effect `unknown` (which every rule on effect matches).
   */
  async policyStep(
    connectorName: string,
    actionName: string,
    call: ActionCall<unknown>,
    before: Snapshot,
  ): Promise<PolicyStep> {
    const action = this.action(connectorName, actionName);
    const resolved = action.resolve
      ? await action.resolve(call)
      : { target: call.target, identity: action.identity(call) };
    const effect = action.effect ? action.effect(call, before) : { effect: 'unknown' as const, action: actionName };
    return {
      connector: connectorName,
      action: actionName,
      effectiveAction: effect.action,
      effect: effect.effect,
      target: resolved.target,
      identity: resolved.identity,
    };
  }

  /** The capability matrix `writ connectors` prints. */
  matrix(): Array<{ connector: string; action: string } & RollbackContract> {
    return [...this.connectors.values()].flatMap((connector) =>
      Object.entries(connector.actions).map(([action, definition]) => ({
        connector: connector.name,
        action,
        ...definition.contract,
      })),
    );
  }

  async close(): Promise<void> {
    for (const connector of this.connectors.values()) await connector.close?.();
  }
}
