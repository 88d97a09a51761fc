import type pg from 'pg';
import { WritError } from '../model/errors.js';

/** Fails at start, not at the first request, when the database has no ledger. */
export async function assertMigrated(pool: pg.Pool): Promise<void> {
  try {
    await pool.query('SELECT 1 FROM writ.operations LIMIT 0');
  } catch (error) {
    if ((error as { code?: string }).code === '42P01' || (error as { code?: string }).code === '3F000') {
      throw new WritError(
        'CONFIG',
        'this database has no ledger (or no what-happened view)',
        'Apply the migrations with `writ migrate`.',
        { cause: error },
      );
    }
    throw error;
  }
}
