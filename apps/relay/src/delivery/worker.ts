// The delivery worker: claims due messages, sends them outside any transaction, records outcomes.
import { setTimeout as delay } from 'node:timers/promises';
import type { AppDeps } from '../context.ts';
import { newId } from '../ids.ts';
import type { Logger } from '../logger.ts';
import {
  deliveryAttemptSeconds,
  deliveryAttempts,
  deliveryBatchSizes,
  deliverySteps,
} from '../metrics.ts';
import { MESSAGES_CHANNEL } from './fanout.ts';
import { classifyResponse, maxAttempts, nextAttemptDelayMs } from './retry-policy.ts';
import { createSender, type Sender, type AttemptOutcome as SendOutcome } from './sender.ts';
import { signedHeaders, USER_AGENT } from './signing.ts';
import { createGuardedDispatcher, type HostLookup } from './ssrf.ts';
import {
  type AttemptOutcome,
  claimDueMessages,
  type Delivery,
  type DeliveryOutcome,
  millisUntilNextDue,
  recordOutcomes,
  releaseExpiredLeases,
  releaseMessages,
} from './store.ts';

export interface DeliveryWorkerOptions {
  /**
   * Requests in flight at once (default 100). A claim takes only free slots, and the claim
   * loop refills them one claim at a time, so claims average about half of this: at 32 they
   * were too small to keep up (bench/README.md, "The slowest stage of delivery").
   */
  concurrency?: number;
  /** Most messages one claim takes (default 100); a claim never takes more than free slots. */
  batchSize?: number;
  /** The fallback when no NOTIFY arrives, and how often expired leases are looked for. */
  pollIntervalMs?: number;
  /** How long a claim holds a message; longer than the request timeout. */
  leaseMs?: number;
  /** Resolves endpoint hosts at connect time; `deps.lookup`, else the system resolver. */
  lookup?: HostLookup;
  jitter?: number;
  random?: () => number;
}

type WorkerDeps = Pick<AppDeps, 'database' | 'config' | 'logger' | 'lookup'>;

/** Requests in flight at once when no `concurrency` is given. */
export const DEFAULT_CONCURRENCY = 100;

const RECORD_BATCH_SIZE = 100;
const RECORD_LINGER_MS = 5;
const RECORD_RETRY_MS = 1_000;
const RECORD_TRIES_WHEN_STOPPING = 3;
const MIN_SLEEP_MS = 5;

/** The lease a claim takes by default: the request timeout, plus as much again (at least 5 s). */
export function defaultLeaseMs(requestTimeoutMs: number): number {
  return requestTimeoutMs + Math.max(requestTimeoutMs, 5_000);
}

/** A wake-up that is never lost: a `wake()` while awake makes the next `sleep` return at once. */
function createAlarm() {
  let woken = false;
  let ring: (() => void) | undefined;
  return {
    wake() {
      woken = true;
      ring?.();
    },
    sleep(ms: number): Promise<void> {
      if (woken) {
        woken = false;
        return Promise.resolve();
      }
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          ring = undefined;
          woken = false;
          resolve();
        };
        const timer = setTimeout(done, ms);
        ring = done;
      });
    },
  };
}

type Step = 'claim' | 'record' | 'next_due' | 'lease_sweep';

async function timed<T>(step: Step, work: () => Promise<T>): Promise<T> {
  const end = deliverySteps.startTimer({ step });
  try {
    return await work();
  } finally {
    end();
  }
}

function describeAttempt(
  delivery: Delivery,
  sent: SendOutcome,
  attemptedAt: Date,
  retry: { scheduleMs: number[]; jitter?: number; random?: () => number },
  logger: Logger,
): AttemptOutcome {
  const base = {
    kind: 'attempted' as const,
    messageId: delivery.messageId,
    endpointId: delivery.endpointId,
    attemptId: newId('atmpt'),
    attemptNumber: delivery.attemptNumber,
    attemptedAt,
    responseStatusCode: sent.statusCode ?? null,
    responseBody: sent.responseBody,
    responseDurationMs: sent.durationMs,
    errorCode: sent.error?.code ?? null,
    error: sent.error?.message ?? null,
  };
  if (sent.statusCode !== undefined && classifyResponse(sent.statusCode) === 'success') {
    return { ...base, status: 'succeeded', retryDelayMs: null, endpointResult: 'success' };
  }

  const next = nextAttemptDelayMs({
    attemptNumber: delivery.attemptNumber,
    scheduleMs: retry.scheduleMs,
    statusCode: sent.statusCode,
    retryAfter: sent.retryAfter,
    now: attemptedAt,
    jitter: retry.jitter,
    random: retry.random,
  });
  if (next.retry && next.invalidRetryAfter !== undefined) {
    logger.warn(
      { message_id: delivery.messageId, retry_after: next.invalidRetryAfter },
      'ignored an invalid Retry-After header',
    );
  }
  if (next.retry) {
    return { ...base, status: 'pending', retryDelayMs: next.delayMs, endpointResult: 'failure' };
  }
  const endpointResult = next.reason === 'gone' ? 'gone' : 'failure';
  return { ...base, status: 'failed', retryDelayMs: null, endpointResult };
}

