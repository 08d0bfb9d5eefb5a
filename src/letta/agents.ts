/**
 * Letta agents are households: `agent-<uuid>` is the household's uuid, its blocks are the
 * household's shared blocks (plus the blocks attached to it), and its `human` block is the caller
 * block of its main member, the one a message speaks as unless `sender_id` names another. Writes
 * go through the admin API's organization scope, so tenancy, audit and erasure are Hearth's own.
 */

import type { z } from 'zod';
import type { Scope } from '../admin/index.js';
import { blockCreateSchema } from '../admin/memory-schemas.js';
import type { PrismaClient } from '../db/index.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import {
  CALLER_BLOCK,
  DEFAULT_BASE_INSTRUCTIONS,
  EMBEDDING_DIMENSIONS,
  HOUSEHOLD_DEFAULT_BLOCKS,
  MEMORY_LIMITS,
} from '../memory/index.js';
import type { AgentCreate, AgentUpdate, blockInput } from './schemas.js';
import type { ToolCatalog } from './tools.js';
import { cursorOf, type ListQuery, lettaId, pageOf } from './wire.js';

/** The name of the member an agent is created with: whoever talks to it through Letta's API. */
const MAIN_MEMBER_NAME = 'Main contact';
/** Letta's label for the block about the user, which is Hearth's per-member `caller` block. */
export const HUMAN = 'human';
const CALLER = 'caller';
const PROVIDER = 'openai';

/** What an agent's views are built with besides the data: the tool catalog and the server's models. */
export interface AgentDeps {
  prisma: PrismaClient;
  catalog: ToolCatalog;
  /** The embedder every passage is written with (one per server: one vector space). */
  embedding: { model: string; endpointType: 'openai' | 'local' };
  /** The chat model households use unless they set one. */
  defaultModel: string;
  /** Tokens of context the agent keeps before it summarizes the oldest turns. */
  contextWindow: number;
}

type Household = Awaited<ReturnType<Scope['households']['get']>>;
type Block = Awaited<ReturnType<Scope['blocks']['get']>>;

/** Which Hearth block a Letta label names on an agent: shared, or its main member's. */
export type AgentBlockRef = { householdId: string; memberId: string | null; label: string };

/** A block as Letta's client reads it; a member's caller block is `human`. */
export function lettaBlock(
  block: Block,
  label = block.memberId !== null && block.label === CALLER ? HUMAN : block.label,
) {
  return {
    id: lettaId('block', block.id),
    label,
    value: block.value,
    limit: block.charLimit,
    description: block.description,
    read_only: block.readOnly,
    metadata: {},
    is_template: false,
    template_name: null,
    project_id: null,
    preserve_on_migration: false,
    hidden: false,
    created_by_id: null,
    last_updated_by_id: null,
  };
}

export type LettaBlock = ReturnType<typeof lettaBlock>;

/** The agents of the acting key's organization. */
export class LettaAgents {
  readonly #deps: AgentDeps;
  readonly #scope: Scope;

  constructor(deps: AgentDeps, scope: Scope) {
    this.#deps = deps;
    this.#scope = scope;
  }

