import pg from 'pg';
import { checkOut } from './check-out.js';

/**
 * Makes `pool.query` put its connection back in the pool after a statement the server refused.
 *
 * pg's `pool.query` closes the connection after any error, including a refusal, which leaves the
 * connection as good as before. Writ meets refusals as a matter of course: a record key already
 * taken, links the head moved past (WRT08), hostile input turned away. Each one cost a warm
 * session. The next statement then paid for a new backend and for compiling the ledger's triggers
 * again: 20-30 ms a batch, long enough for the batch linked behind it to give up waiting and be
 * refused in turn. On a 2-core machine the appender fell into that loop and stayed in it
 * (1,000-1,400 records/s instead of about 6,000).
 *
 * Errors that are not a refusal still close the connection: a lost connection, one the server
 * ended, or a client-side timeout after which the statement may still be running.
 */
export function keepConnectionsOnRefusal(pool: pg.Pool): pg.Pool {
  const original = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  const query = (...args: unknown[]): unknown => {
    const [statement, values] = args;
    const withCallback = args.some((arg) => typeof arg === 'function');
    const submittable = typeof statement === 'object' && statement !== null && 'submit' in statement;
    if (withCallback || submittable || args.length > 2) return original(...args);
    return queryOnOwnConnection(pool, statement as string | pg.QueryConfig, values as unknown[] | undefined);
  };
  pool.query = query as pg.Pool['query'];
  return pool;
}

async function queryOnOwnConnection(
  pool: pg.Pool,
  statement: string | pg.QueryConfig,
  values: unknown[] | undefined,
): Promise<pg.QueryResult> {
  const { client, lost, release } = await checkOut(pool);
  let failure: unknown;
  try {
    return await client.query(statement, values);
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    // A FATAL (the backend terminated, an idle session timed out) ends the session with it. The
    // severity is in the server's language: one whose messages are not in English gets pg's
    // behaviour, every error closing its connection.
    const refusal = failure instanceof pg.DatabaseError && failure.severity === 'ERROR' && !lost();
    release(!(failure === undefined || refusal));
  }
}