function logAttempt(logger: Logger, outcome: AttemptOutcome, attemptsAllowed: number): void {
  const fields = {
    message_id: outcome.messageId,
    endpoint_id: outcome.endpointId,
    attempt_number: outcome.attemptNumber,
    max_attempts: attemptsAllowed,
    status_code: outcome.responseStatusCode,
    duration_ms: outcome.responseDurationMs,
    ...(outcome.errorCode ? { error_code: outcome.errorCode, error: outcome.error } : {}),
    outcome: outcome.status,
    ...(outcome.retryDelayMs !== null ? { next_attempt_in_ms: outcome.retryDelayMs } : {}),
  };
  const text = `delivery attempt ${outcome.attemptNumber} of ${attemptsAllowed}`;
  deliveryAttempts.inc({ outcome: outcome.status });
  if (outcome.status === 'succeeded') logger.info(fields, text);
  else logger.warn(fields, text);
}

async function attempt(
  sender: Sender,
  delivery: Delivery,
): Promise<{ sent: SendOutcome; attemptedAt: Date }> {
  const attemptedAt = new Date();
  const end = deliveryAttemptSeconds.startTimer();
  try {
    const headers = signedHeaders({
      msgId: delivery.messageId,
      timestampSeconds: Math.floor(attemptedAt.getTime() / 1000),
      body: delivery.body,
      secrets: delivery.secrets,
    });
    const sent = await sender.send({ url: delivery.url, headers, body: delivery.body });
    return { sent, attemptedAt };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const sent = {
      responseBody: '',
      durationMs: 0,
      retryAfter: null,
      error: { code: 'other' as const, message },
    };
    return { sent, attemptedAt };
  } finally {
    end();
  }
}

/**
 * Starts delivering: wakes on NOTIFY (polling as the fallback), claims due messages into free
 * slots, sends each with the shared guarded dispatcher, and records outcomes in batches. The
 * returned `stop` stops claiming, lets in-flight attempts finish and records them, puts back
 * anything claimed but unsent, and resolves once all of it is done.
 */
