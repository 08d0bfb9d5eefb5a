/**
 * The port the agent loop talks to a chat model through. The loop depends on this interface
 * only; `createModelProvider` implements it over the `openai` SDK, and any OpenAI-compatible
 * server fits behind it through `OPENAI_BASE_URL`.
 */
import { z } from 'zod';

/** A function the model may call; the memory engine's `ToolDefinition`s have this shape. */
export interface ModelTool {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
}

/** A call the model asked for; `arguments` is the model's raw JSON text, possibly malformed. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** One turn of the conversation as the model sees it (the instructions travel separately). */
export type ModelMessage =
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; content: string };

export interface CompletionRequest {
  /** Default: the provider's `defaultModel`. */
  model?: string;
  /** The system prompt: base instructions plus the compiled memory. */
  instructions: string;
  messages: ModelMessage[];
  tools?: ModelTool[];
  /** Aborts the request (a caller hung up); the provider then throws `UnavailableError`. */
  signal?: AbortSignal;
  /** When given, the reply is streamed and each piece of text is passed here as it arrives. */
  onTextDelta?: (delta: string) => void;
}

export interface Completion {
  /** The reply's text; empty when the model only called tools. */
  text: string;
  toolCalls: ToolCall[];
  finishReason: 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';
  usage: { inputTokens: number; outputTokens: number } | undefined;
  /** The model that answered, as the provider names it. */
  model: string;
}

/**
 * A chat model with tools. Failures say what to fix: `UnavailableError` when the provider is
 * unreachable, slow or overloaded; `UpstreamError` when it refused (key, model, request).
 */
export interface ModelProvider {
  /** False when neither `OPENAI_API_KEY` nor `OPENAI_BASE_URL` is set: every call then fails. */
  readonly configured: boolean;
  readonly defaultModel: string;
  complete(request: CompletionRequest): Promise<Completion>;
}

// Read leniently: the admin API validates agentSettings strictly on the way in; here an odd
// stored value must not stop a call, it just falls back to the default model.
const agentSettingsModelSchema = z.object({ model: z.string().trim().min(1).optional() });

/** The model a household's agent uses: its `agentSettings.model`, else `defaultModel`. */
export function householdModel(input: { agentSettings: unknown; defaultModel: string }): string {
  const parsed = agentSettingsModelSchema.safeParse(input.agentSettings);
  return (parsed.success && parsed.data.model) || input.defaultModel;
}
