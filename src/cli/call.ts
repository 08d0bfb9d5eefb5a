/**
 * `hearth call`: places a simulated phone call against a running Hearth, as Twilio would (a
 * signed webhook, then 20 ms μ-law frames on the media stream), speaks a recording or a sentence,
 * waits for the agent's reply to play, hangs up, and prints the call's transcript as Hearth writes
 * it. Reading the transcript takes an admin API key (`--key` or HEARTH_API_KEY).
 *
 * @example
 * npx hearth call --to +15555550100 --from +15555550101 --say "Please remember the bins go out on Monday."
 */
import { z } from 'zod';
import { HearthError, UnavailableError } from '../errors.js';
import { dial, type SimulatedCall } from '../voice/simulated-caller.js';

const TRANSCRIPT_POLL_MS = 500;

export interface CallOptions {
  serverUrl: string;
  twilio: { publicUrl: string; authToken: string };
  to: string;
  from: string;
  speech: { audio: string } | { say: string };
  /** An admin API key of the organization the number belongs to, to print the transcript. */
  apiKey: string | undefined;
  output?: NodeJS.WritableStream;
}

const transcriptSchema = z.object({
  transcript: z.array(z.object({ role: z.string(), content: z.string(), toolName: z.string().nullish() })),
});
const householdsSchema = z.object({ data: z.array(z.object({ id: z.string() })) });

/** Places the call; resolves once it has ended and the last transcript lines are printed. */
export async function placeCall(options: CallOptions): Promise<void> {
  const out = options.output ?? process.stdout;
  const print = (line: string) => out.write(`${line}\n`);
  const { serverUrl, twilio, to, from } = options;
  const answer = await dial({ serverUrl, publicUrl: twilio.publicUrl, authToken: twilio.authToken, to, from });
  if (answer.kind === 'rejected') {
    throw new UnavailableError(`Hearth refused the call at the ${answer.stage}: ${answer.reason}`);
  }
  if (answer.kind === 'spoken') {
    print(`Hearth answered without connecting: "${answer.text}"${answer.hangUp ? ' (and hung up)' : ''}`);
    return;
  }
  const call = answer.call;
  const callId = call.customParameters.callId;
  print(`Connected: call ${callId ?? '(unknown id)'} (Twilio CallSid ${call.callSid}).`);
  const transcript =
    options.apiKey && callId ? new TranscriptPrinter(options.serverUrl, options.apiKey, callId, print) : undefined;
  if (!transcript) print('(Pass --key or set HEARTH_API_KEY to print the transcript as Hearth writes it.)');
  const ticker = setInterval(() => void transcript?.printNew(), TRANSCRIPT_POLL_MS);
  try {
    await call.waitForReply(); // the greeting
    await speak(call, options.speech);
    await call.waitForReply();
    await call.hangUp();
  } finally {
    clearInterval(ticker);
  }
  // The last lines are written as the call ends.
  await new Promise((resolve) => setTimeout(resolve, TRANSCRIPT_POLL_MS));
  await transcript?.printNew();
  print(`Hung up after hearing ${(call.playedMs / 1000).toFixed(1)} s of the agent.`);
}

async function speak(call: SimulatedCall, speech: CallOptions['speech']): Promise<void> {
  if ('audio' in speech) await call.sendWavFile(speech.audio);
  else await call.say(speech.say);
}

/** Prints the call's transcript lines it has not printed yet, read through the admin API. */
class TranscriptPrinter {
  #householdId: string | undefined;
  #printed = 0;

  constructor(
    readonly serverUrl: string,
    readonly apiKey: string,
    readonly callId: string,
    readonly print: (line: string) => void,
  ) {}

  async printNew(): Promise<void> {
    try {
      this.#householdId ??= await this.#findHousehold();
      if (!this.#householdId) return;
      const { transcript } = transcriptSchema.parse(
        await this.#get(`/v1/households/${this.#householdId}/calls/${this.callId}`),
      );
      for (const line of transcript.slice(this.#printed)) {
        this.print(`  ${line.role === 'tool' ? `tool ${line.toolName ?? ''}` : line.role}: ${line.content}`);
      }
      this.#printed = transcript.length;
    } catch (error) {
      if (error instanceof HearthError) throw error;
      this.print(`  (could not read the transcript: ${error instanceof Error ? error.message : String(error)})`);
    }
  }

  /** The household the call belongs to: the one of the key's households that has it. */
  async #findHousehold(): Promise<string | undefined> {
    const { data: households } = householdsSchema.parse(await this.#get('/v1/households?limit=100'));
    for (const household of households) {
      const response = await fetch(`${this.serverUrl}/v1/households/${household.id}/calls/${this.callId}`, {
        headers: { authorization: `Bearer ${this.apiKey}` },
      });
      if (response.ok) return household.id;
    }
    return undefined;
  }

  async #get(path: string): Promise<unknown> {
    const response = await fetch(`${this.serverUrl}${path}`, { headers: { authorization: `Bearer ${this.apiKey}` } });
    if (response.status === 401) throw new UnavailableError('The API key was refused: check --key or HEARTH_API_KEY.');
    if (!response.ok) throw new Error(`GET ${path} answered ${response.status}`);
    return response.json();
  }
}
