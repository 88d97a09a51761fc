import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { path } from './wait.js';
import type { Chapter } from './chapter.js';
import { expect } from './chapter.js';

const NOTE = 'Renewal call went well. Acme asks to move to the gold tier.\n';

export const lowRisk: Chapter = {
  title: 'A low-risk write closes on its own',
  async run({ writ, say, filesRoot, requesterKey }) {
    say.say('alice (sales-ops) asks Writ to write a note about Acme: files connector, notes/acme.md.');
    const { operationId, correlationId } = await writ.start(
      {
        actor: { id: 'alice', kind: 'user', groups: ['sales-ops'] },
        intent: 'keep a note of the renewal call',
        steps: [{ connector: 'files', action: 'write', target: 'notes/acme.md', params: { content: NOTE } }],
      },
      { identity: { key: requesterKey } },
    );
    const result = await writ.result(operationId);
    const state = await writ.state(operationId);
    say.say(`No policy rule matches a note, so it is low risk and needs no approval. Writ planned, validated,`);
    say.say('executed, read the file back to verify it, and closed the operation:');
    say.quote(path(state));
    expect(
      result.outcome === 'succeeded',
      `the note should have been written (outcome succeeded), but the outcome is ${result.outcome}`,
    );
    const written = await readFile(join(filesRoot, 'notes', 'acme.md'), 'utf8').catch(() => null);
    expect(written === NOTE, `notes/acme.md should hold the note, but it holds ${JSON.stringify(written)}`);
    say.say(`notes/acme.md now reads: "${NOTE.trim()}"`);
    say.say(`operation ${operationId}`);
    return { operationId, correlationId, outcome: result.outcome, risk: state.envelope?.policy.risk };
  },
};
