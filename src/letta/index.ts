/**
 * A Letta-compatible API: code written for Letta's server with `@letta-ai/letta-client` runs
 * against Hearth with only `baseURL` and `apiKey` changed. It is a translation layer over the
 * existing modules — an agent is a household's assistant, an identity is a member, the `human`
 * block is the caller's block, messages are text conversations — with no memory or loop of its own.
 *
 * @example
 * const admin = createAdminRouter({ ... });
 * app.use(createLettaRouter({ prisma, access: admin.access, conversations, logger, embedding, defaultModel, contextWindow }));
 * // then, in the Letta user's code:
 * const client = new Letta({ baseURL: 'https://hearth.example', apiKey: 'hth_…' });
 */
export { createLettaRouter, type LettaRouterOptions } from './router.js';
