/**
 * The process settings `writ worker` is run with in production (docker-compose.yml's writ-worker
 * service, and the P6 benchmark that measures it). They must be in the environment before Node
 * starts, so they cannot be set from inside the worker.
 *
 * - `--max-old-space-size`: with Node's default ceiling (about 4 GiB on a 24 GiB machine) V8
 *   collects late and the resident set follows the garbage, not what is live (63 MB of a 100 MB
 *   heap, measured under load).
 * - `--max-semi-space-size`: the young generation is sized per isolate, and the worker runs two
 *   (the main thread and the workflow sandbox thread).
 * - `MALLOC_ARENA_MAX`: glibc gives each thread that allocates its own arena; the SDK's Rust core
 *   runs a thread pool, and the arenas' free space stays resident.
 *
 * BENCHMARKS.md (P6) has the before and after of each.
 */
export const WORKER_MEMORY_ENV = {
  NODE_OPTIONS: '--max-old-space-size=256 --max-semi-space-size=4',
  MALLOC_ARENA_MAX: '2',
} as const;

const LARGE_HEAP_MB = 1024;

/**
 * What `writ worker` says at start when it runs without those settings: the heap ceiling is
 * read from V8, since NODE_OPTIONS is only one of the ways to set it.
 */
export function memoryWarnings(env: NodeJS.ProcessEnv, heapLimitMb: number): string[] {
  const warnings: string[] = [];
  if (heapLimitMb > LARGE_HEAP_MB)
    warnings.push(
      `warning: the worker's V8 heap may grow to ${Math.round(heapLimitMb)} MB (NODE_OPTIONS=${JSON.stringify(env.NODE_OPTIONS ?? '')}); ` +
        `V8 then collects late and the resident set follows the garbage. Set NODE_OPTIONS="${WORKER_MEMORY_ENV.NODE_OPTIONS}".`,
    );
  if (!env.MALLOC_ARENA_MAX)
    warnings.push(
      `warning: MALLOC_ARENA_MAX is unset, so glibc keeps an arena per allocating thread resident; set MALLOC_ARENA_MAX=${WORKER_MEMORY_ENV.MALLOC_ARENA_MAX}.`,
    );
  return warnings;
}
