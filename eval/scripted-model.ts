/**
 * The eval's model: a pure function of each request, so what it does never depends on the order
 * requests arrive in. In a chat it saves what the caller said with `archival_memory_insert` when
 * the session's path is "tool", and says "Noted."; as the post-call consolidation it saves the
 * call's facts when the path is "consolidation", and always appends the call's first fact to the
 * household block (so block growth over sessions is measured).
 */
import type { ChatReply, ChatRequest } from '../test/support/openai-stub.js';
import type { EvalFact, EvalFixture } from './fixture.js';

/** Words only the consolidation's instructions contain. */
const CONSOLIDATION_MARK = 'memory keeper';

export function scriptedModel(fixture: EvalFixture): (request: ChatRequest) => ChatReply {
  const facts = new Map<string, { fact: EvalFact; path: string }>();
  for (const household of fixture.households) {
    const byId = new Map(household.facts.map((fact) => [fact.id, fact]));
    for (const session of household.sessions) {
      for (const id of session.facts) {
        const fact = byId.get(id);
        if (fact) facts.set(fact.text, { fact, path: session.path });
      }
    }
  }
  const text = (content: unknown) => (typeof content === 'string' ? content : JSON.stringify(content ?? ''));
  const insert = (fact: EvalFact) => ({
    name: 'archival_memory_insert',
    arguments: { content: fact.text, tags: fact.tags },
  });

  return (request) => {
    const { messages } = request;
    const answered = messages.at(-1)?.role === 'tool';
    if (text(messages[0]?.content).includes(CONSOLIDATION_MARK)) {
      if (answered) return { text: 'The caller shared household facts.' };
      const transcript = text(messages.find((message) => message.role === 'user')?.content);
      const said = [...facts.values()].filter(({ fact }) => transcript.includes(`Caller: ${fact.text}`));
      const first = said[0];
      if (!first) return { text: 'Nothing to keep.' };
      return {
        toolCalls: [
          ...(first.path === 'consolidation' ? said.map(({ fact }) => insert(fact)) : []),
          { name: 'core_memory_append', arguments: { label: 'household', content: first.fact.text } },
        ],
      };
    }
    if (answered) return { text: 'Noted.' };
    const said = facts.get(text(messages.at(-1)?.content));
    return said?.path === 'tool' ? { toolCalls: [insert(said.fact)] } : { text: 'Noted.' };
  };
}
