import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/index.js';
import { createMemoryEngine, type MemoryEngine, type SessionScope } from '../../src/memory/index.js';
import { createTestDatabase } from '../support/database.js';
import { hashEmbedder, newCall, type SeededHousehold, scopeOf, seedHousehold, testClock } from './helpers.js';

let db: Database;
let memory: MemoryEngine;
let seeded: SeededHousehold;
const clock = testClock('2026-11-26T14:05:00Z');
const admin = { source: 'admin' as const };

beforeAll(async () => {
  db = await createTestDatabase();
  memory = createMemoryEngine({ prisma: db.prisma, embedder: hashEmbedder(), now: clock.now });
  seeded = await seedHousehold(db.prisma, memory);
  const { householdId, organizationId, nana, chidi } = seeded;
  await memory.updateBlock({
    householdId,
    memberId: null,
    label: 'household',
    expectedVersion: 1,
    changes: { value: 'Adaeze (Nana) lives here with her cat Miso.\nChidi visits on Sundays.' },
    source: admin,
  });
  await memory.updateBlock({
    householdId,
    memberId: nana,
    label: 'caller',
    expectedVersion: 1,
    changes: { value: 'Prefers to be called Nana. Hard of hearing: speak slowly.' },
    source: admin,
  });
  await memory.updateBlock({
    householdId,
    memberId: chidi,
    label: 'caller',
    expectedVersion: 1,
    changes: { value: 'CHIDI-ONLY: works night shifts.' },
    source: admin,
  });
  await memory.createBlock({
    organizationId,
    householdId,
    memberId: null,
    label: 'care_plan',
    description: 'Medication and care instructions. Private: only for verified members.',
    value: 'Metformin 500 mg with breakfast.',
    private: true,
    charLimit: 1000,
    source: admin,
  });
  await memory.createBlock({
    organizationId,
    householdId,
    memberId: null,
    label: 'appointments',
    description: 'Upcoming appointments.',
    value: 'Dentist: Friday 10:00.',
    charLimit: 1000,
    source: admin,
  });
  // Recall: two earlier messages with Nana, one on the current call (not counted), one with Chidi.
  const earlier = await newCall(db.prisma, seeded, nana);
  for (const [callId, memberId, content] of [
    [earlier, nana, 'I had tea.'],
    [earlier, nana, 'Good to hear.'],
    [seeded.callId, nana, 'Hello again.'],
    [await newCall(db.prisma, seeded, chidi), chidi, 'Night shift tonight.'],
  ] as const) {
    await memory.appendMessage({ scope: scopeOf(seeded, { memberId, callId }), role: 'user', content });
  }
  await memory.insertPassage({ organizationId, householdId, text: 'The boiler was serviced in March.' });
  await memory.insertPassage({ organizationId, householdId, memberId: chidi, text: 'Chidi is allergic to nuts.' });
});
afterAll(async () => {
  await memory.close();
  await db.close();
});

const nanaVerified = (): SessionScope => scopeOf(seeded, { memberId: seeded.nana, verified: true });

