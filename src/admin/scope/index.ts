/**
 * Tenancy in one place: `scopedDb` binds every repository to the organization of the acting
 * key, and each of their queries carries that organization id (memory-engine calls are made
 * only after the household is found in it). Route handlers receive a `Scope`, never the Prisma
 * client or the engine, so an unscoped query cannot be written by accident.
 *
 * @example
 * const scope = scopedDb({ prisma, memory, principal: { organizationId, keyId, keyPrefix } });
 * await scope.households.get({ householdId }); // NotFoundError for another organization's household
 */
import type { PrismaClient } from '../../db/index.js';
import type { MemoryEngine } from '../../memory/index.js';
import { Archive } from './archive.js';
import { Blocks } from './blocks.js';
import { Calls } from './calls.js';
import { Households } from './households.js';
import { ApiKeys, AuditLog } from './keys-and-audit.js';
import { Members } from './members.js';
import { PhoneLines } from './phone-lines.js';
import type { Principal } from './principal.js';

export type { BlockOwner } from './blocks.js';
export { type Principal, systemPrincipal } from './principal.js';

/** Everything an admin route may touch, bound to one organization. */
export interface Scope {
  readonly principal: Principal;
  readonly households: Households;
  readonly members: Members;
  readonly phoneLines: PhoneLines;
  readonly blocks: Blocks;
  readonly archive: Archive;
  readonly calls: Calls;
  readonly apiKeys: ApiKeys;
  readonly audit: AuditLog;
}

/** Builds the organization-scoped data access for `principal` (cheap: one per request). */
export function scopedDb(options: { prisma: PrismaClient; memory: MemoryEngine; principal: Principal }): Scope {
  const { prisma, memory, principal } = options;
  return {
    principal,
    households: new Households({ prisma, principal, memory }),
    members: new Members({ prisma, principal, memory }),
    phoneLines: new PhoneLines({ prisma, principal }),
    blocks: new Blocks({ prisma, principal, memory }),
    archive: new Archive({ prisma, principal, memory }),
    calls: new Calls({ prisma, principal }),
    apiKeys: new ApiKeys({ prisma, principal }),
    audit: new AuditLog({ prisma, principal }),
  };
}
