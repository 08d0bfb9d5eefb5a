/**
 * Who is acting: an API key of one organization, or Hearth itself (the CLI and seeds). Every
 * scoped query takes the organization from here, and every audited write names the actor.
 */
import type { Prisma, PrismaClient } from '../../db/index.js';

export interface Principal {
  organizationId: string;
  /** The API key's id; null when Hearth itself acts (CLI, seed). */
  keyId: string | null;
  keyPrefix: string | null;
}

/** Hearth itself acting for an organization (CLI, seeds, tests' fixtures): audited as "system". */
export function systemPrincipal(organizationId: string): Principal {
  return { organizationId, keyId: null, keyPrefix: null };
}

/** The actor recorded in audit rows and block revisions. */
export function actorOf(principal: Principal): string {
  return principal.keyId ?? 'system';
}

export type Tx = Prisma.TransactionClient;
export type Db = PrismaClient;

/** One admin write, recorded in the same transaction as the change (ids and field names only). */
export interface AuditEntry {
  action: string;
  resourceType: string;
  resourceId: string | null;
  details?: Record<string, unknown>;
}

/** Writes an audit row for `entry` on `tx`, so the record and the change commit together. */
export async function recordAudit(tx: Tx | Db, principal: Principal, entry: AuditEntry): Promise<void> {
  await tx.auditEvent.create({
    data: {
      organizationId: principal.organizationId,
      actor: actorOf(principal),
      action: entry.action,
      resourceType: entry.resourceType,
      resourceId: entry.resourceId,
      details: { ...entry.details, actorPrefix: principal.keyPrefix } as Prisma.InputJsonObject,
    },
  });
}
