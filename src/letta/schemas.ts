/**
 * What Letta's client sends, as zod schemas: field names are snake_case on the wire, and each
 * object is strict, so a Letta feature Hearth does not have is a 400 naming the field rather
 * than a setting silently dropped.
 */
import { z } from 'zod';
import { storedText, timeZone } from '../admin/schemas.js';
import { MEMORY_LIMITS } from '../memory/index.js';
import { idOf, listQuery, queryFlag, repeated } from './wire.js';

const text = (max: number) => storedText().max(max);
const tags = z.array(text(100)).max(50);
/** Flat key-value data, as Hearth stores it with the household. */
const metadata = z.record(
  storedText().max(100),
  z.union([storedText().max(1000), z.number(), z.boolean(), z.null()], {
    message: 'metadata values must be strings, numbers, booleans or null',
  }),
);

/** `provider/model`, e.g. `openai/gpt-5`. */
const handle = z
  .string()
  .max(200)
  .regex(/^[\w.-]+\/\S+$/, 'must be a handle "provider/model", e.g. "openai/gpt-5"');

/** A core-memory block's fields as Letta names them; Hearth's own limits are checked on the way in. */
const blockFields = z.strictObject({
  label: text(100),
  value: text(100_000),
  limit: z.number().int(),
  description: text(2000),
  read_only: z.boolean(),
});

/** A block as `memory_blocks` and `POST /v1/blocks/` give it: a label, and the rest optional. */
export const blockInput = blockFields
  .partial()
  .extend({ label: blockFields.shape.label, value: text(100_000).default('') });

/** What a block update may change; a field left out stays as it is. */
export const blockChanges = blockFields.partial().refine((changes) => Object.keys(changes).length > 0, {
  message: 'send at least one of label, value, limit, description, read_only',
});

/** What an agent is, beyond its memory: every field optional, on create and on update. */
const agentFields = z
  .strictObject({
    name: text(200).trim().min(1),
    description: text(2000),
    model: handle,
    embedding: handle,
    tools: z.array(text(100)).max(50),
    tool_ids: z.array(idOf('tool')).max(50),
    tags,
    system: text(4000),
    agent_type: storedText().max(100),
    metadata,
    timezone: timeZone,
  })
  .partial();

export const agentCreate = agentFields.extend({
  memory_blocks: z.array(blockInput).max(50).optional(),
  block_ids: z.array(idOf('block')).max(50).optional(),
  identity_ids: z
    .array(idOf('identity'))
    .max(0, 'an identity is a member of one household: create the agent, then its identities')
    .optional(),
  include_base_tools: z
    .literal(true, { message: "Hearth's memory tools are always on; leave include_base_tools out or send true" })
    .optional(),
});

export const agentUpdate = agentFields.refine((changes) => Object.keys(changes).length > 0, {
  message: 'send at least one field to change',
});

export type AgentCreate = z.output<typeof agentCreate>;
export type AgentUpdate = z.output<typeof agentFields>;

export const agentListQuery = z.strictObject({
  ...listQuery('agent', { limit: 50, order: 'desc' }),
  name: storedText().max(200).optional(),
  tags: repeated(storedText().max(100)).optional(),
  match_all_tags: queryFlag.optional(),
  include: repeated(storedText().max(100)).optional(),
});

export const includeQuery = z.strictObject({ include: repeated(storedText().max(100)).optional() });

export const blockListQuery = z.strictObject({
  ...listQuery('block', { limit: 50, order: 'desc' }),
  label: storedText().max(100).optional(),
});

export const agentBlockListQuery = z.strictObject({ ...listQuery('block', { limit: 50, order: 'asc' }) });

export const agentToolListQuery = z.strictObject({ ...listQuery('tool', { limit: 10, order: 'asc' }) });

const textPart = z.strictObject({ type: z.literal('text'), text: storedText() });
const content = z.union([storedText(), z.array(textPart).min(1)], {
  message: 'must be text, or a list of {"type": "text", "text": …} parts (Hearth takes text only)',
});

const messageInput = z.strictObject({
  role: z.literal('user', { message: "Hearth takes the user's messages; the agent writes its own" }),
  content,
  name: storedText().max(200).optional(),
  otid: storedText().max(200).optional(),
  sender_id: idOf('identity').optional(),
  type: z.literal('message').optional(),
});

export const messageCreate = z
  .strictObject({
    messages: z.array(messageInput).min(1).max(20).optional(),
    input: content.optional(),
    streaming: z.boolean().optional(),
    stream_tokens: z.boolean().optional(),
    include_pings: z.boolean().optional(),
    use_assistant_message: z.literal(true).optional(),
    include_return_message_types: z.array(storedText().max(50)).max(20).optional(),
  })
  .refine((body) => (body.messages === undefined) !== (body.input === undefined), {
    message: 'send either messages or input, not both and not neither',
  });

export type MessageCreate = z.output<typeof messageCreate>;

export const messageListQuery = z.strictObject({
  ...listQuery('message', { limit: 100, order: 'desc', max: 1000 }),
  use_assistant_message: queryFlag.optional(),
  include_err: queryFlag.optional(),
});

export const passageCreate = z.strictObject({
  text: storedText().trim().min(1).max(MEMORY_LIMITS.passageTextMaxLength),
  tags: tags.optional(),
});

export const passageListQuery = z.strictObject({
  after: idOf('passage').optional(),
  before: idOf('passage').optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  ascending: queryFlag.default(true),
  search: storedText().max(1000).optional(),
});

export const passageSearchQuery = z.strictObject({
  query: storedText().trim().min(1).max(1000),
  tags: repeated(storedText().max(100)).optional(),
  tag_match_mode: z.enum(['any', 'all']).default('any'),
  top_k: z.coerce.number().int().min(1).max(50).default(10),
  start_datetime: z.coerce.date().optional(),
  end_datetime: z.coerce.date().optional(),
});

export const toolListQuery = z.strictObject({
  ...listQuery('tool', { limit: 50, order: 'asc' }),
  name: storedText().max(100).optional(),
  names: repeated(storedText().max(100)).optional(),
  search: storedText().max(100).optional(),
});

export const agentParams = z.strictObject({ agentId: idOf('agent') });
