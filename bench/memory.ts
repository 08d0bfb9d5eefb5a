/** Benchmarks 1–3: compiling context, writing recall, and hybrid recall search. */
import { ADMIN, type BenchResult, measure, openHousehold, progress, sentence } from './harness.js';

/** compileContext on five filled blocks vs one findMany of the rows it renders. */
export async function compileContextBench(): Promise<BenchResult> {
  const { db, memory, scope, close } = await openHousehold();
  try {
    const { organizationId, householdId, memberId } = scope;
    await memory.createBlock({ organizationId, householdId, memberId: null, label: 'medications', source: ADMIN });
    await memory.createBlock({ organizationId, householdId, memberId, label: 'health', private: true, source: ADMIN });
    const ownerKey = { in: ['', memberId!] };
    for (const block of await memory.listBlocks({ householdId })) {
      if (!ownerKey.in.includes(block.memberId ?? '')) continue;
      let value = '';
      for (let index = 0; value.length < block.charLimit * 0.9; index++) value += `${sentence(index)} `;
      const ref = { householdId, memberId: block.memberId, label: block.label };
      await memory.updateBlock({ ...ref, expectedVersion: block.version, changes: { value }, source: ADMIN });
    }
    progress('compileContext: 200 compiles of 5 blocks filled to 90%');
    const subject = await measure({ warmup: 20, iterations: 200, op: () => memory.compileContext({ scope }) });
    const where = { householdId, ownerKey };
    const baseline = await measure({
      warmup: 20,
      iterations: 200,
      op: () => db.prisma.memoryBlock.findMany({ where }),
    });
    return { rows: [{ name: 'compileContext (memoryBlock.findMany)', subject, baseline }], notes: [] };
  } finally {
    await close();
  }
}

/** appendMessage (trigger-kept tsvector, background embedding, then flush) vs message.create of the same rows. */
export async function appendMessageBench(): Promise<BenchResult> {
  const { db, memory, scope, close } = await openHousehold();
  try {
    const role = (index: number) => (index % 2 === 0 ? 'user' : 'assistant');
    progress('appendMessage: 300 writes, then flush()');
    const subject = await measure({
      warmup: 20,
      iterations: 300,
      op: (index) => memory.appendMessage({ scope, role: role(index), content: sentence(index) }),
    });
    const flushStart = performance.now();
    await memory.flush();
    const flushMs = performance.now() - flushStart;
    subject.wallMs += flushMs;
    const { organizationId, householdId, memberId, callId } = scope;
    const baseline = await measure({
      warmup: 20,
      iterations: 300,
      op: (index) =>
        db.prisma.message.create({
          data: { organizationId, householdId, memberId, callId, role: role(index), content: sentence(index) },
          select: { id: true, createdAt: true },
        }),
    });
    return {
      rows: [{ name: 'appendMessage + flush (message.create)', subject, baseline }],
      notes: [`appendMessage: the final flush() took ${flushMs.toFixed(1)} ms (counted in ops/s)`],
    };
  } finally {
    await close();
  }
}

const QUERIES = ['blood pressure tablet', 'pharmacy prescription', 'doctor appointment Tuesday', 'boiler repair'];

/** Hybrid recall search over 2,000 messages vs its full-text half alone, before and after ANALYZE. */
export async function recallSearchBench(): Promise<BenchResult> {
  const { db, memory, scope, chidi, close } = await openHousehold();
  try {
    const { organizationId, householdId } = scope;
    progress('recall search: seeding 2,000 messages (40 calls, 2 members) through appendMessage');
    for (let call = 0; call < 40; call++) {
      const memberId = call % 2 === 0 ? scope.memberId : chidi;
      const { id: callId } = await db.prisma.call.create({ data: { organizationId, householdId, memberId } });
      for (let turn = 0; turn < 50; turn++) {
        const content = sentence(call * 50 + turn);
        await memory.appendMessage({ scope: { ...scope, memberId, callId }, role: 'user', content });
      }
    }
    await memory.flush();
    const query = (index: number) => QUERIES[index % QUERIES.length]!;
    // The same any-word tsquery the hybrid search builds.
    const terms = (index: number) => query(index).toLowerCase().split(' ').join(' | ');
    const pair = async () => ({
      subject: await measure({
        warmup: 10,
        iterations: 100,
        op: (index) => memory.searchRecall({ householdId, query: query(index), limit: 10 }),
      }),
      baseline: await measure({
        warmup: 10,
        iterations: 100,
        op: (index) => db.prisma.$queryRaw`
          SELECT id, content, ts_rank(search_vector, q) AS rank
          FROM messages, to_tsquery('english', ${terms(index)}) q
          WHERE household_id = ${householdId}::uuid AND search_vector @@ q
          ORDER BY rank DESC, created_at DESC LIMIT 10`,
      }),
    });
    progress('recall search: 100 hybrid searches, 100 full-text queries');
    const fresh = await pair();
    // PGlite runs no autovacuum, so nothing analyzes the table unless asked to.
    await db.pglite!.exec('ANALYZE messages');
    progress('recall search: the same after ANALYZE messages');
    const analyzed = await pair();
    const [matches] = await db.prisma.$queryRaw<Array<{ count: number }>>`
      SELECT count(*)::int AS count FROM messages WHERE search_vector @@ to_tsquery('english', ${terms(0)})`;
    return {
      rows: [
        { name: 'searchRecall, 2k msgs (ts_rank SQL)', ...fresh },
        { name: 'searchRecall, 2k msgs, ANALYZEd (ts_rank SQL)', ...analyzed },
      ],
      notes: [`recall search: "${QUERIES[0]}" matches ${matches?.count} of 2,000 messages by full text`],
    };
  } finally {
    await close();
  }
}
