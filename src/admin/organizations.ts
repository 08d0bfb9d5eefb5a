/** Organizations: the tenants. Every other row belongs to exactly one. */
import type { PrismaClient } from '../db/index.js';
import { storedText } from './schemas.js';

export const organizationNameSchema = storedText().trim().min(1, 'must not be empty').max(200);

/** Creates an organization; the name must be 1–200 characters. */
export async function createOrganization(prisma: PrismaClient, name: string) {
  return prisma.organization.create({ data: { name: organizationNameSchema.parse(name) } });
}
