import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../../src/db/index.js';
import { demoDataDir, migratedDataDir, PROCESS_TEST_TIMEOUT_MS, runHearth, spawnHearth } from '../support/cli.js';
import { type OpenAIStub, startOpenAIStub } from '../support/openai-stub.js';

let stub: OpenAIStub;
beforeAll(async () => {
  stub = await startOpenAIStub();
});
afterAll(() => stub.close());

describe('hearth chat', { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it('holds a conversation that changes memory, and a second session (another member) sees it', async () => {
    const {
      dataDir,
      householdId,
      memberIds: [grandmother, son],
    } = demoDataDir();
    const env = { HEARTH_DATA_DIR: dataDir, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: stub.url };

    stub.queueChat(
      {
        toolCalls: [
          { name: 'core_memory_append', arguments: { label: 'household', content: 'The dog is called Biscuit.' } },
        ],
      },
      { text: 'Biscuit is a lovely name.' },
      { text: 'Adaeze told us the dog is called Biscuit.' }, // the consolidation's summary
    );
    const first = await runHearth(
      ['chat', '--household', householdId!, '--member', grandmother!],
      env,
      'Our dog is called Biscuit.\n/exit\n',
    );
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('hearth> Biscuit is a lovely name.');
    expect(first.stderr).toContain('core_memory_append ✓');
    expect(first.stderr).toContain('Saved. Summary: Adaeze told us the dog is called Biscuit.');

    stub.queueChat({ text: 'Your dog is Biscuit.' }, { text: 'Chidi asked about the dog.' });
    const second = await runHearth(
      ['chat', '--household', householdId!, '--member', son!],
      env,
      'What is our dog called?\n',
    );
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('hearth> Your dog is Biscuit.');
    const requests = stub.chatRequests();
    const chidisFirstRequest = requests.findIndex((request) =>
      JSON.stringify(request.messages).includes('What is our dog called?'),
    );
    const instructions = String(requests[chidisFirstRequest]?.messages[0]?.content);
    expect(instructions).toContain('The dog is called Biscuit.');
    expect(instructions).toContain('Chidi Okafor');
  });

  it('refuses a member of another household, naming it', async () => {
    const env = {
      HEARTH_DATA_DIR: migratedDataDir(),
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: stub.url,
    };
    const id = '00000000-0000-4000-8000-000000000000';
    const result = await runHearth(['chat', '--household', id, '--member', id], env, 'hello\n');
    expect(result).toMatchObject({ code: 2, stderr: expect.stringContaining(`No member ${id}`) });
  });

  it('leaves at once on Ctrl-C mid-reply: ends the conversation, queues its consolidation, releases the database', async () => {
    const {
      dataDir,
      householdId,
      memberIds: [member],
    } = demoDataDir();
    const env = { HEARTH_DATA_DIR: dataDir, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: stub.url };

    stub.reset();
    stub.queueChat({ text: 'This reply comes far too late.', delayMs: 20_000 });
    const child = spawnHearth(['chat', '--household', householdId, '--member', member!], env);
    child.stdin.write('Tell me a long story.\n');
    await vi.waitFor(() => expect(stub.chatRequests()).toHaveLength(1), { timeout: 20_000, interval: 100 });
    child.kill('SIGINT');
    const { code, stderr } = await child.exited;
    expect(code).toBe(0);
    expect(stderr).toContain('Left. Saving this chat to memory is queued');
    expect(existsSync(path.join(dataDir, 'hearth.lock'))).toBe(false);

    const db = await openDatabase({ kind: 'pglite', dataDir });
    try {
      const calls = await db.prisma.call.findMany({ where: { channel: 'text' } });
      expect(calls.map((call) => call.status)).toEqual(['completed']);
    } finally {
      await db.close();
    }
  });
});
