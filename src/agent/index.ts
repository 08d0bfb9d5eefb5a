/**
 * The agent layer: the chat-model provider (OpenAI or any OpenAI-compatible server), the loop
 * that lets the model use its memory tools, the model-backed summarizer for context pressure,
 * and post-call consolidation. No HTTP: the channels that run the agent live in `calls`.
 *
 * @example
 * const provider = modelProviderFromConfig(config, logger);
 * const session = new AgentSession({
 *   memory: engine,
 *   provider,
 *   logger,
 *   scope: { organizationId, householdId, memberId, callId, callerVerified: true },
 *   model: householdModel({ agentSettings: household.agentSettings, defaultModel: provider.defaultModel }),
 *   maxSteps: config.HEARTH_AGENT_MAX_STEPS,
 * });
 * const { reply, toolCalls } = await session.turn({ text: 'Our cat is called Miso.', onTextDelta: write });
 */

export { LOOKUP_ACCOUNT_TOOL, lookupAccountTool } from './account-tool.js';
export { callScope } from './call-scope.js';
export {
  applyConsolidation,
  CONSOLIDATE_CALL_JOB,
  type ConsolidationDeps,
  consolidateCall,
  consolidationJob,
  enqueueConsolidation,
  enqueueUnconsolidated,
  planConsolidation,
} from './consolidation.js';
export {
  type AgentMemory,
  AgentSession,
  type AgentSessionOptions,
  type ExtraContext,
  type RecordedMessage,
  STEP_LIMIT_REPLY,
  type TurnInput,
  type TurnResult,
  type TurnToolCall,
} from './loop.js';
export {
  type Completion,
  type CompletionRequest,
  householdModel,
  type ModelMessage,
  type ModelProvider,
  type ModelTool,
  type ToolCall,
} from './model.js';
export { createModelProvider, type ModelProviderOptions, modelProviderFromConfig } from './openai-provider.js';
export { createSummarizer, type Summarizer } from './summarizer.js';
export { type AgentTool, parseToolArguments, ToolRunner } from './tool-runner.js';
