import assert from 'node:assert/strict';
import type { Json } from '../../model/json.js';
import { ConnectorRegistry } from '../registry.js';
import type { ActionCall, Connector, ConnectorAction } from '../types.js';
import type { RollbackContract } from '../../model/contract.js';

export interface ConformanceFixture {
  /** A target that exists as the action expects (or does not, for a create) in the real system. */
  target: string;
  params: unknown;
  /** Reads the target from the real system, independently of the connector. */
  readActual(): Promise<Json>;
  /** Changes the target behind the connector's back (another writer); omit where nothing can be read back. */
  drift?(): Promise<void>;
  /**
   * Makes the target store something other than the next write asks for, as a target's owner can
   * (a trigger that rewrites a value, an API that normalises a field, a process that rewrites a
   * file). Required wherever `drift` is given. Resolves once the tampering is in place, to a
   * function the kit calls after the write: it waits until the target has altered it, then
   * removes the tampering.
   */
  tamper?(): Promise<() => Promise<void>>;
  /** How many times the outside system saw the effect (requests, messages); omit where the state says it all. */
  effects?(): Promise<number>;
  /** For compensate-only actions: the compensating actions the outside system received. */
  compensations?(): Promise<Json[]>;
}

export interface ConformanceSubject {
  /** The connector's name, for test titles before the connector exists. */
  name: string;
  /** The connector, or a function giving it once `before` hooks have set up what it needs. */
  connector: Connector | (() => Connector);
  action: string;
  /** A fresh fixture per check, so checks never see each other's effects. */
  fixture(): Promise<ConformanceFixture>;
  /** Params that must be refused; each with the field its message must name. */
  badParams: Array<{ params: unknown; field: string }>;
}

/** What every case reaches the subject through. */
export interface Kit {
  subject: ConformanceSubject;
  /** The registry and the action under test, made on first use (after the file's `before` hooks). */
  resolve(): { registry: ConnectorRegistry; action: ConnectorAction<unknown> };
  /** A fresh fixture, and the call built from its params as the registry parses them. */
  prepare(): Promise<Prepared>;
}

export interface Prepared {
  fixture: ConformanceFixture;
  action: ConnectorAction<unknown>;
  contract: RollbackContract;
  call: ActionCall<unknown>;
}

export function kitFor(subject: ConformanceSubject): Kit {
  let resolved: { registry: ConnectorRegistry; action: ConnectorAction<unknown> } | undefined;
  const resolve = () => {
    if (!resolved) {
      const connector = typeof subject.connector === 'function' ? subject.connector() : subject.connector;
      assert.equal(connector.name, subject.name);
      const registry = new ConnectorRegistry([connector]);
      resolved = { registry, action: registry.action(subject.name, subject.action) };
    }
    return resolved;
  };

  const prepare = async () => {
    const { registry, action } = resolve();
    const fixture = await subject.fixture();
    const params = registry.parseParams(subject.name, subject.action, fixture.params);
    return { fixture, action, contract: action.contract, call: { target: fixture.target, params } };
  };

  return { subject, resolve, prepare };
}
