import type { AnchorSink } from './anchors.js';

/**
 * Before the worker or `writ checkpoint` anchors anything: every sink that can check itself does,
 * and the first that cannot keep its promise stops the start, with what fixes it. Exit 2 follows.
 */
export async function preflightAnchors(anchors: readonly AnchorSink[]): Promise<void> {
  for (const sink of anchors) {
    if (!sink.preflight) continue;
    try {
      await sink.preflight();
    } catch (error) {
      const fix = (error as { fix?: string }).fix;
      throw new Error(`anchor ${sink.name} is unusable: ${(error as Error).message}${fix ? `\nfix: ${fix}` : ''}`, {
        cause: error,
      });
    }
  }
}
