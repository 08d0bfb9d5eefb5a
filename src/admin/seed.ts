/**
 * The demo organization a newcomer can call the API with: one household, two members, a
 * phone line and the default memory blocks.
 */
import type { PrismaClient } from '../db/index.js';
import { ConflictError } from '../errors.js';
import type { MemoryEngine } from '../memory/index.js';
import { createApiKey, type IssuedApiKey } from './api-keys.js';
import { createOrganization } from './organizations.js';
import { scopedDb, systemPrincipal } from './scope/index.js';

export const DEMO_ORGANIZATION_NAME = 'Hearth Demo';
/** In the 555-01xx range reserved for fiction, so it can never be someone's real number. */
export const DEMO_PHONE_LINE = '+15555550100';

export interface DemoSeed {
  organizationId: string;
  apiKey: IssuedApiKey;
  householdId: string;
  memberIds: string[];
  phoneLine: string;
}

/**
 * Creates the demo organization; refuses, naming it, if one already exists. All or nothing: when
 * a step fails (say the demo number is another organization's line), the organization is deleted
 * and the cascade takes everything written so far, so the seed can simply be run again.
 */
export async function seedDemo(options: { prisma: PrismaClient; memory: MemoryEngine }): Promise<DemoSeed> {
  const { prisma, memory } = options;
  const existing = await prisma.organization.findFirst({ where: { name: DEMO_ORGANIZATION_NAME } });
  if (existing) {
    throw new ConflictError(
      `The demo organization already exists (id ${existing.id}). ` +
        `Create another key for it with: npx hearth apikey create --org ${existing.id}`,
    );
  }
  const organization = await createOrganization(prisma, DEMO_ORGANIZATION_NAME);
  try {
    return await populate({ prisma, memory, organizationId: organization.id });
  } catch (error) {
    await prisma.organization.deleteMany({ where: { id: organization.id } });
    throw error;
  }
}

async function populate(input: {
  prisma: PrismaClient;
  memory: MemoryEngine;
  organizationId: string;
}): Promise<DemoSeed> {
  const { prisma, memory, organizationId } = input;
  const apiKey = await createApiKey(prisma, { organizationId, name: 'demo' });
  const scope = scopedDb({ prisma, memory, principal: systemPrincipal(organizationId) });
  const household = await scope.households.create({
    household: { name: 'The Okafor household', timezone: 'Europe/London', locale: 'en-GB' },
  });
  const householdId = household.id;
  const grandmother = await scope.members.create({
    householdId,
    member: { name: 'Adaeze Okafor', relationship: 'grandmother', phone: '+15555550101' },
  });
  const son = await scope.members.create({
    householdId,
    member: { name: 'Chidi Okafor', relationship: 'son', phone: '+15555550102', role: 'caregiver' },
  });
  const line = await scope.phoneLines.create({
    phoneLine: { number: DEMO_PHONE_LINE, householdId, label: 'Okafor home line' },
  });
  return { organizationId, apiKey, householdId, memberIds: [grandmother.id, son.id], phoneLine: line.number };
}

/** What `seed --demo` and the first start print: the key appears here and nowhere else. */
export function describeDemo(seed: DemoSeed, baseUrl: string): string {
  return [
    'Created the demo organization:',
    `  organization  ${seed.organizationId}`,
    `  household     ${seed.householdId} (2 members, default memory blocks)`,
    `  members       ${seed.memberIds.join(', ')}`,
    `  phone line    ${seed.phoneLine}`,
    `  API key       ${seed.apiKey.key}`,
    '',
    'The key is shown only this once. Try it:',
    `  curl -H "Authorization: Bearer ${seed.apiKey.key}" ${baseUrl}/v1/households`,
  ].join('\n');
}
