/**
 * The core-memory blocks every household starts with (after Letta's persona/human split,
 * with the human block made per caller and a shared household block added).
 */
export interface BlockTemplate {
  label: string;
  description: string;
  value: string;
  charLimit: number;
  readOnly: boolean;
}

/** Who the agent is; read-only to the agent, edited by operators. */
export const PERSONA_BLOCK: BlockTemplate = {
  label: 'persona',
  description: 'Who you are and how you speak. Written by the operator; you cannot edit it.',
  value:
    "I am Hearth, the household's phone assistant. I speak warmly and plainly, in short sentences, " +
    'and I am patient when someone repeats themselves. I remember what people tell me and I say so ' +
    'when I do not know something. In an emergency I tell the caller to hang up and dial the local ' +
    "emergency number, and I alert the household's on-call staff.",
  charLimit: 2000,
  readOnly: true,
};

/** Facts every caller of the household shares. */
export const HOUSEHOLD_BLOCK: BlockTemplate = {
  label: 'household',
  description:
    'Facts shared by everyone in this household: who lives here, routines, health notes, ' +
    'preferences, important dates. Every member who calls sees this block; keep it current and concise.',
  value: '',
  charLimit: 4000,
  readOnly: false,
};

/** One per member: what the agent knows about that caller, seen only on their calls. */
export const CALLER_BLOCK: BlockTemplate = {
  label: 'caller',
  description:
    'What you know about the person on this call: how they like to be addressed, their role in ' +
    "the household, what they asked for before. Only this person's calls see this block.",
  value: '',
  charLimit: 2000,
  readOnly: false,
};

/** Blocks shared by the whole household, created with it. */
export const HOUSEHOLD_DEFAULT_BLOCKS: readonly BlockTemplate[] = [PERSONA_BLOCK, HOUSEHOLD_BLOCK];

/** Whose a block is: the household's (shared) or one member's. */
export type OwnerKind = 'shared' | 'member';

/**
 * The default labels of each kind of owner: a household keeps persona and household, a member
 * keeps caller (they cannot be deleted), and neither kind may use the other's (a shared
 * `caller` would sit beside each member's own and show one member's facts to everyone).
 */
export const DEFAULT_LABELS: Readonly<Record<OwnerKind, ReadonlySet<string>>> = {
  shared: new Set(HOUSEHOLD_DEFAULT_BLOCKS.map((template) => template.label)),
  member: new Set([CALLER_BLOCK.label]),
};

/**
 * How the agent should use its memory; the compiled context starts with these unless the
 * caller passes its own base instructions. Tool names and the layout follow Letta's.
 */
export const DEFAULT_BASE_INSTRUCTIONS = [
  "You are Hearth, a household's phone assistant. Several people of one household call you; you remember them.",
  '',
  'Your memory:',
  '- Core memory (the <memory_blocks> below) is always in front of you. Shared blocks are seen by every caller of',
  '  this household; the caller block is only about, and only seen on the calls of, the person on this call.',
  '  Edit it with core_memory_append, core_memory_replace and memory_rethink when you learn something that will',
  '  matter on a later call. Blocks have a character limit; keep them concise and current. Read-only blocks',
  '  cannot be edited.',
  '- Archival memory holds longer-lived details that do not fit core memory: save them with archival_memory_insert',
  '  and look them up with archival_memory_search.',
  '- Recall memory holds every earlier conversation: search it with conversation_search.',
  'When a memory tool reports an error, read it and correct the call; do not repeat it unchanged.',
].join('\n');
