import { WritError } from '../model/errors.js';
import { DEFAULT_LINK_TTL_SECONDS, checkTtl } from './config.js';
import { idProblem } from './evidence.js';
import type { SignedLinks } from './signed-links.js';
import { signedLinks } from './signed-links.js';

/** The record schema's limit on an actor id: every use of a link is recorded under its requester. */
const MAX_REQUESTER_LENGTH = 256;

export interface IssueRequest {
  baseUrl: string;
  secret: string;
  id: string;
  requester: string;
  ttlSeconds?: number;
  nowMs: number;
}

/** Timeline, CSV and JSON links for one id and one requester, all ending at the same moment. */
export function issueLinks(request: IssueRequest): SignedLinks & { expires: number } {
  const problem = idProblem(request.id);
  if (problem) throw new WritError('USAGE', problem);
  const requester = request.requester.trim();
  if (!requester)
    throw new WritError(
      'USAGE',
      'a link needs a requester: the person it is for, under whose name each use is recorded',
    );
  if (requester.length > MAX_REQUESTER_LENGTH)
    throw new WritError(
      'USAGE',
      `a requester is at most ${MAX_REQUESTER_LENGTH} characters; this one has ${requester.length}`,
    );
  const ttl = checkTtl(request.ttlSeconds ?? DEFAULT_LINK_TTL_SECONDS);
  const expires = Math.floor(request.nowMs / 1000) + ttl;
  return { ...signedLinks(request.baseUrl, request.secret, request.id, requester, expires), expires };
}
