import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { slackApprovalsFromEnv } from '../../src/cli/shared/slack-approvals.js';
import { directorySource } from '../../src/governance/directory.js';
import { startServeWith } from '../../src/serve/server.js';
import { loadChannelSigner } from '../../src/serve/slack-assertion.js';
import { startSlackApiServer } from '../support/slack-api-server.js';
import { startWrit } from '../support/writ.js';
import { LINK_SECRET, SLACK_SECRET } from './fixtures.js';
import { CHANNEL, CHANNEL_NAME, TEAM, directory, keys, policy } from './slack-approvals-fixtures.js';

describe('Slack approvals misconfigured', () => {
  test('a bot token Slack refuses stops writ serve from starting, saying which setting to fix', async (t) => {
    const cleanups: Array<() => Promise<void>> = [];
    t.after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    });
    const made = keys();
    const harness = await startWrit({ after: (fn) => cleanups.push(fn) }, { policy, approvers: directory(made) });
    const slack = await startSlackApiServer();
    cleanups.push(() => slack.close());
    await assert.rejects(
      startServeWith(
        {
          pool: harness.ledger.pool,
          port: 0,
          linkSecret: LINK_SECRET,
          slackSigningSecret: SLACK_SECRET,
          slackTeamIds: [TEAM],
          slackApprovals: {
            botToken: 'xoxb-revoked',
            channel: CHANNEL,
            slackApiUrl: `${slack.url}/api/`,
            temporal: harness.client,
            taskQueue: harness.taskQueue,
            writ: harness.writ,
            directory: directorySource(directory(made)),
            signer: loadChannelSigner(made.channelKeyPath, CHANNEL_NAME),
          },
        },
        {},
      ),
      /Slack did not accept the bot token \(invalid_auth\)/,
    );
  });

  test('without Slack approvals configured, the interactivity endpoint answers 503 saying what to set', async (t) => {
    const cleanups: Array<() => Promise<void>> = [];
    t.after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    });
    const harness = await startWrit({ after: (fn) => cleanups.push(fn) }, { policy });
    const serve = await startServeWith(
      {
        pool: harness.ledger.pool,
        port: 0,
        linkSecret: LINK_SECRET,
        slackSigningSecret: SLACK_SECRET,
        slackTeamIds: [TEAM],
      },
      {},
    );
    cleanups.push(() => serve.close());
    const response = await fetch(`${serve.url}/slack/interactions`, { method: 'POST', body: 'payload=%7B%7D' });
    assert.equal(response.status, 503);
    assert.match(await response.text(), /Slack approvals are off: set WRIT_SLACK_BOT_TOKEN/);
  });

  test('a channel key that is not an Ed25519 private key is refused with what to do', () => {
    const dir = mkdtempSync(join(tmpdir(), 'writ-slack-key-'));
    const path = join(dir, 'rsa.key');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    assert.throws(() => loadChannelSigner(path, CHANNEL_NAME), /WRIT_CHANNEL_KEY must be an Ed25519 key, not rsa/);
    assert.throws(() => loadChannelSigner(join(dir, 'missing.key'), CHANNEL_NAME), /is not a readable private key/);
  });

  test('a bot token without the rest of the settings names what is missing', async () => {
    assert.equal(await slackApprovalsFromEnv({}), undefined, 'no bot token: Slack approvals are off');
    await assert.rejects(
      slackApprovalsFromEnv({
        WRIT_SLACK_BOT_TOKEN: 'xoxb-1',
        WRIT_SLACK_CHANNEL: 'C1',
        WRIT_SLACK_SIGNING_SECRET: 's',
      }),
      /they also need WRIT_CHANNEL_KEY, WRIT_APPROVERS_FILE, WRIT_SLACK_TEAM_IDS/,
    );
  });
});
