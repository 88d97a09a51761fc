import type { KeyObject } from 'node:crypto';
import type pg from 'pg';
import type { WritClient } from '../../client.js';
import type { EvidenceConfig } from '../../evidence/config.js';
import type { NoteSigner } from '../../verify/note.js';
import type { Narrator } from '../narrator.js';
import { WritError } from '../../model/errors.js';

/** What every chapter may use: the stack, the demo's own directories and the story so far. */
export interface StoryContext {
  writ: WritClient;
  /** The demo database: the ledger and the CRM tables. */
  pool: pg.Pool;
  filesRoot: string;
  /** A private temporary directory (bundles go here). */
  workDir: string;
  signer: NoteSigner & { verifierKey: string };
  evidence: EvidenceConfig;
  say: Narrator;
  /** Aborted when the story is abandoned (Ctrl-C): stop waiting, nothing more to tell. */
  signal: AbortSignal;
  /** Operations of earlier chapters, by chapter number. */
  operations: Map<number, string>;
  /** alice's Ed25519 key: her requests are signed with it, so the worker knows they are hers. */
  requesterKey: KeyObject;
  /** A service's token from the identity provider, fetched afresh (each counts for one request). */
  serviceToken(id: string): Promise<string>;
  /** Where writ serve's approval pages are. */
  serveUrl: string;
}

/** The facts a chapter established, for --json and for the chapters after it. */
export interface ChapterFacts {
  /** The operation this chapter started (a chapter about an earlier one names it `about`). */
  operationId?: string;
  correlationId?: string;
  outcome?: string;
  [fact: string]: unknown;
}

export interface Chapter {
  title: string;
  run(context: StoryContext): Promise<ChapterFacts>;
}

/** The story did not go as told: the message says what was expected and what happened instead. */
export class ChapterFailure extends WritError {
  override readonly name = 'ChapterFailure';
  constructor(message: string) {
    super('STORY_NOT_AS_TOLD', message);
  }
}

export function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ChapterFailure(message);
}
