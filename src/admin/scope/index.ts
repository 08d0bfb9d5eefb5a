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
import { Archive } from './archive.js';
import { Blocks } from './blocks.js';
import { Calls } from './calls.js';
import { Escalations } from './escalations.js';
import { Households } from './households.js';
import { ApiKeys, AuditLog } from './keys-and-audit.js';
import { Members } from './members.js';
import { PhoneLines } from './phone-lines.js';
import type { Principal } from './principal.js';
import { Probes } from './probes.js';
import type { ScopeOptions } from './repository.js';
import { EscalationPolicies, OnCallRoster } from './roster.js';
import { Webhooks } from './webhooks.js';

export type { BlockOwner } from './blocks.js';
export { type Principal, systemPrincipal } from './principal.js';
export type { ScopeOptions } from './repository.js';

/** Everything an admin route may touch, bound to one organization. */
export interface Scope {
  readonly principal: Principal;
  readonly households: Households;
  readonly members: Members;
  readonly phoneLines: PhoneLines;
  readonly roster: OnCallRoster;
  readonly policies: EscalationPolicies;
  readonly escalations: Escalations;
  readonly webhooks: Webhooks;
  readonly blocks: Blocks;
  readonly archive: Archive;
  readonly probes: Probes;
  readonly calls: Calls;
  readonly apiKeys: ApiKeys;
  readonly audit: AuditLog;
}

/** Builds the organization-scoped data access for `principal` (cheap: one per request). */
export function scopedDb(options: ScopeOptions): Scope {
  return {
    principal: options.principal,
    households: new Households(options),
    members: new Members(options),
    phoneLines: new PhoneLines(options),
    roster: new OnCallRoster(options),
    policies: new EscalationPolicies(options),
    escalations: new Escalations(options),
    webhooks: new Webhooks(options),
    blocks: new Blocks(options),
    archive: new Archive(options),
    probes: new Probes(options),
    calls: new Calls(options),
    apiKeys: new ApiKeys(options),
    audit: new AuditLog(options),
  };
}
