/**
 * Letta's canonical example, unchanged but for `baseURL` and `apiKey`: a household's after-hours
 * agent with a persona, a human block and two tools, asked about a caller's mother. Run it against
 * a running Hearth: `HEARTH_URL=http://localhost:3000 HEARTH_API_KEY=hth_… npx tsx examples/letta.ts`.
 */
import Letta from '@letta-ai/letta-client';

export async function main(baseURL: string, apiKey: string) {
  const client = new Letta({ baseURL, apiKey });

  const agentState = await client.agents.create({
    model: 'openai/gpt-5',
    memory_blocks: [
      {
        label: 'persona',
        value:
          'I am the after-hours line of Riverside Home Care. I am calm and brief, and I page the ' +
          "on-call doctor when a client's breathing is a worry.",
      },
      { label: 'human', value: 'Grace Adeyemi. Her mother, Ruth (84), lives with her and has COPD.' },
    ],
    tools: ['lookup_account', 'page_on_call_doctor'],
  });

  const response = await client.agents.messages.create(agentState.id, {
    input: "It's about my mom again, the breathing thing",
  });
  for (const message of response.messages) console.log(message);
  return { agentState, response };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main(process.env.HEARTH_URL ?? 'http://localhost:3000', process.env.HEARTH_API_KEY ?? '');
}
