import { proxyActivities } from '@temporalio/workflow';

/** The baseline of P4: the same connector write, as one activity, with no governance around it. */
export interface BareActivities {
  bareUpdate(target: string, tier: string, key: string): Promise<void>;
}

const { bareUpdate } = proxyActivities<BareActivities>({ startToCloseTimeout: '60 seconds' });

export async function bareWrite(target: string, tier: string, key: string): Promise<void> {
  await bareUpdate(target, tier, key);
}
