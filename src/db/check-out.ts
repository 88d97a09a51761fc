import type pg from 'pg';

export interface CheckedOut {
  client: pg.PoolClient;
  /** The error the connection reported while checked out (the server ended it, the socket broke), if any. */
  lost(): Error | undefined;
  /** Returns the connection: discarded when asked, or when it was lost, else kept for the next caller. */
  release(discard?: boolean | Error): void;
}

/**
 * A connection of the pool's for several statements. The pool listens for errors only on idle
 * connections: a checked-out one that the server ends between two statements (PostgreSQL
 * restarting, an administrator's pg_terminate_backend) emits an 'error' nobody hears, which ends
 * the process. Here that error is kept instead: the next statement fails, as it would have anyway,
 * and the connection is discarded on release rather than handed to the next caller.
 */
export async function checkOut(pool: pg.Pool): Promise<CheckedOut> {
  const client = await pool.connect();
  // `on`, not `once`: a socket can report more than one error (a reset, then the write after it).
  let lost: Error | undefined;
  const onLost = (error: Error) => (lost ??= error);
  client.on('error', onLost);
  return {
    client,
    lost: () => lost,
    release(discard) {
      client.removeListener('error', onLost);
      client.release(lost ?? discard);
    },
  };
}
