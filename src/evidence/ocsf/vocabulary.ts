/**
 * The OCSF numbers Writ's export uses, at the one schema version it follows (docs/FORMAT.md
 * section 19). Captions are the schema's own, so a SIEM that shows names shows the schema's names.
 */
export const OCSF_SCHEMA_VERSION = '1.3.0';

export interface OcsfClass {
  classUid: number;
  className: string;
  categoryUid: number;
  categoryName: string;
}

export const API_ACTIVITY: OcsfClass = {
  classUid: 6003,
  className: 'API Activity',
  categoryUid: 6,
  categoryName: 'Application Activity',
};

export const ACCOUNT_CHANGE: OcsfClass = {
  classUid: 3001,
  className: 'Account Change',
  categoryUid: 3,
  categoryName: 'Identity & Access Management',
};

/** An activity as OCSF numbers it; `name` is the caption, or Writ's own word where the id is 99 (Other). */
export interface Activity {
  id: number;
  name: string;
}

export const OTHER = 99;

export const ApiActivity = {
  create: { id: 1, name: 'Create' },
  read: { id: 2, name: 'Read' },
  update: { id: 3, name: 'Update' },
  delete: { id: 4, name: 'Delete' },
} as const satisfies Record<string, Activity>;

export const AccountActivity = {
  create: { id: 1, name: 'Create' },
  enable: { id: 2, name: 'Enable' },
  passwordChange: { id: 3, name: 'Password Change' },
  passwordReset: { id: 4, name: 'Password Reset' },
  disable: { id: 5, name: 'Disable' },
  delete: { id: 6, name: 'Delete' },
  lock: { id: 9, name: 'Lock' },
} as const satisfies Record<string, Activity>;

export function otherActivity(name: string): Activity {
  return { id: OTHER, name };
}

export interface Severity {
  id: number;
  name: string;
}

export const Severity = {
  informational: { id: 1, name: 'Informational' },
  low: { id: 2, name: 'Low' },
  medium: { id: 3, name: 'Medium' },
  high: { id: 4, name: 'High' },
  critical: { id: 5, name: 'Critical' },
} as const satisfies Record<string, Severity>;

export interface Status {
  id: number;
  name: string;
}

export const Status = {
  success: { id: 1, name: 'Success' },
  failure: { id: 2, name: 'Failure' },
  /** Begun, not finished: OCSF 1.3.0 has no such status, so Other with Writ's word. */
  inProgress: { id: OTHER, name: 'In Progress' },
} as const satisfies Record<string, Status>;

/** OCSF user.type_id: a person is a User, a service (Writ's worker, the ledger) a System account. */
export const UserType = {
  user: { id: 1, name: 'User' },
  system: { id: 3, name: 'System' },
} as const;
