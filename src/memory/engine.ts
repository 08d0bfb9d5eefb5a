/**
 * The memory engine: composes the block store and writer, history, recall, archival, the
 * context compiler and the tools behind the `MemoryEngine` interface.
 */
import type { PrismaClient } from '../db/index.js';
import type { Logger } from '../logger.js';
import { ArchivalStore } from './archival.js';
import { BlockAttachments } from './attachments.js';
import { BlockWriter } from './block-writer.js';
import { BlockStore } from './blocks.js';
import { ContextCompiler } from './context.js';
import type { Embedder } from './embeddings/index.js';
import { createInProcessEvents, type MemoryEvents } from './events.js';
import { BlockHistory } from './history.js';
import {
  checkThresholds,
  DEFAULT_PRESSURE,
  measurePressure,
  type PressureThresholds,
  summarizeOldest,
} from './pressure.js';
import { RecallStore } from './recall.js';
import { SeenVersions } from './seen-versions.js';
import { CoreMemoryTools } from './tools/core.js';
import { isMemoryToolName, MemoryToolRunner, memoryToolDefinitions } from './tools/index.js';
import { SearchTools } from './tools/search.js';
import type { MemoryEngine } from './types.js';

/** What the engine is built from. */
export interface MemoryEngineOptions {
  prisma: PrismaClient;
  embedder: Embedder;
  /** Default: in-process only. On Postgres pass `await createMemoryEvents({ db })` so other instances hear changes. */
  events?: MemoryEvents;
  /** The clock (tests pin it). */
  now?: () => Date;
  /** Context-pressure thresholds (0 < warn < evict, else `RangeError`); default `DEFAULT_PRESSURE`. */
  pressure?: PressureThresholds;
  logger?: Logger;
}

/** Builds the engine; it owns `events` from here on and closes them in `close()`. */
export function createMemoryEngine(options: MemoryEngineOptions): MemoryEngine {
  const { prisma, embedder, logger } = options;
  const now = options.now ?? (() => new Date());
  const events = options.events ?? createInProcessEvents({ logger });
  const thresholds = checkThresholds(options.pressure ?? DEFAULT_PRESSURE);
  const seen = new SeenVersions();
  const blocks = new BlockStore({ prisma, events, now });
  const writer = new BlockWriter({ prisma, store: blocks, events, now });
  const attachments = new BlockAttachments({ prisma, events, now });
  const history = new BlockHistory({ prisma, store: blocks, writer });
  const recall = new RecallStore({ prisma, embedder, now, logger });
  const archival = new ArchivalStore({ prisma, embedder, now, logger });
  const compiler = new ContextCompiler({ prisma, blocks, recall, archival, seen, now });
  const tools = new MemoryToolRunner({
    core: new CoreMemoryTools({ store: blocks, writer, seen }),
    search: new SearchTools({ prisma, recall, archival }),
    logger,
  });
  const toolDefinitions = memoryToolDefinitions();

  return {
    compileContext: (input) => compiler.compile(input),
    toolDefinitions,
    runTool: (input) => tools.run(input),
    previewTool: (input) => tools.preview(input),
    isMemoryTool: isMemoryToolName,

    appendMessage: (input) => recall.append(input),
    searchRecall: (input) => recall.search(input),
    transcript: (input) => recall.transcript(input),
    insertPassage: (input) => archival.insert(input),
    searchPassages: (input) => archival.search(input),

    listBlocks: (input) => blocks.list(input),
    getBlock: (input) => blocks.get(input),
    createBlock: (input) => blocks.create(input),
    updateBlock: (input) =>
      writer.update({
        ref: input,
        expectedVersion: input.expectedVersion,
        changes: input.changes,
        source: input.source,
        withinWrite: input.withinWrite,
      }),
    deleteBlock: (input) => blocks.delete(input),
    blockHistory: (input) => history.list(input),
    rollbackBlock: (input) => history.rollback(input),
    createHouseholdBlocks: (input) => blocks.createHouseholdDefaults(input),
    createMemberBlock: (input) => blocks.createMemberDefaults(input),
    attachBlock: (input) => attachments.attach(input),
    detachBlock: (input) => attachments.detach(input),
    listOrganizationBlocks: (input) => attachments.listOrganization(input),
    blockHouseholds: (input) => attachments.households(input),

    onBlockChange: (listener) => events.subscribe(listener),

    contextPressure: ({ messages, instructions }) => measurePressure({ messages, instructions, thresholds }),
    summarizeForEviction: ({ messages, summarizer, count, instructions }) =>
      summarizeOldest({
        messages,
        summarizer,
        count: count ?? measurePressure({ messages, instructions: instructions ?? '', thresholds }).evictCount ?? 0,
      }),

    flush: () => recall.flush(),
    async close() {
      await recall.flush();
      await events.close();
    },
  };
}