  get #organizationId(): string {
    return this.#scope.principal.organizationId;
  }

  /**
   * Creates the household, its main member and its blocks. Checked first, written after; a write
   * that still fails takes the household with it, so a failed create leaves nothing behind.
   */
  async create(input: AgentCreate) {
    const { catalog } = this.#deps;
    const tools = catalog.resolve({ tools: input.tools, toolIds: input.tool_ids });
    const blocks = checkedBlocks(input.memory_blocks ?? []);
    const household = await this.#scope.households.create({
      household: {
        name: input.name ?? `Agent ${new Date().toISOString().slice(0, 19)}`,
        ...(input.timezone ? { timezone: input.timezone } : {}),
        agentSettings: settingsOf(input, tools),
      },
    });
    try {
      const member = await this.#scope.members.create({
        householdId: household.id,
        member: { name: MAIN_MEMBER_NAME },
      });
      for (const { human, block } of blocks) {
        const owner = { householdId: household.id, memberId: human ? member.id : null };
        const { label, ...changes } = block;
        const existing = await this.#scope.blocks.find({ owner, label });
        if (existing) await this.#scope.blocks.update({ owner, label, changes });
        else await this.#scope.blocks.create({ owner, block });
      }
      for (const blockId of input.block_ids ?? [])
        await this.#scope.blocks.attach({ householdId: household.id, blockId });
    } catch (error) {
      // The household is new and nobody else knows it: taking it back undoes the whole create.
      await this.#scope.households.delete({ householdId: household.id }).catch((cleanup: unknown) => {
        throw new AggregateError(
          [error, cleanup],
          `Creating the agent failed, and so did removing household ${household.id}.`,
        );
      });
      throw error;
    }
    return this.get(household.id);
  }

  /** A page of agents, filtered by name and tags (any of them, or all with `matchAllTags`). */
  async list(input: ListQuery & { name?: string; tags?: string[]; matchAllTags?: boolean }) {
    const { prisma } = this.#deps;
    const organizationId = this.#organizationId;
    const cursor = await cursorOf(
      input,
      (id) => prisma.household.findFirst({ where: { id, organizationId }, select: { id: true, createdAt: true } }),
      'agent',
    );
    const page = pageOf(input, cursor);
    const tagged = (tags: string[]) => ({ agentSettings: { path: ['letta', 'tags'], array_contains: tags } });
    const tags = input.tags ?? [];
    const rows = await prisma.household.findMany({
      where: {
        organizationId,
        ...(input.name === undefined ? {} : { name: input.name }),
        AND: [
          page.where,
          tags.length === 0 ? {} : input.matchAllTags ? tagged(tags) : { OR: tags.map((tag) => tagged([tag])) },
        ],
      },
      orderBy: page.orderBy,
      take: page.take,
      select: { id: true },
    });
    return Promise.all(page.arrange(rows).map((row) => this.get(row.id)));
  }

  /** The agent as Letta's `AgentState`. */
  async get(householdId: string) {
    const household = await this.#scope.households.get({ householdId });
    const [blocks, members] = await Promise.all([this.blocks(householdId), this.#members(householdId)]);
    return this.#view(household, blocks, members);
  }

  /** Changes what is given; tags, tools and the rest replace what was there. */
  async update(householdId: string, changes: AgentUpdate) {
    const household = await this.#scope.households.get({ householdId });
    const tools =
      changes.tools === undefined && changes.tool_ids === undefined
        ? undefined
        : this.#deps.catalog.resolve({ tools: changes.tools, toolIds: changes.tool_ids });
    const current = household.agentSettings;
    const merged = settingsOf(
      {
        model: changes.model ?? (current.model ? `${PROVIDER}/${current.model}` : undefined),
        system: changes.system ?? current.instructions,
        description: changes.description ?? current.letta?.description,
        tags: changes.tags ?? current.letta?.tags,
        metadata: changes.metadata ?? current.letta?.metadata,
        embedding: changes.embedding ?? current.letta?.embedding,
        agent_type: changes.agent_type ?? current.letta?.agentType,
      },
      tools ?? current.letta?.tools ?? [],
    );
    await this.#scope.households.update({
      householdId,
      changes: {
        ...(changes.name === undefined ? {} : { name: changes.name }),
        ...(changes.timezone === undefined ? {} : { timezone: changes.timezone }),
        agentSettings: { ...current, ...merged },
      },
    });
    return this.get(householdId);
  }

  /**
   * Erases the household and everything of it, as the admin API's delete does. Its blocks go
   * with it, so a block of it that other agents use must be detached from them first.
   */
  async delete(householdId: string): Promise<void> {
    const shared = await this.#scope.blocks.list({ owner: { householdId, memberId: null }, limit: 200 });
    const own = shared.data.filter((block) => block.householdId === householdId);
    const seenBy = await this.#scope.blocks.households({ blockIds: own.map((block) => block.id) });
    const used = own.filter((block) => (seenBy.get(block.id) ?? []).length > 1);
    if (used.length > 0) {
      throw new ConflictError(
        `Agent ${lettaId('agent', householdId)} has blocks other agents use: ` +
          `${used.map((block) => `"${block.label}" (${lettaId('block', block.id)})`).join(', ')}. Detach them first.`,
      );
    }
    await this.#scope.households.delete({ householdId });
  }

  /** Records a tool name on the agent (attach) or removes it (detach). */
  async setTool(householdId: string, toolId: string, attached: boolean) {
    const tool = this.#deps.catalog.byId(toolId);
    if (!tool) throw new NotFoundError(`No tool ${lettaId('tool', toolId)}; list them with GET /v1/tools/.`);
    const household = await this.#scope.households.get({ householdId });
    const chosen = household.agentSettings.letta?.tools ?? [];
    const tools = attached ? [...new Set([...chosen, tool.name])] : chosen.filter((name) => name !== tool.name);
    return this.update(householdId, { tools });
  }

  /** The agent's blocks as Letta shows them: shared and attached ones, and its main member's (caller as `human`). */
  async blocks(householdId: string): Promise<LettaBlock[]> {
    const main = await this.mainMember(householdId);
    const shared = await this.#scope.blocks.list({ owner: { householdId, memberId: null }, limit: 200 });
    const own = main
      ? await this.#scope.blocks.list({ owner: { householdId, memberId: main }, limit: 200 })
      : undefined;
    return [...shared.data.map((block) => lettaBlock(block)), ...(own?.data ?? []).map((block) => lettaBlock(block))];
  }

  /** Which Hearth block a Letta label names on this agent. */
  async blockRef(householdId: string, label: string): Promise<AgentBlockRef> {
    if (label === CALLER)
      throw new NotFoundError(`No block "${CALLER}" on this agent: the caller's block is "${HUMAN}".`);
    const main = await this.mainMember(householdId);
    if (label === HUMAN) {
      if (!main)
        throw new NotFoundError(`Agent ${lettaId('agent', householdId)} has no members, so no "${HUMAN}" block.`);
      return { householdId, memberId: main, label: CALLER };
    }
    const mine = main ? await this.#scope.blocks.find({ owner: { householdId, memberId: main }, label }) : undefined;
    return { householdId, memberId: mine ? main : null, label };
  }

  /** The member an agent's messages speak as by default: its first. */
  async mainMember(householdId: string): Promise<string | null> {
    const first = await this.#deps.prisma.member.findFirst({
      where: { householdId, organizationId: this.#organizationId },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      select: { id: true },
    });
    return first?.id ?? null;
  }

  async #members(householdId: string) {
    return this.#deps.prisma.member.findMany({
      where: { householdId, organizationId: this.#organizationId },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      select: { id: true },
    });
  }

  #view(household: Household, blocks: LettaBlock[], members: { id: string }[]) {
    const { catalog, embedding, defaultModel, contextWindow } = this.#deps;
    const settings = household.agentSettings;
    const model = settings.model ?? defaultModel;
    const embeddingHandle = `${embedding.endpointType}/${embedding.model}`;
    return {
      id: lettaId('agent', household.id),
      name: household.name,
      description: settings.letta?.description ?? null,
      agent_type: settings.letta?.agentType ?? 'letta_v1_agent',
      system: settings.instructions ?? DEFAULT_BASE_INSTRUCTIONS,
      tags: settings.letta?.tags ?? [],
      metadata: settings.letta?.metadata ?? null,
      model: `${PROVIDER}/${model}`,
      embedding: embeddingHandle,
      llm_config: {
        model,
        model_endpoint_type: PROVIDER,
        model_endpoint: null,
        context_window: contextWindow,
        handle: `${PROVIDER}/${model}`,
      },
      embedding_config: {
        embedding_model: embedding.model,
        embedding_endpoint_type: embedding.endpointType === 'openai' ? 'openai' : 'hugging-face',
        embedding_dim: EMBEDDING_DIMENSIONS,
        handle: embeddingHandle,
      },
      memory: { blocks, file_blocks: [], prompt_template: null },
      blocks,
      tools: catalog.forAgent(settings.letta?.tools ?? []),
      tool_rules: [],
      sources: [],
      identity_ids: members.map((member) => lettaId('identity', member.id)),
      timezone: household.timezone,
      created_at: household.createdAt,
      updated_at: household.updatedAt,
    };
  }
}

