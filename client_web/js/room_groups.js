// The room list, grouped by what each room is to this person: their group
// (cohort) first, then their counsellor, topics, alumni, and anything else.
// Pure (no DOM); the order inside a group is the order the server listed.

const SECTIONS = [
  { id: 'group', title: (n) => (n === 1 ? 'My group' : 'Groups') },
  { id: 'counsellor', title: () => 'My counsellor' },
  { id: 'counselling', title: () => 'People I counsel' },
  { id: 'topic', title: () => 'Topics' },
  { id: 'alumni', title: () => 'Alumni' },
  { id: 'other', title: () => 'Other rooms' },
];

/** Which section a room belongs in (a direct room reads differently for its counsellor). */
export function sectionOf(room) {
  switch (room.kind) {
    case 'cohort':
    case 'group':
      return 'group';
    case 'direct':
      return room.role === 'moderator' ? 'counselling' : 'counsellor';
    case 'topic':
    case 'alumni':
      return room.kind;
    default:
      return 'other';
  }
}

/** @returns {{id: string, title: string, rooms: object[]}[]} the non-empty sections, in order */
export function groupRooms(rooms) {
  const by = new Map(SECTIONS.map((s) => [s.id, []]));
  for (const room of rooms) by.get(sectionOf(room)).push(room);
  return SECTIONS.filter((s) => by.get(s.id).length).map((s) => ({ id: s.id, title: s.title(by.get(s.id).length), rooms: by.get(s.id) }));
}

/** The room to open when none is chosen: the first one I can post in, else the first one. */
export function preferredRoom(groups) {
  const all = groups.flatMap((g) => g.rooms);
  return all.find((room) => room.role !== 'reader') || all[0] || null;
}
