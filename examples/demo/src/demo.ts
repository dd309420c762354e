// `pnpm demo`: the whole Verihook story on this machine, with nothing to install or configure.
// A DNS server runs in this process; the relay and the consumer are child processes, each on an
// in-memory database that is gone when the demo ends.
import { seconds } from './processes.ts';
import { Stack } from './stack.ts';
import { StepFailure } from './steps.ts';
import { runStory } from './story.ts';

const stack = new Stack({
  dns: 'in-process',
  relayDatabaseUrl: 'memory://',
  consumerDatabaseUrl: 'memory://',
  // acme.test's record is published at once and found at the next check; globex.test's never is,
  // so a short window lets the demo show it failing. The relay's defaults are 10s… and 72h.
  checkSchedule: '200ms',
  verificationWindow: '5s',
  // The demo's own API client, given to the relay at start; this secret protects nothing else.
  client: { id: 'verihook-demo', secret: 'demo-client-secret-for-local-use' },
});

let interrupted = false;
const print = (line: string) => {
  if (!interrupted) process.stdout.write(`${line}\n`);
};

function stoppedLine(stopped: string[]): string {
  if (stopped.length === 0) return 'Nothing was left running.';
  const names = stopped.length === 1 ? stopped : [...stopped.slice(0, -1), `and ${stopped.at(-1)}`];
  return `Stopped ${names.join(stopped.length > 2 ? ', ' : ' ')}.`;
}

process.once('SIGINT', async () => {
  interrupted = true;
  process.stdout.write('\nInterrupted: stopping everything the demo started.\n');
  const stopped = await stack.stop();
  process.stdout.write(`${stoppedLine(stopped)}\n`);
  process.exit(130);
});

async function main(): Promise<number> {
  const startedAt = Date.now();
  print('Verihook demo: a DNS server, the relay and a consumer on 127.0.0.1, one line per step.');
  let failure: unknown;
  try {
    await runStory(stack, print);
  } catch (error) {
    failure = error;
  } finally {
    const stopped = await stack.stop();
    print(stoppedLine(stopped));
  }

  if (failure instanceof StepFailure) {
    print(`The demo failed at step ${failure.number} (${failure.title}).`);
    return 1;
  }
  if (failure) {
    print(`The demo failed: ${failure instanceof Error ? failure.stack : String(failure)}`);
    return 1;
  }
  print(`Done in ${seconds(Date.now() - startedAt)}: the whole story ran on this machine.`);
  return 0;
}

const code = await main();
if (!interrupted) process.exit(code);
