/** The parts of Slack's block_actions payload (a button click) Writ reads; anything may be missing. */
export interface BlockActionsPayload {
  type?: unknown;
  team?: { id?: unknown } | null;
  user?: { id?: unknown } | null;
  actions?: Array<{ action_id?: unknown; value?: unknown }>;
  response_url?: unknown;
  /** Lets the app open a modal for the user, within 3 seconds of the click. */
  trigger_id?: unknown;
  /** Set when the click was inside a modal: the view clicked in, as Slack holds it. */
  view?: { id?: unknown; hash?: unknown; callback_id?: unknown; private_metadata?: unknown } | null;
}

export function parsePayload(form: URLSearchParams): BlockActionsPayload | undefined {
  try {
    const payload: unknown = JSON.parse(form.get('payload') ?? '');
    return payload && typeof payload === 'object' ? (payload as BlockActionsPayload) : undefined;
  } catch {
    return undefined;
  }
}

/** A member that should be a non-empty string, or undefined. */
export function text(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined;
}
