// The orchestration the demo and the end-to-end test share: child processes and numbered steps.
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, ManagedProcess, ProcessError, waitForListening } from '../src/processes.ts';
import { StepFailure, Steps } from '../src/steps.ts';

const started: ManagedProcess[] = [];

function node(name: string, script: string): ManagedProcess {
  const child = new ManagedProcess({ name, args: ['-e', script], cwd: tmpdir(), env: process.env });
  started.push(child);
  return child;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((child) => child.stop()));
});

describe('ManagedProcess', () => {
  it('keeps every line of stdout and stderr, and finds the listening line', async () => {
    const child = node(
      'printer',
      `console.log('one'); console.error('two');
       console.log(JSON.stringify({ msg: 'listening', url: 'http://127.0.0.1:1' }));
       setInterval(() => {}, 1000);`,
    );

    const url = await waitForListening(child, 10_000);
    // stderr is a pipe of its own: its line may come after the listening line on stdout.
    await child.waitForLine((line) => (line === 'two' ? true : undefined), 10_000, 'stderr line');

    expect(url).toBe('http://127.0.0.1:1');
    expect([...child.tail()].sort()).toEqual(
      ['one', 'two', '{"msg":"listening","url":"http://127.0.0.1:1"}'].sort(),
    );
    expect(child.crashed).toBe(false);
  });

  it('stops with SIGTERM, and kills a process that ignores it after the grace period', async () => {
    const polite = node('polite', `setInterval(() => {}, 1000); console.log('ready');`);
    const stubborn = node(
      'stubborn',
      `process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); console.log('ready');`,
    );
    await polite.waitForLine((line) => (line === 'ready' ? true : undefined), 10_000, 'ready');
    await stubborn.waitForLine((line) => (line === 'ready' ? true : undefined), 10_000, 'ready');

    const [politeExit, stubbornExit] = await Promise.all([polite.stop(), stubborn.stop(300)]);

    expect(politeExit).toEqual({ code: null, signal: 'SIGTERM' });
    expect(stubbornExit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(polite.crashed).toBe(false);
    expect(stubborn.describeExit()).toBe('was killed by SIGKILL');
  });

  it('rejects a wait when the process exits first, naming how it ended', async () => {
    const child = node('quitter', `console.log('bye'); process.exit(3);`);

    const wait = child.waitForLine(() => undefined, 10_000, 'greeting');

    await expect(wait).rejects.toThrow(new ProcessError('quitter exited with code 3', child));
    expect(child.crashed).toBe(true);
    expect(child.tail()).toEqual(['bye']);
  });

  it('hands out a port that nothing listens on', async () => {
    const port = await freePort();

    const answer = await fetch(`http://127.0.0.1:${port}/`).then(
      () => 'answered',
      () => 'refused',
    );

    expect(port).toBeGreaterThan(0);
    expect(answer).toBe('refused');
  });
});

describe('Steps', () => {
  it('prints one numbered line per step and returns each value', async () => {
    const printed: string[] = [];
    const steps = new Steps(10, (line) => printed.push(line), { crashed: () => undefined });

    const first = await steps.run('First', undefined, async () => [1, 'Did the first thing']);
    const second = await steps.run('Second', undefined, async () => ['b', 'Did the second']);

    expect([first, second]).toEqual([1, 'b']);
    expect(printed).toEqual(['✔  1/10 Did the first thing', '✔  2/10 Did the second']);
    expect(steps.completed).toBe(2);
  });

  it('names the failing step and shows the end of the log of the process at fault', async () => {
    const printed: string[] = [];
    const child = node('worker', `for (let i = 1; i <= 20; i++) console.log('line ' + i);`);
    await child.exited;
    const steps = new Steps(3, (line) => printed.push(line), { crashed: () => undefined });
    await steps.run('Warm up', undefined, async () => [undefined, 'Warmed up']);

    const failing = steps.run('Ask the worker', child, async () => {
      throw new Error('it said no');
    });

    await expect(failing).rejects.toThrow(StepFailure);
    await expect(failing).rejects.toMatchObject({ number: 2, title: 'Ask the worker' });
    expect(printed).toEqual([
      '✔ 1/3 Warmed up',
      '✘ 2/3 Ask the worker: it said no',
      "  Last 15 lines of the worker's log:",
      ...Array.from({ length: 15 }, (_, i) => `  | line ${i + 6}`),
    ]);
  });

  it('fails the running step as soon as a process crashes, with that process log', async () => {
    const printed: string[] = [];
    const crasher = node(
      'relay',
      `console.error('fatal: out of luck'); setTimeout(() => process.exit(1), 100);`,
    );
    const steps = new Steps(1, (line) => printed.push(line), {
      crashed: () => (crasher.crashed ? crasher : undefined),
    });

    const failing = steps.run('Wait forever', undefined, () => new Promise<never>(() => {}));

    await expect(failing).rejects.toMatchObject({ reason: 'the relay exited with code 1' });
    expect(printed).toEqual([
      '✘ 1/1 Wait forever: the relay exited with code 1',
      "  Last line of the relay's log:",
      '  | fatal: out of luck',
    ]);
  });
});
