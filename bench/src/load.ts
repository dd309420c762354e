// Bounded load loops: a fixed number of tasks, a fixed concurrency, a deadline.

export interface BoundedRun {
  count: number;
  concurrency: number;
  /** The loop stops starting tasks after this long and then throws. */
  deadlineMs: number;
  task(index: number): Promise<void>;
}

/** Runs `task(0 … count-1)` with at most `concurrency` in flight; resolves with the wall time. */
export async function runBounded(run: BoundedRun): Promise<{ elapsedMs: number }> {
  const started = performance.now();
  const deadline = started + run.deadlineMs;
  let next = 0;
  let timedOut = false;
  const lane = async () => {
    while (next < run.count) {
      if (performance.now() > deadline) {
        timedOut = true;
        return;
      }
      const index = next;
      next += 1;
      await run.task(index);
    }
  };

  await Promise.all(Array.from({ length: Math.min(run.concurrency, run.count) }, lane));
  if (timedOut) throw new Error(`load loop passed its ${run.deadlineMs} ms deadline at ${next}`);
  return { elapsedMs: performance.now() - started };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
