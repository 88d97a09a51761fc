import { GetObjectCommand, ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AnchorKeyEvent } from '../verify/anchor-audit.js';
import type { AnchoredCheckpoint } from './anchors.js';
import { chainKeyPrefix, sizeOfKey } from './anchor-s3-config.js';
import type { S3AnchorConfig } from './anchor-s3-config.js';
import { inParallel } from './in-parallel.js';

interface KeyVersion {
  key: string;
  size: number;
  versionId: string;
  at: Date;
}

/** One chain as the bucket holds it: every version of every checkpoint key, and what happened to the keys. */
export interface ChainRead {
  checkpoints: AnchoredCheckpoint[];
  events: AnchorKeyEvent[];
}

/** Versions fetched side by side: a year of five-minute checkpoints is a hundred thousand objects. */
const PARALLEL_GETS = 8;

/**
 * Reads every version of every checkpoint key of the chain, not only the newest: in a versioned
 * bucket an overwrite is a second version, and a delete only hides the locked versions behind a
 * marker. The oldest version of a key is the anchor's own write; any later one is an event.
 */
export async function readChain(
  client: S3Client,
  config: S3AnchorConfig,
  name: string,
  chainId: string,
): Promise<ChainRead> {
  const prefix = chainKeyPrefix(config, chainId);
  const { versions, markers } = await listVersions(client, config.bucket, prefix);
  const byKey = new Map<string, KeyVersion[]>();
  for (const version of versions) byKey.set(version.key, [...(byKey.get(version.key) ?? []), version]);
  // S3 lists a key's versions newest first; times have whole seconds, so the listing breaks ties.
  const ordered = [...byKey.values()].map((list) =>
    [...list].reverse().sort((a, b) => a.at.getTime() - b.at.getTime()),
  );
  const notes = await fetchBodies(client, config.bucket, ordered.flat());
  const checkpoints: AnchoredCheckpoint[] = [];
  const events: AnchorKeyEvent[] = [];
  for (const list of ordered) {
    const first = list[0]!;
    list.forEach((version, index) => {
      const note = notes.get(versionKey(version))!;
      checkpoints.push({
        chainId,
        size: version.size,
        note,
        sink: index === 0 ? name : `${name} version ${version.versionId}`,
      });
      if (index > 0)
        events.push({
          anchor: name,
          size: version.size,
          key: version.key,
          versionId: version.versionId,
          at: version.at.toISOString(),
          kind: 'overwritten',
          identical: note === notes.get(versionKey(first)),
        });
    });
  }
  for (const marker of markers)
    events.push({ anchor: name, ...marker, at: marker.at.toISOString(), kind: 'delete_marker' });
  checkpoints.sort((a, b) => a.size - b.size);
  return { checkpoints, events: events.sort((a, b) => a.size - b.size || a.at.localeCompare(b.at)) };
}

/** A version's identity: its key and id, since an unversioned store calls every version `null`. */
const versionKey = (version: KeyVersion) => `${version.key}\n${version.versionId}`;

async function listVersions(
  client: S3Client,
  bucket: string,
  prefix: string,
): Promise<{ versions: KeyVersion[]; markers: KeyVersion[] }> {
  const versions: KeyVersion[] = [];
  const markers: KeyVersion[] = [];
  const keep = (into: KeyVersion[], entry: { Key?: string; VersionId?: string; LastModified?: Date }) => {
    const size = entry.Key ? sizeOfKey(entry.Key, prefix) : null;
    if (size === null || !entry.Key) return;
    into.push({ key: entry.Key, size, versionId: entry.VersionId ?? 'null', at: entry.LastModified ?? new Date(0) });
  };
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  for (;;) {
    const page = await client.send(
      new ListObjectVersionsCommand({
        Bucket: bucket,
        Prefix: prefix,
        ...(keyMarker ? { KeyMarker: keyMarker } : {}),
        ...(versionMarker ? { VersionIdMarker: versionMarker } : {}),
      }),
    );
    for (const version of page.Versions ?? []) keep(versions, version);
    for (const marker of page.DeleteMarkers ?? []) keep(markers, marker);
    if (!page.IsTruncated) return { versions, markers };
    keyMarker = page.NextKeyMarker;
    versionMarker = page.NextVersionIdMarker;
  }
}

async function fetchBodies(client: S3Client, bucket: string, versions: KeyVersion[]): Promise<Map<string, string>> {
  const notes = new Map<string, string>();
  await inParallel(versions, PARALLEL_GETS, async (version) => {
    const { key, versionId } = version;
    const got = await client.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId !== 'null' ? { VersionId: versionId } : {}) }),
    );
    notes.set(versionKey(version), (await got.Body?.transformToString('utf8')) ?? '');
  });
  return notes;
}
