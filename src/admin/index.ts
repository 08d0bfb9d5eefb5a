/**
 * Administration: organizations, API keys, households with their members and phone lines,
 * and the demo seed. The REST routes over these arrive with the admin API.
 */
export { createApiKey, type IssuedApiKey, parseApiKey, verifySecret } from './api-keys.js';
export { addMember, addPhoneLine, createHousehold } from './households.js';
export { createOrganization } from './organizations.js';
export { DEMO_ORGANIZATION_NAME, type DemoSeed, describeDemo, seedDemo } from './seed.js';
