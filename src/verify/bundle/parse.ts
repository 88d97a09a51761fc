import type { BundleFindingCode } from './findings.js';

/** How a check reports a finding about its file; `seq` names the record, where there is one. */
export type Report = (code: BundleFindingCode, problem: string, seq?: number) => void;

/** A record line of records.jsonl, decoded; `record` is null when its bytes are not a JSON object. */
export interface ParsedRecord {
  seq: number;
  canonical: Buffer;
  hash: Buffer;
  record: Record<string, unknown> | null;
}

export const HEX32 = /^[0-9a-f]{64}$/;

/** Strict UTF-8 for every file and record of a bundle: invalid bytes throw rather than become U+FFFD. */
export const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Bundle files are untrusted bytes: decoding them never throws, it reports. */
export function parseJson(data: Buffer, report: (problem: string) => void): unknown {
  let text: string;
  try {
    text = UTF8.decode(data);
  } catch {
    report('is not valid UTF-8');
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    report(`is not JSON: ${(error as Error).message}`);
    return undefined;
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}
