/**
 * The conformance kit: the same checks against every connector action, built-in or yours.
 * It uses node:test and node:assert, so it runs inside any `node --test` file:
 *
 *   runConformance({ connector, action: 'update', fixture: async () => ({ ... }) });
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { canonicalText } from '../../verify/canonical.js';
import { dryRunRefusal, rollbackWindowRefusal } from '../../model/contract.js';
import type { Json } from '../../model/json.js';
import { hasCode } from '../../model/errors.js';
import { ConnectorRegistry } from '../registry.js';
import type { Connector, ConnectorAction } from '../types.js';

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

const same = (a: Json, b: Json) => canonicalText(a) === canonicalText(b);

export function runConformance(subject: ConformanceSubject): void {
  const name = `${subject.name}.${subject.action}`;
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

  describe(`conformance: ${name}`, () => {
    test('declares a complete rollback contract', () => {
      const { contract } = resolve().action;
      assert.ok(['none', 'none-on-dry-run', 'some'].includes(contract.sideEffects));
      assert.ok(['inverse', 'snapshot-restore', 'compensate', 'none'].includes(contract.method));
      assert.equal(
        contract.canRollback,
        contract.method !== 'none',
        'canRollback is false exactly when the method is none',
      );
      assert.ok(Number.isFinite(contract.windowMs) && contract.windowMs >= 0);
      assert.ok(contract.limitations.trim().length > 0, 'limitations are stated in plain words');
    });

    test('refuses bad params with a message naming the field', () => {
      const { registry } = resolve();
      assert.ok(subject.badParams.length > 0, 'the subject gives at least one bad params example');
      for (const bad of subject.badParams) {
        assert.throws(
          () => registry.parseParams(subject.name, subject.action, bad.params),
          (error: Error) => hasCode(error, 'CONNECTOR_INPUT') && error.message.includes(`params.${bad.field}`),
          `params ${JSON.stringify(bad.params)} are refused naming params.${bad.field}`,
        );
      }
    });

    test('snapshot, execute and verify agree with the real target', async () => {
      const { fixture, call, action } = await prepare();
      assert.deepEqual(await action.validate(call), []);
      const before = await action.snapshot(call);
      assert.ok(same(before.state, await fixture.readActual()), 'the snapshot is what the target holds');
      const execution = await action.execute(call, { idempotencyKey: randomUUID(), before });
      const verdict = await action.verify(call, { before, execution });
      assert.equal(verdict.ok, true, verdict.reason);
      // Only a target that can be read back has a version that follows it (a sent message has none).
      if (fixture.drift)
        assert.notEqual(
          (await action.snapshot(call)).version,
          before.version,
          'the version changes when the target does',
        );
    });

    test('executing twice with one idempotency key has one effect', async () => {
      const { fixture, call, action } = await prepare();
      const before = await action.snapshot(call);
      const key = randomUUID();
      const first = await action.execute(call, { idempotencyKey: key, before });
      const afterFirst = await fixture.readActual();
      const effectsAfterFirst = await fixture.effects?.();
      // A real retry snapshots again first, and sees its own earlier write.
      const second = await action.execute(call, { idempotencyKey: key, before: await action.snapshot(call) });
      assert.ok(same(afterFirst, await fixture.readActual()), 'the target did not change again');
      assert.ok(same(first.after, second.after), 'the second call returns the first result');
      if (fixture.effects)
        assert.equal(await fixture.effects(), effectsAfterFirst, 'the outside system saw the effect once');
    });

    test('rollback restores the exact before state, or sends the compensating action', async () => {
      const { fixture, call, action, contract } = await prepare();
      const before = await action.snapshot(call);
      const beforeActual = await fixture.readActual();
      const key = randomUUID();
      const execution = await action.execute(call, { idempotencyKey: key, before });
      if (!contract.canRollback) {
        await assert.rejects(
          action.rollback(call, { idempotencyKey: key, before, execution }),
          'an action without rollback refuses to roll back',
        );
        return;
      }
      await action.rollback(call, { idempotencyKey: key, before, execution });
      if (contract.method === 'compensate') {
        assert.ok(fixture.compensations, 'a compensate-only subject reports the compensations it received');
        const received = await fixture.compensations();
        assert.equal(received.length, 1, 'one compensating action was sent');
        await action.rollback(call, { idempotencyKey: key, before, execution });
        assert.equal((await fixture.compensations()).length, 1, 'a retried rollback does not send it twice');
      } else {
        assert.ok(same(await fixture.readActual(), beforeActual), 'the target is exactly as it was');
        const effects = await fixture.effects?.();
        await action.rollback(call, { idempotencyKey: key, before, execution });
        assert.ok(same(await fixture.readActual(), beforeActual), 'a retried rollback leaves it as it was');
        if (fixture.effects) assert.equal(await fixture.effects(), effects, 'a retried rollback has no second effect');
      }
    });

    test('a dry run leaves the real target untouched', async (t) => {
      const { contract } = resolve().action;
      if (dryRunRefusal(contract)) {
        t.diagnostic(`dry runs are refused: ${dryRunRefusal(contract)}`);
        assert.equal(contract.sideEffects === 'some' || !contract.supportsDryRun, true);
        return;
      }
      const { fixture, call, action } = await prepare();
      const before = await action.snapshot(call);
      const actual = await fixture.readActual();
      const effects = await fixture.effects?.();
      const preview = await action.preview(call, before);
      assert.ok(preview.summary.length > 0);
      assert.ok(same(await fixture.readActual(), actual), 'the target is unchanged');
      if (fixture.effects) assert.equal(await fixture.effects(), effects, 'nothing reached the outside system');
    });

    test('verify catches drift when the target changes between execute and verify', async (t) => {
      const { fixture, call, action } = await prepare();
      if (!fixture.drift) {
        t.skip('nothing can be read back from this target (a message, once sent, cannot drift)');
        return;
      }
      const before = await action.snapshot(call);
      const execution = await action.execute(call, { idempotencyKey: randomUUID(), before });
      await fixture.drift();
      const verdict = await action.verify(call, { before, execution });
      assert.equal(verdict.ok, false, 'the drift is caught');
      assert.ok(verdict.reason && verdict.reason.length > 0, 'with a reason in plain words');
    });

    test('verify fails when the target stores something other than what was asked', async (t) => {
      const { fixture, call, action } = await prepare();
      if (!fixture.tamper) {
        assert.ok(
          !fixture.drift,
          'a target that can be read back needs a tamper fixture: verification must prove what was asked, not what the target echoed',
        );
        t.skip('nothing can be read back from this target (a message, once sent, cannot be checked)');
        return;
      }
      const before = await action.snapshot(call);
      const settle = await fixture.tamper();
      let execution;
      try {
        execution = await action.execute(call, { idempotencyKey: randomUUID(), before });
      } finally {
        await settle();
      }
      const verdict = await action.verify(call, { before, execution });
      assert.equal(verdict.ok, false, 'what the target stored is not what was asked, whatever the write returned');
      assert.ok(verdict.reason && verdict.reason.length > 0, 'with a reason in plain words');
    });

    test('a rollback asked for after the window is refused', () => {
      const { contract } = resolve().action;
      const executedAt = new Date(Date.now() - contract.windowMs - 1000).toISOString();
      assert.match(rollbackWindowRefusal(contract, executedAt, new Date()) ?? '', /rollback window/);
      assert.equal(rollbackWindowRefusal(contract, new Date().toISOString(), new Date()), null);
    });
  });
}
