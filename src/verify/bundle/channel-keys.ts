import { approverKeyId, parsePublicKey } from '../decision-signature.js';

/**
 * The Writ channel keys an auditor pinned out of band (`--channel-key <file>`): the public keys of
 * `writ serve`'s channels, whose assertions carry decisions made by single sign-on or in Slack. The
 * recorded directory names channel keys too, but the worker host writes that record; a pinned key
 * is the auditor's own. The file holds a directory's JSON (`channels[].publicKey`), or keys as PEM
 * (SPKI) blocks or base64 of the 32 raw bytes, one per line.
 */
export interface PinnedChannelKey {
  keyId: string;
}

export function pinnedChannelKeys(text: string): PinnedChannelKey[] {
  const trimmed = text.trim();
  const keys = trimmed.startsWith('{') ? keysOfDirectory(JSON.parse(trimmed)) : keysOfText(trimmed);
  if (!keys.length) throw new Error('it holds no channel key');
  return keys.map((key, index) => {
    try {
      return { keyId: approverKeyId(parsePublicKey(key)) };
    } catch (error) {
      throw new Error(`key ${index + 1}: ${(error as Error).message}`);
    }
  });
}

function keysOfDirectory(directory: unknown): string[] {
  const channels = (directory as { channels?: unknown } | null)?.channels;
  if (!Array.isArray(channels))
    throw new Error('a JSON channel keys file is a directory: {"channels": [{"name": ..., "publicKey": ...}]}');
  return channels.map((channel: unknown) => String((channel as { publicKey?: unknown } | null)?.publicKey ?? ''));
}

function keysOfText(text: string): string[] {
  const pem = text.match(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g);
  if (pem) return pem;
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
}
