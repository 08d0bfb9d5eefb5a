/** Organizations: the tenants. Every other row belongs to exactly one. */
import { z } from 'zod';
import type { PrismaClient } from '../db/index.js';

export const organizationNameSchema = z.string().trim().min(1, 'must not be empty').max(200);

/** Creates an organization; the name must be 1–200 characters. */
export async function createOrganization(prisma: PrismaClient, name: string) {
  return prisma.organization.create({ data: { name: organizationNameSchema.parse(name) } });
}
