/**
 * `hearth chat`: talk to a household's agent from a terminal, as one of its members — the same
 * agent, memory and loop as a phone call. Replies stream as they are written; the tools the
 * agent used are shown after each reply. Ending the chat (`/exit` or Ctrl-D) consolidates it
 * into memory before the command exits; Ctrl-C leaves at once and queues the consolidation.
 *
 * @example
 * npx hearth chat --household 6c1f… --member 9a2e…
 */
import readline from 'node:readline';
import { CONSOLIDATE_CALL_JOB, type TurnToolCall } from '../agent/index.js';
import { HearthError, NotFoundError } from '../errors.js';
import type { Services } from '../services.js';

const CONSOLIDATION_WAIT_MS = 120_000;
const POLL_MS = 250;
const EXIT_COMMANDS = new Set(['/exit', '/quit']);

interface Terminal {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Where notes about the session go (tools used, errors, consolidation), apart from the conversation. */
  notes: NodeJS.WritableStream;
}

function describeTool(call: TurnToolCall): string {
  return `  · ${call.name} ${call.ok ? '✓' : '✗'} ${call.output.split('\n')[0]}`;
}

/** Runs one chat session until the input ends; resolves once its consolidation finished or was left queued. */
export async function chat(
  services: Services,
  input: { householdId: string; memberId: string },
  terminal: Terminal = { input: process.stdin, output: process.stdout, notes: process.stderr },
): Promise<void> {
  const member = await services.db.prisma.member.findFirst({
    where: { id: input.memberId, householdId: input.householdId },
    include: { household: true },
  });
  if (!member) throw new NotFoundError(`No member ${input.memberId} in household ${input.householdId}.`);
  const interactive = 'isTTY' in terminal.input && terminal.input.isTTY === true;
  terminal.notes.write(
    `Chatting with ${member.household.name}'s assistant as ${member.name}. /exit or Ctrl-D ends; Ctrl-C leaves at once.\n`,
  );

  const lines = readline.createInterface({ input: terminal.input, terminal: false });
  const interrupt = new AbortController();
  const onInterrupt = () => {
    interrupt.abort();
    lines.close();
  };
  process.once('SIGINT', onInterrupt);
  let conversationId: string | undefined;
  try {
    if (interactive) terminal.output.write('you> ');
    for await (const line of lines) {
      const text = line.trim();
      if (EXIT_COMMANDS.has(text)) break;
      if (text) {
        conversationId ??= (await services.conversations.start(input)).conversationId;
        terminal.output.write('hearth> ');
        try {
          const result = await services.conversations.send({
            ...input,
            text,
            conversationId,
            signal: interrupt.signal,
            onTextDelta: (delta) => terminal.output.write(delta),
          });
          terminal.output.write('\n');
          for (const call of result.toolCalls) terminal.notes.write(`${describeTool(call)}\n`);
        } catch (error) {
          // A failed turn (the model is down, say) is reported; the chat goes on.
          if (interrupt.signal.aborted || !(error instanceof HearthError)) throw error;
          terminal.output.write('\n');
          terminal.notes.write(`hearth: ${error.message}\n`);
        }
      }
      if (interactive) terminal.output.write('you> ');
    }
  } catch (error) {
    if (!interrupt.signal.aborted) throw error;
  } finally {
    process.off('SIGINT', onInterrupt);
    lines.close();
  }
  if (!conversationId) return;
  const ended = { householdId: input.householdId, conversationId };
  if (interrupt.signal.aborted) {
    await services.conversations.end(ended);
    terminal.notes.write('\nLeft. Saving this chat to memory is queued for the next time Hearth runs.\n');
    return;
  }
  await endAndConsolidate(services, ended, terminal);
}

async function endAndConsolidate(
  services: Services,
  input: { householdId: string; conversationId: string },
  terminal: Terminal,
): Promise<void> {
  const { consolidationJobId } = await services.conversations.end(input);
  if (!consolidationJobId) return;
  terminal.notes.write('Saving what was learned to memory… (Ctrl-C to leave it queued)\n');
  let leave = false;
  const onInterrupt = () => {
    leave = true;
  };
  process.once('SIGINT', onInterrupt);
  try {
    const deadline = Date.now() + CONSOLIDATION_WAIT_MS;
    while (Date.now() < deadline && !leave) {
      const job = await services.queue.getJob({ name: CONSOLIDATE_CALL_JOB, id: consolidationJobId });
      if (job?.state === 'completed') {
        const call = await services.db.prisma.call.findUnique({ where: { id: input.conversationId } });
        terminal.notes.write(`Saved. Summary: ${call?.summary ?? '(none)'}\n`);
        return;
      }
      if (job?.state === 'failed') {
        terminal.notes.write(`Could not save this chat to memory: ${job.error ?? 'unknown error'}\n`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    process.off('SIGINT', onInterrupt);
  }
  terminal.notes.write('Still saving; the job stays queued and finishes the next time Hearth runs.\n');
}
