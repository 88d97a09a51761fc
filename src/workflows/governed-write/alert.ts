import { log, proxyActivities } from '@temporalio/workflow';
import type { AlertActivities } from '../../alerts/activities.js';
import type { Alert } from '../../alerts/message.js';

// A receiver that is down gets five attempts over about fifteen seconds, then the alert is logged
// as lost: an alert must never hold up, or fail, what it reports on.
const { sendAlert } = proxyActivities<Pick<AlertActivities, 'sendAlert'>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 5 },
});

/** Sends the alert; resolves true when it was delivered, false (logged) when every attempt failed. */
export async function trySendAlert(alert: Alert, summary: string): Promise<boolean> {
  try {
    await sendAlert.executeWithOptions({ summary }, [alert]);
    return true;
  } catch (error) {
    log.warn('alert not delivered after every attempt', { kind: alert.kind, error: (error as Error).message });
    return false;
  }
}
