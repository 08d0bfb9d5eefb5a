/** The organization's API keys and its audit log. */
import type { Prisma } from '../../db/index.js';
import { ConflictError } from '../../errors.js';
import type { ApiKeyOut, AuditEventOut, AuditQuery, IssuedApiKeyOut } from '../activity-schemas.js';
import { createApiKey, MAX_LIVE_API_KEYS } from '../api-keys.js';
import { type Keyset, keysetOrder, keysetPage, keysetWhere, type Page } from '../pagination.js';
import { guarded, missing } from './guards.js';
import { recordAudit } from './principal.js';
import { ScopedRepository } from './repository.js';

function keyView(row: Prisma.ApiKeyModel): ApiKeyOut {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

function auditView(row: Prisma.AuditEventModel): AuditEventOut {
  const { actorPrefix, ...details } = (row.details ?? {}) as Record<string, unknown>;
  return {
    id: row.id,
    actor: row.actor,
    actorPrefix: typeof actorPrefix === 'string' ? actorPrefix : null,
    action: row.action,
    resourceType: row.resourceType,
    resourceId: row.resourceId,
    details,
    createdAt: row.createdAt.toISOString(),
  };
}

/** API keys of the principal's organization; their hashes never leave this module. */
export class ApiKeys extends ScopedRepository {
  /** A page of keys, oldest first, revoked ones included. */
  async list(input: { limit: number; cursor?: Keyset | undefined }): Promise<Page<ApiKeyOut>> {
    const rows = await this.prisma.apiKey.findMany({
      where: { organizationId: this.organizationId, ...keysetWhere('createdAt', input.cursor, 'asc') },
      orderBy: keysetOrder('createdAt', 'asc'),
      take: input.limit + 1,
    });
    const page = keysetPage(rows, input.limit, (row) => row.createdAt);
    return { data: page.data.map(keyView), nextCursor: page.nextCursor };
  }

  /**
   * Issues a key; the response is the only place the whole key ever appears. An organization holds at
   * most `MAX_LIVE_API_KEYS` unrevoked keys (409 beyond), so a key cannot multiply its own rate limit.
   */
  async create(input: { name: string }): Promise<IssuedApiKeyOut> {
    return this.prisma.$transaction(async (tx) => {
      // The organization's row is locked so that two requests cannot both take the last slot.
      await tx.$queryRaw`SELECT id FROM organizations WHERE id = ${this.organizationId}::uuid FOR UPDATE`;
      const live = await tx.apiKey.count({ where: { organizationId: this.organizationId, revokedAt: null } });
      if (live >= MAX_LIVE_API_KEYS) {
        throw new ConflictError(
          `This organization already has ${MAX_LIVE_API_KEYS} unrevoked API keys, the most it may hold. ` +
            'Revoke one it no longer uses (DELETE /v1/api-keys/{id}) to make room; revoked keys do not count.',
        );
      }
      const issued = await createApiKey(tx, { organizationId: this.organizationId, name: input.name });
      await recordAudit(tx, this.principal, {
        action: 'api_key.create',
        resourceType: 'api_key',
        resourceId: issued.id,
      });
      return {
        id: issued.id,
        name: issued.name,
        prefix: issued.prefix,
        key: issued.key,
        createdAt: issued.createdAt.toISOString(),
        lastUsedAt: null,
        revokedAt: null,
      };
    });
  }

  /** Revokes a key at once (the next request with it gets 401); revoking twice keeps the first time. */
  async revoke(input: { keyId: string }): Promise<ApiKeyOut> {
    const { keyId } = input;
    const organizationId = this.organizationId;
    return this.prisma.$transaction(async (tx) => {
      await tx.apiKey.updateMany({
        where: { id: keyId, organizationId, revokedAt: null },
        data: { revokedAt: new Date() },
      });
      const row = await guarded(() => tx.apiKey.findUniqueOrThrow({ where: { id: keyId, organizationId } }), {
        notFound: missing.apiKey(keyId),
      });
      await recordAudit(tx, this.principal, { action: 'api_key.revoke', resourceType: 'api_key', resourceId: keyId });
      return keyView(row);
    });
  }
}

/** The organization's audit log, newest first. */
export class AuditLog extends ScopedRepository {
  /** A page of audit events, optionally of one resource type. */
  async list(input: AuditQuery): Promise<Page<AuditEventOut>> {
    const rows = await this.prisma.auditEvent.findMany({
      where: {
        organizationId: this.organizationId,
        ...(input.resourceType ? { resourceType: input.resourceType } : {}),
        ...keysetWhere('createdAt', input.cursor, 'desc'),
      },
      orderBy: keysetOrder('createdAt', 'desc'),
      take: input.limit + 1,
    });
    const page = keysetPage(rows, input.limit, (row) => row.createdAt);
    return { data: page.data.map(auditView), nextCursor: page.nextCursor };
  }
}
