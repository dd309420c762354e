// An in-memory DNS zone: the records and failures the test DNS server answers with.

/** RFC 1035 §3.3: a <character-string> is one length octet and at most 255 octets of data. */
const MAX_CHARACTER_STRING_BYTES = 255;
const MAX_CNAME_DEPTH = 8;

export type ZoneRecord =
  | { name: string; type: 'TXT'; strings: string[] }
  | { name: string; type: 'A'; address: string }
  | { name: string; type: 'CNAME'; target: string };

/** What the server does with a query: answer with a response code and records, or stay silent. */
export type ZoneAnswer =
  | { kind: 'answer'; rcode: 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL'; records: ZoneRecord[] }
  | { kind: 'silence' };

export interface Zone {
  /** Replaces the TXT records at a name; each record is one string or several character-strings. */
  setTxt(name: string, records: ReadonlyArray<string | readonly string[]>): void;
  /** Replaces the A records at a name. */
  setA(name: string, addresses: readonly string[]): void;
  /** Makes a name an alias: every other record at it is dropped, as a CNAME allows no others. */
  setCname(name: string, target: string): void;
  /** Answers SERVFAIL for every query of the name until it is set again or removed. */
  setServfail(name: string): void;
  /** Never answers a query of the name (the client times out) until it is set again or removed. */
  setNoAnswer(name: string): void;
  remove(name: string): void;
  clear(): void;
  answer(queryName: string, queryType: string): ZoneAnswer;
}

interface Entry {
  txt: string[][];
  a: string[];
  cname?: string;
  failure?: 'servfail' | 'no-answer';
}

/** Creates an empty zone. Names are case-insensitive and may end with one dot. */
export function createZone(): Zone {
  const entries = new Map<string, Entry>();
  const update = (name: string, change: (entry: Entry) => Entry) => {
    const key = zoneName(name);
    entries.set(key, change(entries.get(key) ?? { txt: [], a: [] }));
  };

  return {
    setTxt(name, records) {
      const txt = records.map(toCharacterStrings);
      update(name, (entry) => ({ txt, a: entry.cname ? [] : entry.a }));
    },
    setA(name, addresses) {
      update(name, (entry) => ({ txt: entry.cname ? [] : entry.txt, a: [...addresses] }));
    },
    setCname(name, target) {
      update(name, () => ({ txt: [], a: [], cname: zoneName(target) }));
    },
    setServfail(name) {
      update(name, (entry) => ({ ...entry, failure: 'servfail' }));
    },
    setNoAnswer(name) {
      update(name, (entry) => ({ ...entry, failure: 'no-answer' }));
    },
    remove(name) {
      entries.delete(zoneName(name));
    },
    clear() {
      entries.clear();
    },
    answer(queryName, queryType) {
      return answerFrom(entries, queryName.toLowerCase().replace(/\.$/, ''), queryType);
    },
  };
}

function answerFrom(entries: Map<string, Entry>, queryName: string, queryType: string): ZoneAnswer {
  const chain: ZoneRecord[] = [];
  let name = queryName;
  for (let depth = 0; depth <= MAX_CNAME_DEPTH; depth += 1) {
    const entry = entries.get(name);
    if (entry?.failure === 'no-answer') return { kind: 'silence' };
    if (entry?.failure === 'servfail') return { kind: 'answer', rcode: 'SERVFAIL', records: [] };
    if (entry?.cname && queryType !== 'CNAME') {
      chain.push({ name, type: 'CNAME', target: entry.cname });
      name = entry.cname;
      continue;
    }

    const records = entry ? recordsOf(name, entry, queryType) : [];
    const rcode = records.length > 0 || nameExists(entries, name) ? 'NOERROR' : 'NXDOMAIN';
    return { kind: 'answer', rcode, records: [...chain, ...records] };
  }
  return { kind: 'answer', rcode: 'SERVFAIL', records: [] };
}

function recordsOf(name: string, entry: Entry, queryType: string): ZoneRecord[] {
  if (queryType === 'TXT') return entry.txt.map((strings) => ({ name, type: 'TXT', strings }));
  if (queryType === 'A') return entry.a.map((address) => ({ name, type: 'A', address }));
  if (queryType === 'CNAME' && entry.cname) return [{ name, type: 'CNAME', target: entry.cname }];
  return [];
}

/** A name exists when it holds an entry or is the parent of one (an empty non-terminal). */
function nameExists(entries: Map<string, Entry>, name: string): boolean {
  if (entries.has(name)) return true;
  const suffix = `.${name}`;
  for (const key of entries.keys()) if (key.endsWith(suffix)) return true;
  return false;
}

function zoneName(name: string): string {
  const normalized = name.toLowerCase().replace(/\.$/, '');
  if (normalized === '' || normalized.startsWith('.') || normalized.includes('..')) {
    throw new Error(`DNS test zone: "${name}" is not a domain name`);
  }
  if (!/^[\x21-\x7e]+$/.test(normalized)) {
    throw new Error(`DNS test zone: "${name}" is not ASCII; publish the A-label (xn--…) instead`);
  }
  return normalized;
}

/** Splits strings longer than a character-string allows, at character boundaries. */
function toCharacterStrings(record: string | readonly string[]): string[] {
  const strings = typeof record === 'string' ? [record] : record;
  return strings.flatMap(splitCharacterString);
}

function splitCharacterString(text: string): string[] {
  if (Buffer.byteLength(text) <= MAX_CHARACTER_STRING_BYTES) return [text];
  const chunks: string[] = [];
  let chunk = '';
  for (const character of text) {
    if (Buffer.byteLength(chunk + character) > MAX_CHARACTER_STRING_BYTES) {
      chunks.push(chunk);
      chunk = '';
    }
    chunk += character;
  }
  chunks.push(chunk);
  return chunks;
}
