/** Calls of one organization's households, read-only: lists, transcripts, memory edits. */
import type { Prisma } from '../../db/index.js';
import { NotFoundError } from '../../errors.js';
import type { CallDetailOut, CallListQuery, CallOut, MessageOut } from '../activity-schemas.js';
import { keysetOrder, keysetPage, keysetWhere, type Page } from '../pagination.js';
import { missing, requireHousehold, requireMember } from './guards.js';
import { ScopedRepository } from './repository.js';

function callView(row: Prisma.CallModel): CallOut {
  return {
    id: row.id,
    householdId: row.householdId,
    memberId: row.memberId,
    channel: row.channel,
    fromNumber: row.fromNumber,
    toNumber: row.toNumber,
    callerVerified: row.callerVerified,
    status: row.status,
    startedAt: row.startedAt.toISOString(),
    endedAt: row.endedAt?.toISOString() ?? null,
    summary: row.summary,
    consolidatedAt: row.consolidatedAt?.toISOString() ?? null,
  };
}

function messageView(row: Prisma.MessageModel): MessageOut {
  return {
    id: row.id,
    role: row.role,
    content: row.content,
    memberId: row.memberId,
    toolName: row.toolName,
    toolArgs: row.toolArgs,
    toolCallId: row.toolCallId,
    createdAt: row.createdAt.toISOString(),
  };
}

/** Calls of the principal's organization, always addressed through their household. */
export class Calls extends ScopedRepository {
  /** A page of the household's calls, newest first, filtered by member, status and start time. */
  async list(input: { householdId: string } & CallListQuery): Promise<Page<CallOut>> {
    const { householdId, memberId, status, from, to, limit, cursor } = input;
    // A member filter names a member like a path does: one not in this household is a 404, not an empty page.
    if (memberId) await requireMember(this.prisma, this.organizationId, householdId, memberId);
    else await requireHousehold(this.prisma, this.organizationId, householdId);
    const rows = await this.prisma.call.findMany({
      where: {
        organizationId: this.organizationId,
        householdId,
        ...(memberId ? { memberId } : {}),
        ...(status ? { status } : {}),
        startedAt: { ...(from ? { gte: from } : {}), ...(to ? { lt: to } : {}) },
        ...keysetWhere('startedAt', cursor, 'desc'),
      },
      orderBy: keysetOrder('startedAt', 'desc'),
      take: limit + 1,
    });
    const page = keysetPage(rows, limit, (row) => row.startedAt);
    return { data: page.data.map(callView), nextCursor: page.nextCursor };
  }

  /** One call with its transcript, tool calls and the block revisions it made. */
  async get(input: { householdId: string; callId: string }): Promise<CallDetailOut> {
    const { householdId, callId } = input;
    const organizationId = this.organizationId;
    const call = await this.prisma.call.findFirst({ where: { id: callId, householdId, organizationId } });
    if (!call) throw new NotFoundError(missing.call(householdId, callId));
    const [messages, revisions] = await Promise.all([
      this.prisma.message.findMany({
        where: { organizationId, callId },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      }),
      this.prisma.blockRevision.findMany({
        where: { organizationId, callId },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        include: { block: { select: { label: true, memberId: true } } },
      }),
    ]);
    const transcript = messages.map(messageView);
    return {
      ...callView(call),
      transcript,
      toolCalls: transcript.filter((message) => message.role === 'tool' || message.toolName !== null),
      memoryEdits: revisions.map((revision) => ({
        blockId: revision.blockId,
        label: revision.block.label,
        memberId: revision.block.memberId,
        version: revision.version,
        source: revision.source,
        detail: revision.sourceDetail,
        createdAt: revision.createdAt.toISOString(),
      })),
    };
  }
}
