import { defineSearchAttributeKey } from '@temporalio/common';

/** Writ's typed search attributes: what an operator filters on in the Temporal Web UI. */
export const WRIT_SEARCH_ATTRIBUTES = {
  state: defineSearchAttributeKey('WritState', 'KEYWORD'),
  correlationId: defineSearchAttributeKey('WritCorrelationId', 'KEYWORD'),
  actor: defineSearchAttributeKey('WritActor', 'KEYWORD'),
  connector: defineSearchAttributeKey('WritConnector', 'KEYWORD'),
  risk: defineSearchAttributeKey('WritRisk', 'KEYWORD'),
  mode: defineSearchAttributeKey('WritMode', 'KEYWORD'),
} as const;
