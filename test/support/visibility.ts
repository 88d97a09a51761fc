import type { Client } from '@temporalio/client';

/** Waits until Temporal's visibility lists `workflowId` for `query`; throws after 20 s. */
export async function waitUntilListed(client: Client, query: string, workflowId: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    for await (const execution of client.workflow.list({ query: `${query} AND WorkflowId = "${workflowId}"` }))
      if (execution.workflowId === workflowId) return;
    if (Date.now() > deadline) throw new Error(`${workflowId} is not listed for ${query} after 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