describe('compileContext', () => {
  it('renders base instructions, the caller’s blocks in Letta’s layout, then the metadata', async () => {
    const text = await memory.compileContext({ scope: nanaVerified(), baseInstructions: 'You are Hearth.' });
    expect(text).toMatchInlineSnapshot(`
      "You are Hearth.

      <memory_blocks>
      The following memory blocks are currently engaged in your core memory unit:

      <persona>
      <description>
      Who you are and how you speak. Written by the operator; you cannot edit it.
      </description>
      <metadata>
      - read_only=true
      - chars_current=342
      - chars_limit=2000
      </metadata>
      <value>
      I am Hearth, the household's phone assistant. I speak warmly and plainly, in short sentences, and I am patient when someone repeats themselves. I remember what people tell me and I say so when I do not know something. In an emergency I tell the caller to hang up and dial the local emergency number, and I alert the household's on-call staff.
      </value>
      </persona>

      <household>
      <description>
      Facts shared by everyone in this household: who lives here, routines, health notes, preferences, important dates. Every member who calls sees this block; keep it current and concise.
      </description>
      <metadata>
      - read_only=false
      - chars_current=68
      - chars_limit=4000
      </metadata>
      <value>
      Adaeze (Nana) lives here with her cat Miso.
      Chidi visits on Sundays.
      </value>
      </household>

      <appointments>
      <description>
      Upcoming appointments.
      </description>
      <metadata>
      - read_only=false
      - chars_current=22
      - chars_limit=1000
      </metadata>
      <value>
      Dentist: Friday 10:00.
      </value>
      </appointments>

      <care_plan>
      <description>
      Medication and care instructions. Private: only for verified members.
      </description>
      <metadata>
      - read_only=false
      - chars_current=32
      - chars_limit=1000
      </metadata>
      <value>
      Metformin 500 mg with breakfast.
      </value>
      </care_plan>

      <caller>
      <description>
      What you know about the person on this call: how they like to be addressed, their role in the household, what they asked for before. Only this person's calls see this block.
      </description>
      <metadata>
      - read_only=false
      - chars_current=57
      - chars_limit=2000
      </metadata>
      <value>
      Prefers to be called Nana. Hard of hearing: speak slowly.
      </value>
      </caller>

      </memory_blocks>

      <memory_metadata>
      - The current date and time is Thursday, 26 November 2026, 14:05 (Europe/London)
      - The caller is Adaeze Okafor (grandmother), a member of this household; their identity is verified
      - 2 previous messages with this caller are stored in recall memory (use conversation_search)
      - 1 passage is stored in archival memory (use archival_memory_search)
      </memory_metadata>"
    `);
  });

  it('is the same text for the same memory and minute, and starts with the default instructions', async () => {
    const first = await memory.compileContext({ scope: nanaVerified() });
    const second = await memory.compileContext({ scope: nanaVerified() });
    expect(second).toBe(first);
    expect(first.startsWith("You are Hearth, a household's phone assistant.")).toBe(true);
  });

  it('never shows another member’s block', async () => {
    const text = await memory.compileContext({ scope: nanaVerified() });
    expect(text).not.toContain('CHIDI-ONLY');
    expect(text).not.toContain('allergic to nuts');
    const chidi = await memory.compileContext({
      scope: scopeOf(seeded, { memberId: seeded.chidi, verified: true }),
    });
    expect(chidi).toContain('CHIDI-ONLY: works night shifts.');
    expect(chidi).not.toContain('Hard of hearing');
    expect(chidi).toContain('- 1 previous message with this caller is stored in recall memory');
    expect(chidi).toContain('- 2 passages are stored in archival memory');
  });

  it('shows private blocks only to a verified member', async () => {
    const unverified = await memory.compileContext({ scope: scopeOf(seeded, { memberId: seeded.nana }) });
    expect(unverified).not.toContain('<care_plan>');
    expect(unverified).not.toContain('Metformin');
    expect(unverified).toContain('Prefers to be called Nana.');
    expect(unverified).toContain(
      '- The caller appears to be Adaeze Okafor (grandmother), a member of this household, by caller ID only; ' +
        'their identity is NOT verified, so do not share private details until they verify',
    );
  });

  it('gives an unknown caller the shared blocks minus private ones, and no caller block', async () => {
    const text = await memory.compileContext({ scope: scopeOf(seeded, { memberId: null, callId: null }) });
    const labels = [...text.matchAll(/^<([a-z_]+)>$/gm)].map((match) => match[1]);
    expect(labels).toEqual([
      'memory_blocks',
      'persona',
      'description',
      'metadata',
      'value',
      'household',
      'description',
      'metadata',
      'value',
      'appointments',
      'description',
      'metadata',
      'value',
      'memory_metadata',
    ]);
    expect(text).toContain(
      '- The caller is not a known member of this household (unknown caller); do not share private household details',
    );
    expect(text).toContain('- 0 previous messages with this caller are stored in recall memory');
    expect(text).toContain('- 1 passage is stored in archival memory');
  });
  it('stops counting past 1,000 and says "more than"', async () => {
    const { organizationId, householdId, chidi } = seeded;
    const rows = Array.from({ length: 1001 }, (_, index) => ({
      organizationId,
      householdId,
      memberId: chidi,
      role: 'user' as const,
      content: `Old line ${index}`,
    }));
    await db.prisma.message.createMany({ data: rows });
    try {
      const text = await memory.compileContext({ scope: scopeOf(seeded, { memberId: chidi, verified: true }) });
      expect(text).toContain('- More than 1,000 previous messages with this caller are stored in recall memory');
    } finally {
      await db.prisma.message.deleteMany({ where: { content: { startsWith: 'Old line ' } } });
    }
  });
});
