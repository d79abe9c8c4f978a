import type { Logger } from 'pino';
import type { BrokerSession, Delivery } from '../amqp/session-options.js';
import type { Job, JobResult } from '../delivery/job.js';
import type { PatientEvent } from '../event/patient-event.js';
import { HoldBook, type Hold } from './hold-book.js';
import { HoldChannel } from './hold-channel.js';
import { CONTROL_HEADER, HOLD_KEY_HEADER, RELEASE_EVENT_HEADER, headerText, keyHashesOf } from './hold-names.js';
import { queueName } from '../amqp/topology.js';
import { resumeRequest } from '../operations/release-request.js';
import { isControlMessage, type HoldStage, type SettleExtra } from './hold-stage.js';
import { PatientGate, type GateDecision, type GateEntry } from './patient-gate.js';
import { drainHold } from './release-drain.js';

export interface PatientHoldOptions {
  subscription: string;
  queueType: 'classic' | 'quorum';
  laneKeySystem?: string | undefined;
  session: BrokerSession;
  logger: Logger;
  /** Hands an event to the delivery stream. */
  send: (job: Job, delivery: Delivery) => void;
  /** Hands a parked event fetched for its release to the resolution stage; it comes back through submit(). */
  resolve: (delivery: Delivery) => void;
  /** The number of held patients changed (`mllp_held_patients`). */
  onHeldPatients: (count: number) => void;
}

/**
 * `holdPatientOnDeadLetter: true` (docs/PATIENT-HOLD.md): once an event of a patient is
 * dead-lettered, that patient's later events are parked, in order, in a durable queue of
 * their own, until the dead letter is replayed (it is sent, then the parked events) or the
 * hold is released by a control message (`replay --discard`, `release`). The holds are kept
 * in a log queue on the broker and read back on every new connection, before any event is
 * sent; all state here belongs to one connection generation and is dropped with it.
 */
export class PatientHold implements HoldStage {
  private generation: number | undefined;
  private book = new HoldBook();
  private channel: HoldChannel | undefined;
  private loaded = false;
  private loading = false;
  private pendingControls: Delivery[] = [];
  private readonly gate: PatientGate;
  /** Per job in flight (by seq): its key hashes, and the hold it releases or was parked under. */
  private readonly inFlight = new Map<number, { keys: readonly string[]; trigger?: Hold; released?: Hold }>();
  private released = new WeakMap<Delivery, Hold>();

  constructor(private readonly options: PatientHoldOptions) {
    this.gate = new PatientGate(
      (entry) => this.decide(entry),
      (entry) => this.sendEntry(entry),
      (entry) => this.park(entry),
      (entry) => {
        // A copy of the replayed dead letter that already released this hold (it was sent
        // and the `releasing` record written before the connection went): not sent again.
        this.options.logger.info({ eventId: entry.job.eventId }, 'replayed dead letter already sent; its hold is being released');
        this.options.session.ack(entry.delivery);
      },
    );
  }

  liveGeneration(generation: number | undefined): void {
    this.generation = generation;
    this.book = new HoldBook();
    this.channel?.close();
    this.channel = undefined;
    this.loaded = false;
    this.loading = false;
    this.pendingControls = [];
    this.gate.reset();
    this.inFlight.clear();
    this.released = new WeakMap();
    // Whoever is the active consumer takes this and reads the holds (a standby never does).
    if (generation !== undefined) this.options.session.publish('', queueName(this.options.subscription), ...resumeRequest()).catch(() => {});
  }

  /**
   * Every delivery passes here first. The first one of a connection starts reading the holds:
   * only the active consumer gets deliveries, so only it reads and compacts the log.
   */
  takeControl(delivery: Delivery): boolean {
    if (delivery.generation !== this.generation) return isControlMessage(delivery); // stale: the broker delivers it again
    if (!this.loading) {
      this.loading = true;
      void this.load(delivery.generation);
    }
    if (!isControlMessage(delivery)) return false;
    if (headerText(delivery.message.properties.headers, CONTROL_HEADER) !== 'release') this.options.session.ack(delivery);
    else if (this.loaded) this.release(delivery);
    else this.pendingControls.push(delivery);
    return true;
  }

  submit(job: Job, delivery: Delivery, event: PatientEvent): void {
    if (job.generation !== this.generation) return; // stale: the broker delivers it again
    const keys = keyHashesOf(this.options.subscription, this.options.laneKeySystem, job, event);
    const released = this.released.get(delivery);
    if (released) {
      this.inFlight.set(job.seq, { keys: [], released });
      this.options.send(job, delivery);
      return;
    }
    this.gate.enqueue({ job, delivery, keys });
  }

