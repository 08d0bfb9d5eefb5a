/**
 * Letta's messages over Hearth's text channel. An agent's messages continue the speaking member's
 * open text conversation (or start one), so they run Hearth's own loop, tools and recall, and
 * the conversation is consolidated into memory when it ends or goes idle, like any other. Recall
 * rows become Letta messages: a tool row is a tool call and its return, sharing the row's id.
 */
import type express from 'express';
import type { RecordedMessage } from '../agent/index.js';
import type { TextChannel } from '../calls/index.js';
import type { PrismaClient } from '../db/index.js';
import { HearthError, NotFoundError, ValidationError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { MessageCreate } from './schemas.js';
import type { ToolCatalog } from './tools.js';
import { cursorOf, type ListQuery, lettaId, pageOf } from './wire.js';

/** A comment line every so often keeps proxies from closing a quiet stream; the client skips comments. */
const KEEPALIVE_MS = 15_000;

/** A recall row as a Letta message is made from it. */
type Row = Omit<RecordedMessage, 'tool'> & {
  memberId: string | null;
  tool?: { name: string; arguments: string; callId: string; ok?: boolean } | undefined;
};

/** A message as Letta's client reads it; `message_type` says which of Letta's kinds. */
export type LettaMessage = { id: string; date: string; message_type: string } & Record<string, unknown>;

/** What every Letta message carries; only the user's own messages have a sender (the member). */
function messageBase(row: Pick<Row, 'id' | 'createdAt' | 'role' | 'memberId'>) {
  return {
    id: lettaId('message', row.id),
    date: row.createdAt.toISOString(),
    sender_id: row.role === 'user' && row.memberId ? lettaId('identity', row.memberId) : null,
    otid: null,
    run_id: null,
    step_id: null,
  };
}

/** The Letta messages of one recall row: a tool row is the call and its return, under the row's id. */
function lettaMessages(row: Row, names: (tool: string) => string): LettaMessage[] {
  const base = messageBase(row);
  switch (row.role) {
    case 'user':
      return [{ ...base, message_type: 'user_message', content: row.content }];
    case 'assistant':
      return [{ ...base, message_type: 'assistant_message', content: row.content }];
    case 'system':
      return [{ ...base, message_type: 'system_message', content: row.content }];
    case 'tool': {
      const tool = row.tool ?? { name: 'unknown', arguments: '{}', callId: row.id };
      const call = { name: names(tool.name), arguments: tool.arguments, tool_call_id: tool.callId };
      return [
        { ...base, message_type: 'tool_call_message', tool_call: call, tool_calls: [call] },
        {
          ...base,
          message_type: 'tool_return_message',
          tool_return: row.content,
          status: tool.ok === false ? 'error' : 'success',
          tool_call_id: tool.callId,
          stdout: null,
          stderr: null,
        },
      ];
    }
  }
}

/** What the messages routes are built from. */
export interface MessageDeps {
  prisma: PrismaClient;
  conversations: TextChannel;
  catalog: ToolCatalog;
  logger: Logger;
}

/** The turn an agent is asked for: whose household, who speaks, what they say, which tool names it chose. */
export interface AgentTurn {
  organizationId: string;
  householdId: string;
  memberId: string;
  text: string;
  chosenTools: string[];
  /** Only these message types in the answer (Letta's `include_return_message_types`). */
  types?: string[] | undefined;
  /** Stream the reply's text as it arrives (Letta's `stream_tokens`), not whole messages. */
  streamTokens?: boolean | undefined;
}

/** Sends messages to agents and lists what they said. */
export class LettaMessages {
  readonly #deps: MessageDeps;

  constructor(deps: MessageDeps) {
    this.#deps = deps;
  }

  /** Runs the turn and answers Letta's `LettaResponse`. */
  async send(turn: AgentTurn) {
    const messages: LettaMessage[] = [];
    const result = await this.#run(turn, (message) => messages.push(message), await this.#conversationOf(turn));
    return { messages, ...finish(result) };
  }

  /** Runs the turn and streams each message as recall stores it, then the stop reason, usage and `[DONE]`. */
  async stream(turn: AgentTurn, req: express.Request, res: express.Response): Promise<void> {
    // Anything that would fail before the turn (an unknown member, an ended conversation) failed
    // already, as a plain error response: from here on, failures are events of the stream.
    const conversationId = await this.#conversationOf(turn);
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    const send = (data: unknown) => res.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    try {
      const result = await this.#run(turn, send, conversationId, { signal: gone.signal, tokens: turn.streamTokens });
      const { stop_reason, usage } = finish(result);
      send(stop_reason);
      send(usage);
    } catch (error) {
      const known = error instanceof HearthError ? error : undefined;
      if (!known) this.#deps.logger.error({ err: error, householdId: turn.householdId }, 'letta stream failed');
      send({ message_type: 'stop_reason', stop_reason: 'error' });
      const message = known?.message ?? `Something went wrong on our side. Quote request id ${String(req.id)}.`;
      res.write(
        `event: error\ndata: ${JSON.stringify({ message_type: 'error_message', error_type: known?.code ?? 'internal_error', message, detail: message })}\n\n`,
      );
    } finally {
      clearInterval(keepalive);
    }
    send('[DONE]');
    res.end();
  }

  /** A page of the household's recall as Letta messages, every member's and call's, by time. */
  async list(input: ListQuery & { organizationId: string; householdId: string; chosenTools: string[] }) {
    const { prisma, catalog } = this.#deps;
    const { organizationId, householdId } = input;
    const cursor = await cursorOf(
      input,
      (id) =>
        prisma.message.findFirst({ where: { id, householdId, organizationId }, select: { id: true, createdAt: true } }),
      'message',
    );
    const page = pageOf(input, cursor);
    const rows = await prisma.message.findMany({
      where: { organizationId, householdId, ...page.where },
      orderBy: page.orderBy,
      take: page.take,
      select: {
        id: true,
        createdAt: true,
        role: true,
        content: true,
        memberId: true,
        toolName: true,
        toolArgs: true,
        toolCallId: true,
      },
    });
    const names = (tool: string) => catalog.displayName(input.chosenTools, tool);
    return page.arrange(rows).flatMap((row) => {
      const tool =
        row.role === 'tool'
          ? {
              name: row.toolName ?? 'unknown',
              arguments: typeof row.toolArgs === 'string' ? row.toolArgs : JSON.stringify(row.toolArgs ?? {}),
              callId: row.toolCallId ?? row.id,
            }
          : undefined;
      const messages = lettaMessages({ ...row, tool }, names);
      // A page read newest first shows a tool's return before its call, as the rows' order would.
      return input.order === 'desc' ? messages.reverse() : messages;
    });
  }

  /**
   * Runs the turn, emitting each message of the answer as recall stores it; with `tokens`, the
   * reply's text as it arrives instead, in pieces that share the id its message is stored under.
   */
  async #run(
    turn: AgentTurn,
    emit: (message: LettaMessage) => void,
    conversationId: string | undefined,
    options: { signal?: AbortSignal; tokens?: boolean | undefined } = {},
  ) {
    const { conversations, catalog } = this.#deps;
    const names = (tool: string) => catalog.displayName(turn.chosenTools, tool);
    const wanted = (type: string) => !turn.types || turn.types.includes(type);
    const streamed = new Set<string>();
    return conversations.send({
      householdId: turn.householdId,
      memberId: turn.memberId,
      text: turn.text,
      ...(conversationId ? { conversationId } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.tokens
        ? {
            onTextDelta: (delta: string, id: string) => {
              streamed.add(id);
              const piece = { id, createdAt: new Date(), role: 'assistant' as const, memberId: null };
              if (wanted('assistant_message'))
                emit({ ...messageBase(piece), message_type: 'assistant_message', content: delta });
            },
          }
        : {}),
      onMessage: (message) => {
        // The user's own message is not part of the answer, as on Letta's server; a streamed reply was sent in pieces.
        if (message.role === 'user' || streamed.has(message.id)) return;
        for (const letta of lettaMessages({ ...message, memberId: turn.memberId }, names)) {
          if (wanted(letta.message_type)) emit(letta);
        }
      },
    });
  }

  /** The member's open text conversation with the agent, if there is one; a message starts one otherwise. */
  async #conversationOf(turn: AgentTurn): Promise<string | undefined> {
    const { prisma } = this.#deps;
    const member = await prisma.member.findFirst({
      where: { id: turn.memberId, householdId: turn.householdId, organizationId: turn.organizationId },
      select: { id: true },
    });
    if (!member) {
      throw new NotFoundError(
        `No identity ${lettaId('identity', turn.memberId)} on agent ${lettaId('agent', turn.householdId)}.`,
      );
    }
    const open = await prisma.call.findFirst({
      where: { householdId: turn.householdId, memberId: turn.memberId, channel: 'text', status: 'in_progress' },
      orderBy: { startedAt: 'desc' },
      select: { id: true },
    });
    return open?.id;
  }
}

