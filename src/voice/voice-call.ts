/**
 * One phone call, bridged: the caller's audio (Twilio's μ-law) goes to the realtime model as it
 * arrives, the model's audio comes back the same way, and the call's memory is live in between.
 * Tool calls run through the same tool runner as the text channel, one turn at a time through the
 * call lifecycle; every finished transcript line and tool call goes to recall in order, off the
 * audio path. The caller can interrupt: Twilio's buffer is cleared and the assistant's item is cut
 * where the caller stopped hearing it.
 *
 * @example
 * const call = new VoiceCall({ ...deps, call: callRow, caller, stream, realtime });
 * await call.start(); // resolves once the model's session is configured
 * await call.ended; // the caller hung up, or the agent did; consolidation is queued
 */
import { type AgentTool, callScope, type ExtraContext, parseToolArguments, ToolRunner } from '../agent/index.js';
import type { CallLifecycle } from '../calls/index.js';
import type { Call, PrismaClient } from '../db/index.js';
import { ConflictError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { MemoryEngine, SessionScope, Summarizer } from '../memory/index.js';
import { type Metrics, secondsSince } from '../metrics.js';
import { MULAW_BYTES_PER_MS } from './audio.js';
import { endCallTool } from './end-call.js';
import { type CallerContext, voiceInstructions } from './instructions.js';
import { LiveConversation } from './live-conversation.js';
import { connectionLostMessage } from './messages.js';
import { ModelLink } from './model-link.js';
import { RealtimeApiError } from './openai-realtime.js';
import { PinCheck, type PinOutcome, pinOutcomeNote } from './pin-check.js';
import { PlaybackTracker } from './playback.js';
import { RecallWriter } from './recall-writer.js';
import type { RealtimeSessionConfig, RealtimeTransport } from './transport.js';
import type { TwilioMediaStream } from './twilio-stream.js';

/** A burst of block edits (a consolidation writes several) becomes one session update. */
const REFRESH_DEBOUNCE_MS = 150;
/** How long ending waits for a running tool call before ending without it. */
const END_TURN_WAIT_MS = 10_000;
/** Lines of the call kept for a new session (after a drop or a rollover) to pick up from. */
const MAX_CALL_LINES = 40;
/** The recorded apology is not an assistant item of the model's; it gets a playback name of its own. */
const APOLOGY_ITEM = 'hearth-apology';
/** How long past the apology's length to wait for Twilio to say it played. */
const APOLOGY_SLACK_MS = 2000;

export interface VoiceCallDeps {
  prisma: PrismaClient;
  calls: CallLifecycle;
  memory: MemoryEngine;
  logger: Logger;
  /** The call as the webhook started it. */
  call: Call;
  caller: CallerContext;
  stream: TwilioMediaStream;
  /** Folds a long call's oldest turns into a summary (the chat model). */
  summarizer: Summarizer;
  /** The agent's tools beyond memory and `end_call` (e.g. `escalate`). */
  extraTools?: AgentTool[];
  /** Context beyond memory (the household's escalations). */
  extraContext?: ExtraContext;
  metrics?: Metrics;
  realtime: {
    createTransport(): RealtimeTransport;
    url: string;
    apiKey?: string;
    voice: string;
    transcriptionModel: string;
    /** The provider's cap on one session; the call rolls over to a new one before it. */
    sessionLimitMs: number;
  };
}

/** A live phone call between Twilio and the realtime model. */
export class VoiceCall {
  readonly #deps: VoiceCallDeps;
  readonly #logger: Logger;
  #call: Call;
  #scope: SessionScope;
  #caller: CallerContext;
  readonly #pin: PinCheck;
  /** Keys are checked one after another (a PIN check takes ~100 ms of scrypt). */
  #keys: Promise<void> = Promise.resolve();
  readonly #tools: ToolRunner;
  readonly #playback = new PlaybackTracker();
  readonly #recall: RecallWriter;
  readonly #model: ModelLink;
  /** The latest lines of the call, for a new session to pick up from. */
  readonly #lines: string[] = [];
  readonly #conversation: LiveConversation;
  /** Pressure checks run one after another, after each line. */
  #pressure: Promise<void> = Promise.resolve();
  /** Responses the caller interrupted: their remaining audio is stale and never reaches the caller. */
  readonly #interrupted = new Set<string>();
  #activeResponse: string | undefined;
  /** The response whose first audio is awaited, and when it was created: the model's latency. */
  #firstAudio: { responseId: string; since: number } | undefined;
  /**
   * The agent called `end_call`: 'next' until its goodbye response starts, then that response's
   * id, then 'said' once it is done; the call hangs up when the goodbye has played.
   */
  #goodbye: 'next' | 'said' | { responseId: string } | undefined;
  /** Tool calls run one after another, in the order the model made them. */
  #turns: Promise<void> = Promise.resolve();
  #refreshTimer: NodeJS.Timeout | undefined;
  /** The memory and escalation context as last compiled. */
  #compiled: string | undefined;
  #stopListening: (() => void) | undefined;
  #ending: Promise<void> | undefined;
  #resolveEnded: () => void = () => {};
  readonly #ended = new Promise<void>((resolve) => {
    this.#resolveEnded = resolve;
  });

  constructor(deps: VoiceCallDeps) {
    this.#deps = deps;
    this.#call = deps.call;
    this.#scope = callScope(deps.call);
    this.#caller = deps.caller;
    this.#pin = new PinCheck({
      prisma: deps.prisma,
      household: { id: deps.call.householdId, organizationId: deps.call.organizationId },
      memberId: deps.call.memberId,
    });
    this.#logger = deps.logger.child({ callId: deps.call.id, householdId: deps.call.householdId });
    this.#recall = new RecallWriter({ memory: deps.memory, logger: this.#logger });
    this.#tools = new ToolRunner({
      memory: deps.memory,
      extraTools: [endCallTool(() => this.#hangUpAfterGoodbye()), ...(deps.extraTools ?? [])],
      logger: this.#logger,
      metrics: deps.metrics,
    });
    this.#conversation = new LiveConversation({
      memory: deps.memory,
      summarizer: deps.summarizer,
      logger: this.#logger,
      metrics: deps.metrics,
    });
    this.#model = new ModelLink({
      ...deps.realtime,
      session: () => this.#session(),
      callSoFar: () => `The call so far:\n${this.#lines.join('\n')}`,
      logger: this.#logger,
    });
  }

  /** Resolves once the call has ended and its consolidation is queued. */
  get ended(): Promise<void> {
    return this.#ended;
  }

  get callId(): string {
    return this.#call.id;
  }

  /** Connects the model with the caller's memory and starts relaying audio both ways. */
  async start(): Promise<void> {
    const { stream } = this.#deps;
    const model = this.#model;
    stream.on('audio', (payload) => model.sendAudio(payload));
    stream.on('mark', (name) => this.#onPlayed(name));
    stream.on('dtmf', (digit) => {
      this.#keys = this.#keys.then(() => this.#onKey(digit));
    });
    stream.on('stop', () => void this.end('the caller hung up'));
    stream.on('closed', () => void this.end('the media stream closed'));
    this.#listenToModel();
    this.#stopListening = this.#deps.memory.onBlockChange((change) => {
      if (change.householdId === this.#call.householdId) this.#refreshSoon();
    });
    try {
      await model.connect();
    } catch (error) {
      this.#logger.error({ err: error }, 'could not reach the realtime model; ending the call');
      await this.end('the realtime model could not be reached');
      throw error;
    }
    // The agent speaks first: callers expect a greeting, not silence.
    model.requestResponse();
    this.#logger.info('call connected to the realtime model');
  }

  /**
   * Ends the call once: closes both sockets, lets a running tool call finish, writes what is left
   * of the transcript, and ends the call in the lifecycle, which queues its consolidation.
   */
  end(reason: string): Promise<void> {
    this.#deps.stream.close();
    return this.#finish(reason);
  }

  /** Everything ending does but hanging up the caller's stream (which a last message may still need). */
  #finish(reason: string): Promise<void> {
    this.#ending ??= this.#wrapUp(reason);
    return this.#ending;
  }

  async #wrapUp(reason: string): Promise<void> {
    this.#logger.info({ reason, droppedFrames: this.#deps.stream.droppedFrames }, 'call ending');
    clearTimeout(this.#refreshTimer);
    this.#stopListening?.();
    this.#model.close();
    try {
      await withTimeout(this.#turns, END_TURN_WAIT_MS);
      await this.#recall.flush();
      await this.#endInLifecycle();
    } catch (error) {
      this.#logger.error({ err: error }, 'the call did not end cleanly; the idle check will end it');
    } finally {
      this.#resolveEnded();
    }
  }

  async #endInLifecycle(): Promise<void> {
    try {
      await this.#deps.calls.end(this.#call);
    } catch (error) {
      // A turn still holds the call (its tool outlived the wait): the idle check ends it later.
      if (!(error instanceof ConflictError)) throw error;
      this.#logger.warn({ err: error }, 'call still answering at hang-up; the idle check will end it');
    }
  }

  #listenToModel(): void {
    const { stream } = this.#deps;
    const model = this.#model;
    model.on('audio', ({ responseId, itemId, audio }) => {
      if (this.#firstAudio?.responseId === responseId) {
        this.#deps.metrics?.modelResponded('voice', secondsSince(this.#firstAudio.since));
        this.#firstAudio = undefined;
      }
      if (this.#interrupted.has(responseId)) return;
      stream.sendAudio(audio);
      stream.mark(this.#playback.sent(itemId, Buffer.byteLength(audio, 'base64')));
    });
    model.on('response_started', ({ responseId }) => {
      this.#activeResponse = responseId;
      this.#firstAudio = { responseId, since: performance.now() };
      if (this.#goodbye === 'next') this.#goodbye = { responseId };
    });
    model.on('response_done', ({ responseId }) => {
      if (this.#activeResponse === responseId) this.#activeResponse = undefined;
      this.#interrupted.delete(responseId);
      if (typeof this.#goodbye === 'object' && this.#goodbye.responseId === responseId) {
        this.#goodbye = 'said';
        this.#hangUpIfQuiet();
      }
    });
    model.on('speech_started', () => this.#bargeIn());
    model.on('user_transcript', ({ itemId, transcript }) => this.#heard(itemId, 'user', transcript));
    model.on('assistant_transcript', ({ itemId, transcript }) => this.#heard(itemId, 'assistant', transcript));
    model.on('function_call', (call) => {
      this.#turns = this.#turns.then(() => this.#runTool(call));
    });
    model.on('error', (error) => {
      // The server's VAD may cancel a response itself as the caller barges in; ours then finds none.
      const benign = error instanceof RealtimeApiError && error.error.code === 'response_cancel_not_active';
      if (benign) this.#logger.debug({ err: error }, 'response already cancelled by the model');
      else this.#logger.warn({ err: error }, 'realtime model error');
    });
    model.on('restored', ({ reason }) => {
      this.#playback.interrupt();
      if (reason === 'reconnect') {
        model.requestResponse({
          instructions: 'Your connection dropped for a moment. Tell the caller so in a few words, then carry on.',
        });
      }
    });
    model.on('lost', () => void this.#apologiseAndEnd());
  }

  /** A finished line of the call: to recall, to the lines a new session picks up from, and to the live context. */
  #heard(itemId: string, role: 'user' | 'assistant', transcript: string): void {
    const text = transcript.trim();
    if (!text) return;
    this.#recall.write(this.#scope, { role, content: text });
    this.#lines.push(`${role === 'user' ? 'Caller' : 'You'}: ${text}`);
    if (this.#lines.length > MAX_CALL_LINES) this.#lines.shift();
    this.#conversation.heard(itemId, role, text);
    this.#pressure = this.#pressure.then(() => this.#relievePressure());
  }

  /** A long call: warn the model, then fold the oldest turns into a summary (see LiveConversation). */
  async #relievePressure(): Promise<void> {
    try {
      const changed = await this.#conversation.relieve({
        instructions: (await this.#session({ recompile: false })).instructions,
        model: this.#model,
        recordSummary: (summary) =>
          this.#recall.write(this.#scope, { role: 'system', content: `Summary of earlier in this call: ${summary}` }),
      });
      if (changed) this.#model.updateSession(await this.#session({ recompile: false }));
    } catch (error) {
      this.#logger.warn({ err: error }, 'long call: the context check failed');
    }
  }

  /**
   * The model is gone for good: note it for staff, end the call (its transcript is kept and
   * consolidated), then say sorry with the recorded message and hang up once it has played.
   */
  async #apologiseAndEnd(): Promise<void> {
    const { stream } = this.#deps;
    this.#logger.error('the realtime model is unreachable; ending the call with an apology');
    await this.#deps.prisma.auditEvent
      .create({
        data: {
          organizationId: this.#call.organizationId,
          actor: 'system',
          action: 'call.model_unreachable',
          resourceType: 'call',
          resourceId: this.#call.id,
          details: { householdId: this.#call.householdId, note: 'The caller was told staff would be informed.' },
        },
      })
      .catch((error: unknown) => this.#logger.error({ err: error }, 'could not record the failed call for staff'));
    const apology = await connectionLostMessage();
    stream.clear();
    this.#playback.interrupt();
    stream.sendAudio(apology.toString('base64'));
    stream.mark(this.#playback.sent(APOLOGY_ITEM, apology.length));
    const played = this.#playedOut();
    // Ended now, not after the message: if the caller hangs up during it, nothing waits on them.
    await this.#finish('the realtime model could not be reached again');
    await withTimeout(played, apology.length / MULAW_BYTES_PER_MS + APOLOGY_SLACK_MS);
    stream.close();
  }

  /** Resolves once everything sent has played. */
  #playedOut(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.#playback.playing) return;
        this.#deps.stream.off('mark', check);
        resolve();
      };
      this.#deps.stream.on('mark', check);
      check();
    });
  }

  /** The caller spoke over the agent: stop its audio where the caller stopped hearing it. */
  #bargeIn(): void {
    const responseId = this.#activeResponse;
    if (!responseId && !this.#playback.playing) return;
    // Clear even when every frame was already sent: Twilio may still be playing them.
    this.#deps.stream.clear();
    const heard = this.#playback.interrupt();
    if (responseId) this.#interrupted.add(responseId);
    if (heard) {
      this.#model.interrupt({
        itemId: heard.itemId,
        audioEndMs: Math.floor(heard.playedMs),
        cancelResponse: responseId !== undefined,
      });
    }
    this.#logger.debug({ heardMs: heard?.playedMs, sentMs: heard?.sentMs }, 'caller barged in');
  }

  #onPlayed(name: string): void {
    this.#playback.played(name);
    if (this.#goodbye === 'said') this.#hangUpIfQuiet();
  }

  async #runTool(call: { callId: string; name: string; arguments: string }): Promise<void> {
    const model = this.#model;
    try {
      const output = await this.#deps.calls.turn(this.#call, async ({ scope }) => {
        const result = await this.#tools.run(call, scope);
        this.#recall.write(scope, {
          role: 'tool',
          content: result.output,
          toolName: call.name,
          toolArgs: parseToolArguments(call.arguments),
          toolCallId: call.callId,
        });
        return result.output;
      });
      model.sendFunctionOutput({ callId: call.callId, output });
    } catch (error) {
      this.#logger.error({ err: error, tool: call.name }, 'tool call failed');
      model.sendFunctionOutput({
        callId: call.callId,
        output: `The ${call.name} tool failed; carry on without it.`,
      });
    }
    model.requestResponse();
  }

  async #onKey(digit: string): Promise<void> {
    if (this.#caller.verified) return;
    let outcome: PinOutcome | undefined;
    try {
      outcome = await this.#pin.press(digit);
    } catch (error) {
      this.#logger.error({ err: error }, 'could not check the PIN');
      outcome = { kind: 'wrong', triesLeft: 0 };
    }
    if (!outcome) return;
    if (outcome.kind === 'verified') {
      this.#call = await this.#deps.calls.verifyCaller(this.#call, outcome.member.id);
      this.#scope = callScope(this.#call);
      this.#caller = { memberName: outcome.member.name, verified: true, pinRequested: false };
      // Now, not debounced: the private blocks must be there before the model answers.
      this.#model.updateSession(await this.#session());
    }
    this.#logger.info({ outcome: outcome.kind }, 'PIN entered');
    this.#model.addMessage({ role: 'system', text: pinOutcomeNote(outcome) });
    this.#model.requestResponse();
  }

  #hangUpAfterGoodbye(): void {
    this.#goodbye ??= 'next';
  }

  /** Hangs up once the goodbye has been said and the caller has heard all of it. */
  #hangUpIfQuiet(): void {
    if (this.#playback.playing) return;
    void this.end('the agent ended the call');
  }

  #refreshSoon(): void {
    clearTimeout(this.#refreshTimer);
    this.#refreshTimer = setTimeout(() => {
      this.#session().then(
        (session) => this.#model.updateSession(session),
        (error: unknown) => this.#logger.warn({ err: error }, 'could not refresh the call’s memory'),
      );
    }, REFRESH_DEBOUNCE_MS);
  }

  /**
   * The session as it should be now: the caller's memory (compiled afresh unless `recompile` is
   * false: the live-context check after every line needs only the instructions' size, and memory
   * changes recompile through `#refreshSoon`), the call's own tail, and the tools.
   */
  async #session({ recompile = true } = {}): Promise<RealtimeSessionConfig> {
    const { memory, realtime, extraContext } = this.#deps;
    if (recompile || this.#compiled === undefined) {
      const [remembered, extra] = await Promise.all([
        memory.compileContext({ scope: this.#scope }),
        extraContext?.(this.#scope) ?? '',
      ]);
      this.#compiled = extra ? `${remembered}\n\n${extra}` : remembered;
    }
    const compiled = this.#compiled;
    const tail = this.#conversation.instructionsTail;
    const instructions = voiceInstructions({ compiled, caller: this.#caller });
    return {
      instructions: tail ? `${instructions}\n\n${tail}` : instructions,
      tools: this.#tools.definitions,
      voice: realtime.voice,
      transcriptionModel: realtime.transcriptionModel,
    };
  }
}

async function withTimeout(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() =>
    clearTimeout(timer),
  );
}