  settling(job: Job, delivery: Delivery, result: JobResult): SettleExtra | undefined {
    const flight = this.inFlight.get(job.seq);
    if (!flight || job.generation !== this.generation || !this.options.session.isCurrent(delivery.generation)) return undefined;
    this.inFlight.delete(job.seq);
    const channel = this.channel!;
    let extra: SettleExtra | undefined;
    if (result.action === 'dead-letter') {
      const existing = flight.trigger ?? flight.released ?? flight.keys.map((key) => this.book.holdOf(key)).find((hold) => hold !== undefined);
      if (existing) {
        // Dead-lettered again while releasing: the patient stays held, now behind this dead letter.
        existing.eventId = job.eventId;
        existing.state = 'held';
        const record = channel.append({ op: 'hold', hold: existing.id, key: existing.id, eventId: job.eventId });
        existing.ready = Promise.all([existing.ready, record]).then(() => {});
        existing.ready.catch(() => {}); // failures reach the settler (it restarts the connection)
        extra = { deadLetterHeaders: { [HOLD_KEY_HEADER]: existing.id }, before: existing.ready };
      } else if (flight.keys.length > 0) {
        const id = flight.keys[0]!;
        const ready = channel.declareHeld(id).then(() => Promise.all(flight.keys.map((key) => channel.append({ op: 'hold', hold: id, key, eventId: job.eventId })))).then(() => {});
        ready.catch(() => {}); // failures reach the settler (it restarts the connection)
        this.book.create(id, job.eventId, flight.keys, ready);
        this.options.logger.warn({ eventId: job.eventId, hold: id }, "patient held after a dead letter: the patient's later events wait until it is replayed or released");
        this.options.onHeldPatients(this.book.patients);
        extra = { deadLetterHeaders: { [HOLD_KEY_HEADER]: id }, before: ready };
      }
    } else if (flight.trigger && flight.trigger.state === 'held') {
      const hold = flight.trigger;
      hold.state = 'releasing';
      const before = channel.append({ op: 'releasing', hold: hold.id });
      before.then(() => this.startDrain(hold), () => {}); // a failed record: the settler restarts the connection
      extra = { before };
    }
    this.gate.done(flight.keys);
    return extra;
  }

  private async load(generation: number): Promise<void> {
    const { session, logger } = this.options;
    try {
      if (!session.openChannel) throw new Error('the broker session cannot open a channel for the patient hold');
      const raw = await session.openChannel();
      const channel = new HoldChannel(raw, this.options.subscription, this.options.queueType);
      raw.on('error', () => {});
      raw.on('close', () => {
        if (this.generation === generation && this.channel === channel) session.restart('the patient hold channel closed');
      });
      if (this.generation !== generation) return channel.close();
      const log = await channel.readLog();
      for (const record of log.records) this.book.apply(record);
      await Promise.all(this.book.all().map((hold) => channel.declareHeld(hold.id)));
      await log.compact(this.book.records());
      if (this.generation !== generation) return channel.close();
      this.channel = channel;
      this.loaded = true;
      this.options.onHeldPatients(this.book.patients);
      if (this.book.patients > 0) logger.info({ heldPatients: this.book.patients }, 'patient holds read from the broker');
      for (const hold of this.book.all()) if (hold.state !== 'held') this.startDrain(hold);
      const controls = this.pendingControls;
      this.pendingControls = [];
      for (const control of controls) this.release(control);
      this.gate.pump();
    } catch (error) {
      if (this.generation !== generation) return;
      logger.error({ err: (error as Error).message }, 'cannot read the patient holds from the broker; reconnecting');
      session.restart('patient holds not read');
    }
  }

  /** Decided once the holds are read: a replayed dead letter is told from the holds. */
  private decide(entry: GateEntry): GateDecision {
    if (!this.loaded) return 'wait';
    const cause = this.book.get(headerText(entry.delivery.message.properties.headers, HOLD_KEY_HEADER) ?? '');
    if (cause && cause.eventId === entry.job.eventId) {
      if (cause.state !== 'held') return 'skip';
      entry.trigger = cause;
    }
    let held = false;
    for (const key of entry.keys) {
      const hold = this.book.holdOf(key);
      if (hold?.state === 'finishing') return 'wait';
      if (hold) held = true;
    }
    return entry.trigger || !held ? 'send' : 'park';
  }

