/** JSON values as they travel through Temporal payloads and the ledger. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };
