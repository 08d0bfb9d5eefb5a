/**
 * Letta identities are household members: `identity-<uuid>` is the member's uuid, its one agent
 * is the member's household, and its `identifier_key` is the member's phone number, which is how
 * Hearth knows a caller. `sender_id` on a message names the member who speaks.
 */
import { z } from 'zod';
import type { Scope } from '../admin/index.js';
import { e164, storedText } from '../admin/schemas.js';
import type { PrismaClient } from '../db/index.js';
import { NotFoundError } from '../errors.js';
import { cursorOf, idOf, lettaId, listQuery, pageOf } from './wire.js';

export const identityCreate = z.strictObject({
  identifier_key: e164.describe("The member's phone number, which identifies them when they call"),
  name: storedText().trim().min(1).max(200),
  identity_type: z.literal('user', { message: 'Hearth identities are people: send "user"' }).default('user'),
  agent_ids: z
    .array(idOf('agent'))
    .length(1, { message: 'an identity is a member of one household: name exactly one agent' }),
});

export const identityListQuery = z.strictObject({
  ...listQuery('identity', { limit: 50, order: 'asc' }),
  agent_id: idOf('agent').optional(),
  name: storedText().max(200).optional(),
  identifier_key: storedText().max(200).optional(),
});

type MemberRow = { id: string; householdId: string; name: string; phone: string | null };

function identityView(member: MemberRow) {
  return {
    id: lettaId('identity', member.id),
    identifier_key: member.phone ?? lettaId('identity', member.id),
    name: member.name,
    identity_type: 'user',
    agent_ids: [lettaId('agent', member.householdId)],
    block_ids: [],
    properties: [],
    project_id: null,
  };
}

const MEMBER_COLUMNS = { id: true, householdId: true, name: true, phone: true } as const;

/** The members of the acting key's organization, as identities. */
export class LettaIdentities {
  readonly #prisma: PrismaClient;
  readonly #scope: Scope;

  constructor(prisma: PrismaClient, scope: Scope) {
    this.#prisma = prisma;
    this.#scope = scope;
  }

  /** Adds a member (with their own caller block) to the one agent named. */
  async create(input: z.output<typeof identityCreate>) {
    const member = await this.#scope.members.create({
      householdId: String(input.agent_ids[0]),
      member: { name: input.name, phone: input.identifier_key },
    });
    return identityView(member);
  }

  /** Members by creation, filtered by agent, name or phone number. */
  async list(input: z.output<typeof identityListQuery>) {
    const organizationId = this.#scope.principal.organizationId;
    const cursor = await cursorOf(input, (id) => this.#find(id).catch(() => null), 'identity');
    const page = pageOf(input, cursor);
    const rows = await this.#prisma.member.findMany({
      where: {
        organizationId,
        ...(input.agent_id ? { householdId: input.agent_id } : {}),
        ...(input.name ? { name: input.name } : {}),
        ...(input.identifier_key ? { phone: input.identifier_key } : {}),
        ...page.where,
      },
      orderBy: page.orderBy,
      take: page.take,
      select: MEMBER_COLUMNS,
    });
    return page.arrange(rows).map(identityView);
  }

  async get(memberId: string) {
    return identityView(await this.#find(memberId));
  }

  /** Erases the member: their calls, recall and blocks go with them, as in the admin API. */
  async delete(memberId: string): Promise<void> {
    const member = await this.#find(memberId);
    await this.#scope.members.delete({ householdId: member.householdId, memberId });
  }

  async #find(memberId: string) {
    const member = await this.#prisma.member.findFirst({
      where: { id: memberId, organizationId: this.#scope.principal.organizationId },
      select: { ...MEMBER_COLUMNS, createdAt: true },
    });
    if (!member) throw new NotFoundError(`No identity ${lettaId('identity', memberId)} in this organization.`);
    return member;
  }
}
