/** The test accounts' names and tiers as personal data of each account (subject `account:<target>`). */
export const ACCOUNT_NAMES = {
  targets: [
    { connector: 'postgres', target: 'public.accounts/*', fields: ['name', 'tier'], subject: 'account:{target}' },
  ],
};
