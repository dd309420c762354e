// The delivery payload of the delivery stages: a JSON body of exactly PAYLOAD_BYTES bytes.

export const PAYLOAD_BYTES = 1024;

/** A message id for the n-th delivery of a run (unique within the suite's run). */
export function messageId(runTag: string, n: number): string {
  return `msg_${runTag}_${n.toString(36)}`;
}

/** A 1 KiB JSON body naming the message; ASCII only, so characters equal bytes. */
export function payloadFor(id: string, sentAtMs = Date.now()): string {
  const head = `{"type":"bench.delivery","message_id":"${id}","sent_at_ms":${sentAtMs},"padding":"`;
  const tail = '"}';
  const padding = PAYLOAD_BYTES - head.length - tail.length;
  if (padding < 0) throw new Error(`message id ${id} is too long for a ${PAYLOAD_BYTES} B body`);
  return `${head}${'x'.repeat(padding)}${tail}`;
}

/** A short tag that keeps message ids of different runs apart. */
export function runTag(label: string, index: number): string {
  return `${label}${index}${Date.now().toString(36)}`;
}
