/** The `end_call` tool: the agent hangs up itself, after its goodbye has played. */
import type { AgentTool } from '../agent/index.js';

export const END_CALL_TOOL = 'end_call';

/** `end_call`, which calls `onEnd` and lets the model say goodbye before the line drops. */
export function endCallTool(onEnd: () => void): AgentTool {
  return {
    definition: {
      name: END_CALL_TOOL,
      description:
        'Hang up the phone call. Use it once the caller has said goodbye or asked to end the call; ' +
        'after it, say a short goodbye: the line drops when you finish speaking.',
      parameters: {
        type: 'object',
        properties: { reason: { type: 'string', description: 'Why the call ends, in a few words' } },
        additionalProperties: false,
      },
    },
    async run() {
      onEnd();
      return { ok: true, output: 'The call will end after your goodbye. Say goodbye now, briefly.' };
    },
  };
}
