/** One agent turn (a tool call, then a reply) against the OpenAI stand-in vs the same two requests sent directly. */
import OpenAI from 'openai';
import { AgentSession, createModelProvider } from '../src/agent/index.js';
import { startOpenAIStub } from '../test/support/openai-stub.js';
import { type BenchResult, measure, openHousehold, progress, silent } from './harness.js';

/** Hearth's own cost per turn: recall writes, two context compiles, the tool run and the provider's mapping. */
export async function agentTurnBench(): Promise<BenchResult> {
  const household = await openHousehold();
  const stub = await startOpenAIStub();
  try {
    const { memory, scope } = household;
    const script = () =>
      stub.queueChat(
        { toolCalls: [{ name: 'core_memory_append', arguments: { label: 'caller', content: 'Likes tea.' } }] },
        { text: 'Noted: you like your tea strong.' },
      );
    const provider = createModelProvider({ apiKey: 'sk-bench', baseUrl: stub.url, defaultModel: 'gpt-bench' });
    progress('agent turn: 40 turns through AgentSession, 40 pairs of direct SDK requests');
    const subject = await measure({
      warmup: 5,
      iterations: 40,
      op: async () => {
        script();
        // A new session per turn, so every turn sends the same-sized history.
        const session = new AgentSession({ memory, provider, logger: silent, scope, maxSteps: 4 });
        const { toolCalls } = await session.turn({ text: 'Remember that I like my tea strong.' });
        if (toolCalls[0]?.ok !== true) throw new Error(`The scripted tool call failed: ${toolCalls[0]?.output}`);
      },
    });
    // The baseline replays the last turn's two requests, as sent, through the same SDK.
    const [first, second] = stub.chatRequests().slice(-2);
    const client = new OpenAI({ apiKey: 'sk-bench', baseURL: stub.url });
    const baseline = await measure({
      warmup: 5,
      iterations: 40,
      op: async () => {
        script();
        await client.post('/chat/completions', { body: first });
        await client.post('/chat/completions', { body: second });
      },
    });
    return { rows: [{ name: 'AgentSession.turn, 1 tool call (2 SDK requests)', subject, baseline }], notes: [] };
  } finally {
    await stub.close();
    await household.close();
  }
}
