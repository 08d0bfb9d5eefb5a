/**
 * A household's voice settings: its `agentSettings` (validated strictly by the admin API on the
 * way in) read leniently here, so an odd stored value falls back to the server's default rather
 * than stopping a call.
 */
import { z } from 'zod';

const storedSettingsSchema = z.object({
  realtimeModel: z.string().trim().min(1).optional().catch(undefined),
  voice: z.string().trim().min(1).optional().catch(undefined),
  instructions: z.string().optional().catch(undefined),
  maxConcurrentCalls: z.number().int().min(1).optional().catch(undefined),
});

export interface VoiceSettings {
  realtimeModel: string;
  voice: string;
  maxConcurrentCalls: number;
  /** The household's extra instructions, appended to the base prompt. */
  instructions?: string;
}

/** The server's defaults (HEARTH_REALTIME_MODEL, HEARTH_REALTIME_VOICE, HEARTH_MAX_CONCURRENT_CALLS). */
export type VoiceDefaults = Omit<VoiceSettings, 'instructions'>;

/** The household's settings, each over the server's default. */
export function voiceSettings(agentSettings: unknown, defaults: VoiceDefaults): VoiceSettings {
  const parsed = storedSettingsSchema.safeParse(agentSettings);
  const stored = parsed.success ? parsed.data : {};
  return {
    realtimeModel: stored.realtimeModel ?? defaults.realtimeModel,
    voice: stored.voice ?? defaults.voice,
    maxConcurrentCalls: stored.maxConcurrentCalls ?? defaults.maxConcurrentCalls,
    ...(stored.instructions ? { instructions: stored.instructions } : {}),
  };
}