  private sendEntry(entry: GateEntry): void {
    this.inFlight.set(entry.job.seq, entry.trigger ? { keys: entry.keys, trigger: entry.trigger } : { keys: entry.keys });
    this.options.send(entry.job, entry.delivery);
  }

  /**
   * Parks an event of a held patient: published to the hold's queue (confirmed) once the
   * hold's own records are confirmed, then acked. Every patient a parked merge touches
   * joins the hold.
   */
  private park(entry: GateEntry): void {
    const channel = this.channel!;
    const hold = entry.keys.map((key) => this.book.holdOf(key)).find((found) => found !== undefined)!;
    const joins: Array<Promise<void>> = [];
    for (const key of entry.keys) {
      const other = this.book.holdOf(key);
      if (other === hold) continue;
      if (other) this.options.logger.warn({ eventId: entry.job.eventId, hold: hold.id, other: other.id }, 'a merge touches two held patients: parked under the first hold only');
      else {
        this.book.join(hold, key);
        joins.push(channel.append({ op: 'hold', hold: hold.id, key, eventId: hold.eventId }));
      }
    }
    if (joins.length > 0) {
      hold.ready = Promise.all([hold.ready, ...joins]).then(() => {});
      this.options.onHeldPatients(this.book.patients);
    }
    hold.pendingParks++;
    // After the hold's queue is declared and its records confirmed; parks of one hold keep
    // their order (reactions run in the order they were registered).
    const published = hold.ready.then(() => channel.park(hold.id, entry.delivery));
    this.options.logger.info({ eventId: entry.job.eventId, hold: hold.id }, 'event parked behind a held patient');
    published
      .then(
        () => void this.options.session.ack(entry.delivery),
        (error: Error) => {
          if (entry.delivery.generation !== this.generation) return;
          this.options.logger.error({ eventId: entry.job.eventId, hold: hold.id, err: error.message }, 'event could not be parked; it stays unacknowledged');
          this.options.session.restart('park not confirmed');
        },
      )
      .finally(() => {
        if (--hold.pendingParks > 0) return;
        const waiters = hold.parksIdle;
        hold.parksIdle = [];
        for (const wake of waiters) wake();
      });
  }

  /** A `release` control message: the hold of its event id starts releasing, the message is acked. */
  private release(delivery: Delivery): void {
    const headers = delivery.message.properties.headers;
    const eventId = headerText(headers, RELEASE_EVENT_HEADER);
    const hold = this.book.get(headerText(headers, HOLD_KEY_HEADER) ?? '') ?? this.book.all().find((candidate) => candidate.eventId === eventId);
    if (hold && hold.eventId === eventId && hold.state === 'releasing') {
      // Asked again after a crash or a hand-over interrupted the release: resume it.
      this.options.session.ack(delivery);
      this.startDrain(hold);
      return;
    }
    if (!hold || hold.eventId !== eventId || hold.state !== 'held') {
      this.options.logger.info({ eventId, hold: hold?.id }, 'release request matches no held patient; ignored');
      this.options.session.ack(delivery);
      return;
    }
    hold.state = 'releasing';
    this.options.logger.info({ eventId, hold: hold.id }, 'patient hold released by request; sending the parked events');
    this.channel!.append({ op: 'releasing', hold: hold.id }).then(
      () => {
        this.options.session.ack(delivery);
        this.startDrain(hold);
      },
      () => this.options.session.restart('release record not confirmed'),
    );
  }

  private startDrain(hold: Hold): void {
    const generation = this.generation;
    const channel = this.channel;
    if (hold.draining || generation === undefined || !channel) return;
    hold.draining = true;
    drainHold({
      hold,
      channel,
      generation,
      isCurrent: () => this.generation === generation,
      resolve: (delivery) => {
        this.released.set(delivery, hold);
        this.options.resolve(delivery);
      },
      logger: this.options.logger,
    })
      .then(
        (finished) => {
          if (!finished || this.generation !== generation) return;
          this.book.remove(hold);
          this.options.onHeldPatients(this.book.patients);
          this.gate.pump();
        },
        (error: Error) => {
          if (this.generation !== generation) return;
          this.options.logger.error({ hold: hold.id, err: error.message }, 'release of a held patient failed; reconnecting to resume it');
          this.options.session.restart('release failed');
        },
      )
      .finally(() => (hold.draining = false));
  }
}