/** A Letta model handle as Hearth's household model; Hearth talks to one OpenAI-compatible server. */
function modelOf(handle: string | undefined): string | undefined {
  if (handle === undefined) return undefined;
  const [provider, ...rest] = handle.split('/');
  if (provider !== PROVIDER) {
    throw new ValidationError(
      `model: Hearth talks to one OpenAI-compatible model server; send "${PROVIDER}/<model>", not ${JSON.stringify(handle)}.`,
    );
  }
  return rest.join('/');
}

/** The household's agent settings a Letta agent's fields become. */
function settingsOf(
  input: Pick<AgentCreate, 'model' | 'system' | 'description' | 'tags' | 'metadata' | 'embedding' | 'agent_type'>,
  tools: string[],
) {
  const model = modelOf(input.model);
  const letta = {
    ...(input.description === undefined ? {} : { description: input.description }),
    ...(input.tags === undefined ? {} : { tags: input.tags }),
    ...(tools.length === 0 ? {} : { tools }),
    ...(input.metadata === undefined ? {} : { metadata: input.metadata }),
    ...(input.embedding === undefined ? {} : { embedding: input.embedding }),
    ...(input.agent_type === undefined ? {} : { agentType: input.agent_type }),
  };
  return {
    ...(model === undefined ? {} : { model }),
    ...(input.system === undefined ? {} : { instructions: input.system }),
    letta,
  };
}

