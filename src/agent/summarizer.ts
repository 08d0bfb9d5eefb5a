/**
 * The model-backed summarizer the memory engine's context-pressure hook uses to fold the oldest
 * turns of a long session into one summary item (the turns themselves stay in recall).
 */
import { UnavailableError } from '../errors.js';
import type { Summarizer } from '../memory/index.js';
import type { ModelProvider } from './model.js';

export type { Summarizer };

const SUMMARY_INSTRUCTIONS = [
  'You compress the oldest part of a conversation between a household phone assistant and a caller,',
  'so the assistant can keep talking without it. Write a summary in the language of the conversation,',
  'at most 150 words, third person, past tense. Keep names, facts, decisions, promises, times and',
  'anything still open; drop greetings and small talk. Tool results: keep only what they established.',
  'Answer with the summary only.',
].join(' ');

/** A `Summarizer` that asks `provider` (with `model`, default its own) to summarize. */
export function createSummarizer(input: { provider: ModelProvider; model?: string }): Summarizer {
  const { provider, model } = input;
  return {
    async summarize(messages) {
      const transcript = messages.map((message) => `${message.role}: ${message.content}`).join('\n');
      const completion = await provider.complete({
        model,
        instructions: SUMMARY_INSTRUCTIONS,
        messages: [{ role: 'user', content: `<transcript>\n${transcript}\n</transcript>` }],
      });
      const summary = completion.text.trim();
      if (!summary) {
        throw new UnavailableError('The model returned an empty summary; the turns stay in the live context.', {
          details: { reason: 'empty_summary', model: completion.model },
        });
      }
      return summary;
    },
  };
}
