import { performance } from 'node:perf_hooks';
import type { ParsedAck } from '../hl7/ack.js';

/**
 * What a connection remembers about the answers it expects, so that every frame the
 * receiver sends is matched to the message it answers (README "Delivery and outcomes").
 */

/** Who a message belongs to, for reporting a late answer; log-safe (no patient data). */
export interface SendContext {
  eventId: string;
  trigger: string;
}

/** How the wait for an application ACK ended (enhanced mode, after a CA). */
export type ApplicationAnswer =
  | { kind: 'ack'; ack: ParsedAck; latencyMs: number }
  /** No application ACK within the application ACK timeout. */
  | { kind: 'timeout'; reason: string }
  /** The client was closed (shutdown) before the answer came. */
  | { kind: 'closed'; reason: string };

/**
 * An error that came after the message was already answered with AA or CA (a receiver
 * answering twice, or an application error after a CA that settled the event).
 */
export interface LateAnswer {
  controlId: string;
  /** The answer that settled the message (AA or CA). */
  firstCode: string;
  /** The answer that came after it (AE, AR, CE or CR). */
  lateCode: string;
  /** ERR-3.1 of the late answer, when given (an HL7 table 0357 code). */
  errorCode?: string;
  context?: SendContext;
}

/**
 * Why a frame was ignored: `duplicate-ack` answers a message this connection already
 * settled (and is no late error); `own-ack-answered` answers a commit ACK we sent;
 * `unsolicited` matches nothing sent on the connection while nothing waits for an answer.
 */
export type IgnoredReason = 'duplicate-ack' | 'own-ack-answered' | 'unsolicited';
export const IGNORED_REASONS: readonly IgnoredReason[] = ['duplicate-ack', 'own-ack-answered', 'unsolicited'];

interface SentEntry {
  /** The answer that settled it, once one came (AA/AE/AR/CA/CE/CR). */
  code?: string;
  context?: SendContext;
  /** A commit ACK we sent for the receiver's application ACK. */
  own?: true;
}

/**
 * Every control id written on one connection, with the answer it got. Nothing is dropped
 * while the connection lives (the client replaces the connection once it holds
 * {@link MAX_SENT_PER_CONNECTION}), so an answer to any message of the connection is
 * recognised, however many came after it.
 */
export class ConnectionLedger {
  private readonly sent = new Map<string, SentEntry>();

  record(controlId: string, context: SendContext | undefined): void {
    this.sent.set(controlId, context ? { context } : {});
  }

  recordOwnAck(controlId: string): void {
    this.sent.set(controlId, { own: true });
  }

  answered(controlId: string, code: string): void {
    const entry = this.sent.get(controlId);
    if (entry) entry.code = code;
  }

  get(controlId: string): Readonly<SentEntry> | undefined {
    return this.sent.get(controlId);
  }

  has(controlId: string): boolean {
    return this.sent.has(controlId);
  }

  get size(): number {
    return this.sent.size;
  }

  clear(): void {
    this.sent.clear();
  }
}

/**
 * Messages written on one connection before it is replaced by a new one (at an idle moment,
 * with no application ACK outstanding): bounds the ledger's memory (about 1.5 MB) without a
 * window that would forget what an answer refers to.
 */
export const MAX_SENT_PER_CONNECTION = 10_000;

interface Wait {
  resolve: (answer: ApplicationAnswer) => void;
  timer: NodeJS.Timeout;
  startedAt: number;
}

/**
 * Application ACKs a client waits for, by control id. They outlive a connection: a
 * receiver may send one on the next connection after a drop. Each ends exactly once: the
 * answer, the timeout, or close.
 */
export class ApplicationWaits {
  private readonly waits = new Map<string, Wait>();
  private drainWaiters: Array<() => void> = [];

  /** `startedAt`: when the message was written (performance.now()), for the latency. */
  start(controlId: string, timeoutMs: number, startedAt: number): Promise<ApplicationAnswer> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.end(controlId, { kind: 'timeout', reason: `committed (CA), then no application ACK within ${timeoutMs} ms` }), timeoutMs);
      this.waits.set(controlId, { resolve, timer, startedAt });
    });
  }

  has(controlId: string): boolean {
    return this.waits.has(controlId);
  }

  get size(): number {
    return this.waits.size;
  }

  answer(ack: ParsedAck): void {
    const wait = this.waits.get(ack.controlId);
    if (wait) this.end(ack.controlId, { kind: 'ack', ack, latencyMs: performance.now() - wait.startedAt });
  }

  closeAll(reason: string): void {
    for (const controlId of [...this.waits.keys()]) this.end(controlId, { kind: 'closed', reason });
  }

  /** Resolves once no application ACK is outstanding. */
  drained(): Promise<void> {
    if (this.waits.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private end(controlId: string, answer: ApplicationAnswer): void {
    const wait = this.waits.get(controlId);
    if (!wait) return;
    this.waits.delete(controlId);
    clearTimeout(wait.timer);
    wait.resolve(answer);
    if (this.waits.size === 0) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const wake of waiters) wake();
    }
  }
}