/** Letta's closing objects for a turn's result. */
function finish(result: Awaited<ReturnType<TextChannel['send']>>) {
  const { inputTokens, outputTokens } = result.usage;
  return {
    stop_reason: {
      message_type: 'stop_reason' as const,
      stop_reason: result.stopReason === 'answered' ? 'end_turn' : 'max_steps',
    },
    usage: {
      message_type: 'usage_statistics' as const,
      prompt_tokens: inputTokens,
      completion_tokens: outputTokens,
      total_tokens: inputTokens + outputTokens,
      step_count: result.steps,
      run_ids: null,
    },
  };
}

/** The text of a Letta message body: its `input`, or its user messages joined. */
export function textOf(body: MessageCreate): { text: string; senderId: string | undefined } {
  const plain = (content: string | { text: string }[]) =>
    typeof content === 'string' ? content : content.map((part) => part.text).join('\n');
  if (body.input !== undefined) {
    const text = plain(body.input);
    if (text.trim() === '') throw new ValidationError('input: the text is empty; say something to the agent.');
    return { text, senderId: undefined };
  }
  const messages = body.messages ?? [];
  const senders = new Set(messages.map((message) => message.sender_id));
  if (senders.size > 1)
    throw new ValidationError('messages: they name different sender_ids; send one speaker at a time.');
  const text = messages.map((message) => plain(message.content)).join('\n');
  if (text.trim() === '') throw new ValidationError('messages: the text is empty; say something to the agent.');
  return { text, senderId: messages[0]?.sender_id };
}
