-- Up Migration
-- Identities (issue 12): every summary of a request or a decision says whether a proof established
-- who it was. A record from before identities were checked carries no such field, and nothing
-- proved who it was either, so it too reads "identity not verified".

CREATE FUNCTION writ.identity_note(verified boolean) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN verified THEN '' ELSE ' (identity not verified)' END
$$;

-- A decision's record says how its decider was identified: `identityVerified` and the channel.
CREATE FUNCTION writ.decision_identity_note(payload jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN payload ->> 'identityVerified' = 'true'
              THEN format(' (verified: %s)', coalesce(payload -> 'identity' ->> 'channel', 'proof'))
              ELSE ' (identity not verified)' END
$$;

CREATE OR REPLACE FUNCTION writ.event_summary(rec jsonb, change text DEFAULT NULL) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT left(CASE rec ->> 'type'
    WHEN 'operation.planned' THEN
      CASE WHEN jsonb_typeof(rec -> 'payload' -> 'envelope') = 'object' THEN
        format('%s%s asked for %s step(s): %s', rec -> 'actor' ->> 'id', writ.identity_note(rec -> 'actor' ->> 'identity' = 'verified'),
               CASE WHEN jsonb_typeof(rec -> 'payload' -> 'envelope' -> 'targets') = 'array' THEN jsonb_array_length(rec -> 'payload' -> 'envelope' -> 'targets') END,
               rec -> 'payload' -> 'envelope' ->> 'intent')
      ELSE format('request from %s%s refused at planning: %s', rec -> 'actor' ->> 'id', writ.identity_note(false), rec -> 'payload' ->> 'problem') END
    WHEN 'policy.decided' THEN
      format('policy %s: risk %s, %s approval(s) required', rec -> 'payload' -> 'decision' ->> 'policyId',
             rec -> 'payload' -> 'decision' ->> 'risk', rec -> 'payload' -> 'decision' ->> 'approvalsRequired')
    WHEN 'operation.validated' THEN 'validated against the current state of every target'
    WHEN 'operation.validation_failed' THEN 'invalid: ' || writ.joined(rec -> 'payload' -> 'problems', '; ')
    WHEN 'approval.requested' THEN
      format('%s approval(s) requested from %s, until %s', rec -> 'payload' ->> 'required',
             coalesce(nullif(writ.joined(rec -> 'payload' -> 'approverGroups', ', '), ''), 'any approver'), rec -> 'payload' ->> 'deadline')
    WHEN 'approval.not_requested' THEN coalesce(rec -> 'payload' ->> 'reason', 'approval not requested')
    WHEN 'approval.granted' THEN format('approved by %s%s: %s', rec -> 'payload' ->> 'approver', writ.decision_identity_note(rec -> 'payload'), rec -> 'payload' ->> 'reason')
    WHEN 'approval.rejected' THEN format('rejected by %s%s: %s', rec -> 'payload' ->> 'approver', writ.decision_identity_note(rec -> 'payload'), rec -> 'payload' ->> 'reason')
    WHEN 'approval.refused' THEN
      format('%s by %s%s refused: %s', CASE WHEN rec -> 'payload' ->> 'kind' = 'reject' THEN 'rejection' ELSE 'approval' END,
             rec -> 'payload' ->> 'approver', writ.decision_identity_note(rec -> 'payload'), rec -> 'payload' ->> 'refusal')
    WHEN 'approval.stale' THEN 'approval went stale: a target changed after it was approved, so approval is asked again'
    WHEN 'operation.approved' THEN 'approval complete: approved by ' || writ.joined(rec -> 'payload' -> 'approvers', ', ')
    WHEN 'operation.rejected' THEN format('rejected by %s: %s; nothing was changed', rec -> 'payload' ->> 'approver', rec -> 'payload' ->> 'reason')
    WHEN 'operation.expired' THEN
      format('expired at %s with %s of %s approval(s); nothing was changed', rec -> 'payload' ->> 'deadline', rec -> 'payload' ->> 'granted', rec -> 'payload' ->> 'required')
    WHEN 'step.executing' THEN
      format('step %s: %s %s%s', writ.step_number(rec), rec -> 'payload' -> 'target' ->> 'action', rec -> 'payload' -> 'target' ->> 'identity',
             CASE WHEN rec -> 'payload' ->> 'dryRun' = 'true' THEN ' (dry run)' ELSE '' END)
    WHEN 'step.executed' THEN
      format('step %s %s %s', writ.step_number(rec), CASE WHEN rec -> 'payload' ->> 'dryRun' = 'true' THEN 'previewed,' ELSE 'changed' END,
             coalesce(change, writ.step_change(rec -> 'payload')))
    WHEN 'step.execution_failed' THEN format('step %s failed to execute: %s', writ.step_number(rec), rec -> 'payload' ->> 'error')
    WHEN 'step.verifying' THEN format('step %s: reading the target back', writ.step_number(rec))
    WHEN 'step.verified' THEN
      CASE WHEN rec -> 'payload' ->> 'dryRun' = 'true'
           THEN format('step %s checked: the target did not change during the dry run', writ.step_number(rec))
           ELSE format('step %s verified: the target reads back as written', writ.step_number(rec)) END
    WHEN 'step.verification_failed' THEN format('step %s failed verification: %s', writ.step_number(rec), rec -> 'payload' ->> 'reason')
    WHEN 'step.compensating' THEN format('step %s: rolling back (%s)', writ.step_number(rec), rec -> 'payload' ->> 'method')
    WHEN 'step.compensated' THEN format('step %s rolled back', writ.step_number(rec))
    WHEN 'step.compensation_failed' THEN format('step %s could not be rolled back: %s', writ.step_number(rec), rec -> 'payload' ->> 'error')
    WHEN 'operation.compensated' THEN format('every executed step was rolled back (%s)', rec -> 'payload' ->> 'cause')
    WHEN 'operation.compensation_failed' THEN 'rollback failed: ' || writ.joined(rec -> 'payload' -> 'failures', '; ')
    WHEN 'operation.needs_intervention' THEN format('needs a person: %s', rec -> 'payload' ->> 'cause')
    WHEN 'operation.resolved' THEN
      format('resolved by hand by %s%s: %s (%s)', rec -> 'payload' ->> 'by', writ.decision_identity_note(rec -> 'payload'), rec -> 'payload' ->> 'action', rec -> 'payload' ->> 'reason')
    WHEN 'operation.resolve_refused' THEN format('resolution by %s%s refused: %s', rec -> 'payload' ->> 'by', writ.decision_identity_note(rec -> 'payload'), rec -> 'payload' ->> 'refusal')
    WHEN 'operation.closed' THEN format('closed: %s', rec -> 'payload' ->> 'outcome')
    ELSE CASE WHEN rec ->> 'type' LIKE 'manual.%'
              THEN format('%s by %s (recorded by hand): %s', substr(rec ->> 'type', 8), rec -> 'actor' ->> 'id', rec -> 'payload' ->> 'message')
              ELSE rec ->> 'type' END
  END, 200)
$$;
