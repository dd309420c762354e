// Runs the story one numbered step at a time: one line per step, and on failure the step's name,
// the reason and the last lines of the log of the process that explains it.
import { type ManagedProcess, ProcessError } from './processes.ts';

const CRASH_POLL_MS = 100;
const LOG_TAIL_LINES = 15;
const MAX_LOG_LINE_CHARS = 300;

export type Print = (line: string) => void;

/** A step that failed; its line has been printed already. */
export class StepFailure extends Error {
  override readonly name = 'StepFailure';

  constructor(
    readonly number: number,
    readonly title: string,
    readonly reason: string,
    options: { cause: unknown },
  ) {
    super(`step ${number} (${title}) failed: ${reason}`, options);
  }
}

export interface StepContext {
  /** A process that ended without being asked to, if any. */
  crashed(): ManagedProcess | undefined;
}

export class Steps {
  private done = 0;
  private readonly width: number;

  constructor(
    readonly total: number,
    private readonly print: Print,
    private readonly context: StepContext,
  ) {
    this.width = String(total).length;
  }

  get completed(): number {
    return this.done;
  }

  /**
   * Runs one step. `run` resolves with the step's value and its line. `log` names the process
   * whose log explains a failure, unless the error or a crash names another.
   */
  async run<T>(
    title: string,
    log: ManagedProcess | undefined,
    run: () => Promise<[T, string]>,
  ): Promise<T> {
    const number = this.done + 1;
    try {
      const [value, line] = await this.watchingForCrashes(run);
      this.done = number;
      this.print(`✔ ${this.label(number)} ${line}`);
      return value;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.print(`✘ ${this.label(number)} ${title}: ${reason}`);
      this.printLog(error instanceof ProcessError ? error.process : log);
      throw new StepFailure(number, title, reason, { cause: error });
    }
  }

  private label(number: number): string {
    return `${String(number).padStart(this.width)}/${this.total}`;
  }

  private async watchingForCrashes<T>(run: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const crash = new Promise<never>((_, reject) => {
      timer = setInterval(() => {
        const crashed = this.context.crashed();
        if (crashed)
          reject(new ProcessError(`the ${crashed.name} ${crashed.describeExit()}`, crashed));
      }, CRASH_POLL_MS);
    });
    try {
      return await Promise.race([run(), crash]);
    } finally {
      clearInterval(timer);
    }
  }

  private printLog(child: ManagedProcess | undefined): void {
    const lines = child?.tail(LOG_TAIL_LINES) ?? [];
    if (!child || lines.length === 0) return;
    const count = lines.length === 1 ? 'line' : `${lines.length} lines`;
    this.print(`  Last ${count} of the ${child.name}'s log:`);
    for (const line of lines) {
      const shown =
        line.length > MAX_LOG_LINE_CHARS ? `${line.slice(0, MAX_LOG_LINE_CHARS)}…` : line;
      this.print(`  | ${shown}`);
    }
  }
}
