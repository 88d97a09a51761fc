const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** A connection with CREATE DATABASE rights: WRIT_TEST_ADMIN_URL, else the local server. */
export function adminUrl(): string {
  return process.env.WRIT_TEST_ADMIN_URL || DEFAULT_ADMIN_URL;
}

export function databaseUrlFor(name: string): string {
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}