/**
 * `memory_blocks` as Hearth's blocks, checked as Hearth checks them (label, limits, a value within
 * its block's limit, no label twice) before anything is written.
 */
function checkedBlocks(blocks: z.output<typeof blockInput>[]) {
  const templates = new Map([...HOUSEHOLD_DEFAULT_BLOCKS, CALLER_BLOCK].map((template) => [template.label, template]));
  const seen = new Set<string>();
  return blocks.map((block, index) => {
    const where = `memory_blocks.${index}`;
    if (block.label === CALLER) {
      throw new ValidationError(`${where}: "${CALLER}" is Hearth's name for the "${HUMAN}" block; send "${HUMAN}".`);
    }
    if (seen.has(block.label)) throw new ValidationError(`${where}: label "${block.label}" is given twice.`);
    seen.add(block.label);
    const human = block.label === HUMAN;
    const parsed = blockCreateSchema.safeParse({ label: human ? CALLER : block.label, ...blockFields(block) });
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'block'} ${issue.message}`);
      throw new ValidationError(`${where}: ${problems.join('; ')}.`);
    }
    const limit =
      parsed.data.charLimit ?? templates.get(parsed.data.label)?.charLimit ?? MEMORY_LIMITS.charLimitDefault;
    if (block.value.length > limit) {
      throw new ValidationError(
        `${where}: the value has ${block.value.length} characters; the block's limit is ${limit}.`,
      );
    }
    return { human, block: parsed.data };
  });
}

/** Letta's block fields as Hearth's. */
export function blockFields(block: {
  value?: string | undefined;
  limit?: number | undefined;
  description?: string | undefined;
  read_only?: boolean | undefined;
}) {
  return {
    ...(block.value === undefined ? {} : { value: block.value }),
    ...(block.limit === undefined ? {} : { charLimit: block.limit }),
    ...(block.description === undefined ? {} : { description: block.description }),
    ...(block.read_only === undefined ? {} : { readOnly: block.read_only }),
  };
}
