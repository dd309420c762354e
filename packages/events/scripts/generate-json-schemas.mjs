// Writes one JSON Schema per event type, plus the union, from the built zod schemas.
import { mkdir, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { EVENT_SCHEMAS, VerihookEvent } from '../dist/index.js';

const outDir = new URL('../schemas/', import.meta.url);
await mkdir(outDir, { recursive: true });

async function write(name, schema) {
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', reused: 'inline' });
  json.$id = `https://verihook.dev/schemas/v1/${name}.json`;
  await writeFile(new URL(`${name}.json`, outDir), `${JSON.stringify(json, null, 2)}\n`);
}

for (const [type, schema] of Object.entries(EVENT_SCHEMAS)) await write(type, schema);
await write('event', VerihookEvent);
