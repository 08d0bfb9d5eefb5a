/**
 * Prometheus metrics for `GET /metrics` (prom-client). Each process has its own registry, so two
 * servers in one test process never share counters. Hot paths keep plain counters of their own
 * (frames are counted by the media streams, not here) and are read at scrape time; the rest is
 * recorded as it happens through the methods below.
 *
 * @example
 * const metrics = new Metrics();
 * metrics.watchCalls(() => voice.stats);
 * metrics.toolRan('archival_memory_search', true, 0.004);
 * const { contentType, body } = await metrics.render();
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** What the voice edge counts for itself: read at each scrape. */
export interface CallStats {
  liveCalls: number;
  framesIn: number;
  framesOut: number;
  framesDropped: number;
}

/** One job queue's backlog. */
export interface QueueDepth {
  queue: string;
  /** Waiting, including jobs scheduled for later (e.g. escalation timeouts). */
  queued: number;
  active: number;
}

export type ModelChannel = 'text' | 'voice';

/** Latency buckets (seconds) from a fast tool to a slow model turn. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Metrics {
  readonly registry = new Registry();
  readonly #modelLatency: Histogram<'channel'>;
  readonly #toolLatency: Histogram<'tool' | 'outcome'>;
  readonly #jobFailures: Counter<'queue'>;
  readonly #pagesSent: Counter<'channel'>;
  readonly #acknowledgements: Counter<'via'>;
  readonly #memoryPressure: Counter<'level'>;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'hearth_process_' });
    this.#modelLatency = new Histogram({
      name: 'hearth_model_latency_seconds',
      help: 'Text: one model request, start to finish. Voice: a realtime response, from its creation to its first audio.',
      labelNames: ['channel'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#toolLatency = new Histogram({
      name: 'hearth_tool_latency_seconds',
      help: 'Agent tool calls (memory tools, escalate, end_call), by tool and outcome.',
      labelNames: ['tool', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#jobFailures = new Counter({
      name: 'hearth_job_failures_total',
      help: 'Job tries that failed in this process (each is retried until its retry limit).',
      labelNames: ['queue'],
      registers,
    });
    this.#pagesSent = new Counter({
      name: 'hearth_pages_sent_total',
      help: 'Escalation pages delivered to Twilio or to a webhook, by channel.',
      labelNames: ['channel'],
      registers,
    });
    this.#acknowledgements = new Counter({
      name: 'hearth_escalations_acknowledged_total',
      help: 'Escalations acknowledged (first acknowledgements only), by how.',
      labelNames: ['via'],
      registers,
    });
    this.#memoryPressure = new Counter({
      name: 'hearth_memory_pressure_events_total',
      help: 'Context-window checks that found pressure: warn (the model is told) or evict (the oldest turns are summarised).',
      labelNames: ['level'],
      registers,
    });
  }

  /** Live calls and media frames, read from the voice edge at each scrape. */
  watchCalls(read: () => CallStats): void {
    const registers = [this.registry];
    new Gauge({
      name: 'hearth_calls_active',
      help: 'Phone calls live in this process.',
      registers,
      collect() {
        this.set(read().liveCalls);
      },
    });
    const frames = (name: string, help: string, field: keyof Omit<CallStats, 'liveCalls'>) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read()[field]);
        },
      });
    frames('hearth_media_frames_in_total', 'Media Streams frames received from Twilio.', 'framesIn');
    frames('hearth_media_frames_out_total', 'Media frames of the model audio sent to Twilio.', 'framesOut');
    frames(
      'hearth_media_frames_dropped_total',
      'Malformed, oversized or out-of-place frames dropped.',
      'framesDropped',
    );
  }

  /** Job queue depth, read from the queue (shared by every instance) at each scrape. */
  watchQueues(read: () => Promise<QueueDepth[]>): void {
    new Gauge({
      name: 'hearth_job_queue_depth',
      help: 'Jobs per queue and state, across every instance on the database.',
      labelNames: ['queue', 'state'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const { queue, queued, active } of await read()) {
          this.set({ queue, state: 'queued' }, queued);
          this.set({ queue, state: 'active' }, active);
        }
      },
    });
  }

  modelResponded(channel: ModelChannel, seconds: number): void {
    this.#modelLatency.observe({ channel }, seconds);
  }

  toolRan(tool: string, ok: boolean, seconds: number): void {
    this.#toolLatency.observe({ tool, outcome: ok ? 'ok' : 'error' }, seconds);
  }

  jobFailed(queue: string): void {
    this.#jobFailures.inc({ queue });
  }

  pageSent(channel: string): void {
    this.#pagesSent.inc({ channel });
  }

  acknowledged(via: string): void {
    this.#acknowledgements.inc({ via });
  }

  memoryPressure(level: 'warn' | 'evict'): void {
    this.#memoryPressure.inc({ level });
  }

  /** The text exposition format, for `GET /metrics`. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** Seconds since `start` (a `performance.now()` reading). */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000;
}
