import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { TestContext } from 'node:test';
import { canonicalText } from '../../verify/canonical.js';
import { dryRunRefusal, rollbackWindowRefusal } from '../../model/contract.js';
import type { Json } from '../../model/json.js';
import { hasCode } from '../../model/errors.js';
import type { Kit } from './subject.js';

const same = (a: Json, b: Json) => canonicalText(a) === canonicalText(b);

export function declaresContract(kit: Kit): void {
  const { contract } = kit.resolve().action;
  assert.ok(['none', 'none-on-dry-run', 'some'].includes(contract.sideEffects));
  assert.ok(['inverse', 'snapshot-restore', 'compensate', 'none'].includes(contract.method));
  assert.equal(
    contract.canRollback,
    contract.method !== 'none',
    'canRollback is false exactly when the method is none',
  );
  assert.ok(Number.isFinite(contract.windowMs) && contract.windowMs >= 0);
  assert.ok(contract.limitations.trim().length > 0, 'limitations are stated in plain words');
}

export function refusesBadParams(kit: Kit): void {
  const { registry } = kit.resolve();
  assert.ok(kit.subject.badParams.length > 0, 'the subject gives at least one bad params example');
  for (const bad of kit.subject.badParams) {
    assert.throws(
      () => registry.parseParams(kit.subject.name, kit.subject.action, bad.params),
      (error: Error) => hasCode(error, 'CONNECTOR_INPUT') && error.message.includes(`params.${bad.field}`),
      `params ${JSON.stringify(bad.params)} are refused naming params.${bad.field}`,
    );
  }
}

export async function agreesWithTarget(kit: Kit): Promise<void> {
  const { fixture, call, action } = await kit.prepare();
  assert.deepEqual(await action.validate(call), []);
  const before = await action.snapshot(call);
  assert.ok(same(before.state, await fixture.readActual()), 'the snapshot is what the target holds');
  const execution = await action.execute(call, { idempotencyKey: randomUUID(), before });
  const verdict = await action.verify(call, { before, execution });
  assert.equal(verdict.ok, true, verdict.reason);
  // Only a target that can be read back has a version that follows it (a sent message has none).
  if (fixture.drift)
    assert.notEqual((await action.snapshot(call)).version, before.version, 'the version changes when the target does');
}

export async function executesOnce(kit: Kit): Promise<void> {
  const { fixture, call, action } = await kit.prepare();
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
}

export async function rollsBack(kit: Kit): Promise<void> {
  const { fixture, call, action, contract } = await kit.prepare();
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
}

export async function dryRunLeavesTargetUntouched(kit: Kit, t: TestContext): Promise<void> {
  const { contract } = kit.resolve().action;
  if (dryRunRefusal(contract)) {
    t.diagnostic(`dry runs are refused: ${dryRunRefusal(contract)}`);
    assert.equal(contract.sideEffects === 'some' || !contract.supportsDryRun, true);
    return;
  }
  const { fixture, call, action } = await kit.prepare();
  const before = await action.snapshot(call);
  const actual = await fixture.readActual();
  const effects = await fixture.effects?.();
  const preview = await action.preview(call, before);
  assert.ok(preview.summary.length > 0);
  assert.ok(same(await fixture.readActual(), actual), 'the target is unchanged');
  if (fixture.effects) assert.equal(await fixture.effects(), effects, 'nothing reached the outside system');
}

export async function verifyCatchesDrift(kit: Kit, t: TestContext): Promise<void> {
  const { fixture, call, action } = await kit.prepare();
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
}

export async function verifyCatchesTampering(kit: Kit, t: TestContext): Promise<void> {
  const { fixture, call, action } = await kit.prepare();
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
}

export function refusesLateRollback(kit: Kit): void {
  const { contract } = kit.resolve().action;
  const executedAt = new Date(Date.now() - contract.windowMs - 1000).toISOString();
  assert.match(rollbackWindowRefusal(contract, executedAt, new Date()) ?? '', /rollback window/);
  assert.equal(rollbackWindowRefusal(contract, new Date().toISOString(), new Date()), null);
}