export async function startDeliveryWorker(
  deps: WorkerDeps,
  options: DeliveryWorkerOptions = {},
): Promise<() => Promise<void>> {
  const { database, config } = deps;
  const { db } = database;
  const logger = deps.logger.child({ worker: 'delivery' });
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const batchSize = options.batchSize ?? 100;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const leaseMs = options.leaseMs ?? defaultLeaseMs(config.requestTimeoutMs);
  const attemptsAllowed = maxAttempts(config.retryScheduleMs);
  // A claim waits for a quarter of the slots to be free: on PGlite the loop otherwise claimed one
  // message for every slot that freed up.
  const minRoom = Math.max(1, Math.floor(Math.min(batchSize, concurrency) / 4));
  const retry = {
    scheduleMs: config.retryScheduleMs,
    jitter: options.jitter,
    random: options.random,
  };

  const dispatcher = createGuardedDispatcher({
    allowPrivate: config.allowPrivateEndpoints,
    lookup: options.lookup ?? deps.lookup,
    connectTimeoutMs: config.requestTimeoutMs,
  });
  const sender = createSender({
    dispatcher,
    timeoutMs: config.requestTimeoutMs,
    userAgent: USER_AGENT,
  });
  const alarm = createAlarm();
  const active = new Set<Promise<void>>();
  const queue: DeliveryOutcome[] = [];
  let flushing: Promise<void> | undefined;
  let stopping = false;
  let waitingForRoom = false;

  async function recordBatch(batch: DeliveryOutcome[]): Promise<void> {
    for (let tries = 1; ; tries++) {
      try {
        const disabled = await timed('record', () => recordOutcomes(db, batch, config));
        deliveryBatchSizes.observe({ step: 'record' }, batch.length);
        for (const { endpointId, reason } of disabled) {
          logger.warn({ endpoint_id: endpointId, reason }, 'endpoint disabled');
        }
        return;
      } catch (error) {
        const givingUp = stopping && tries >= RECORD_TRIES_WHEN_STOPPING;
        logger.error(
          { err: error, outcomes: batch.length, giving_up: givingUp },
          givingUp
            ? 'could not record outcomes; their leases will run out and they will be sent again'
            : 'could not record outcomes; trying again',
        );
        if (givingUp) return;
        await delay(RECORD_RETRY_MS);
      }
    }
  }

  // A flush starts a few milliseconds after the outcome that called for it, so that outcomes
  // arriving together share a transaction; on PGlite, whose queries block the event loop,
  // transactions otherwise held one or two outcomes each.
  async function flushQueue(): Promise<void> {
    await delay(RECORD_LINGER_MS);
    while (queue.length > 0) {
      const batch = queue.splice(0, RECORD_BATCH_SIZE);
      await recordBatch(batch);
      if (batch.some((outcome) => outcome.kind === 'attempted' && outcome.status === 'pending')) {
        alarm.wake();
      }
    }
    flushing = undefined;
  }

  function enqueue(outcome: DeliveryOutcome): void {
    queue.push(outcome);
    flushing ??= flushQueue();
  }

  async function deliver(delivery: Delivery): Promise<void> {
    if (!delivery.endpointEnabled) {
      enqueue({
        kind: 'cancelled',
        messageId: delivery.messageId,
        endpointId: delivery.endpointId,
      });
      return;
    }
    const { sent, attemptedAt } = await attempt(sender, delivery);
    const outcome = describeAttempt(delivery, sent, attemptedAt, retry, logger);
    logAttempt(logger, outcome, attemptsAllowed);
    enqueue(outcome);
  }

  function launch(delivery: Delivery): void {
    const task = deliver(delivery)
      .catch((error: unknown) => logger.error({ err: error }, 'delivery failed unexpectedly'))
      .finally(() => {
        active.delete(task);
        if (waitingForRoom) alarm.wake();
      });
    active.add(task);
  }

  async function sleepUntilDue(): Promise<void> {
    const untilDueMs = await timed('next_due', () => millisUntilNextDue(db));
    const sleepMs = untilDueMs === null ? pollIntervalMs : Math.min(untilDueMs, pollIntervalMs);
    await alarm.sleep(Math.max(sleepMs, MIN_SLEEP_MS));
  }

  async function run(): Promise<void> {
    let nextSweepAt = 0;
    while (!stopping) {
      try {
        if (Date.now() >= nextSweepAt) {
          const released = await timed('lease_sweep', () => releaseExpiredLeases(db));
          if (released > 0) logger.warn({ messages: released }, 'released expired leases');
          nextSweepAt = Date.now() + pollIntervalMs;
        }
        const room = Math.min(batchSize, concurrency - active.size);
        if (room < minRoom) {
          waitingForRoom = true;
          await alarm.sleep(pollIntervalMs);
          waitingForRoom = false;
          continue;
        }
        const deliveries = await timed('claim', () =>
          claimDueMessages(db, { limit: room, leaseMs }),
        );
        deliveryBatchSizes.observe({ step: 'claim' }, deliveries.length);
        if (stopping) {
          await releaseMessages(
            db,
            deliveries.map((delivery) => delivery.messageId),
          );
          break;
        }
        for (const delivery of deliveries) launch(delivery);
        if (deliveries.length < room) await sleepUntilDue();
      } catch (error) {
        logger.error({ err: error }, 'the delivery loop failed; trying again');
        await alarm.sleep(pollIntervalMs);
      }
    }
  }

  const unlisten = await database.listen(MESSAGES_CHANNEL, () => alarm.wake());
  const running = run();
  logger.info({ concurrency, batch_size: batchSize, lease_ms: leaseMs }, 'delivery worker started');

  let stopped: Promise<void> | undefined;
  return () => {
    stopped ??= (async () => {
      stopping = true;
      alarm.wake();
      await running;
      await Promise.all(active);
      await flushing;
      await unlisten();
      await dispatcher.close();
      logger.info('delivery worker stopped');
    })();
    return stopped;
  };
}
