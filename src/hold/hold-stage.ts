import type { Logger } from 'pino';
import type { BrokerSession, Delivery } from '../amqp/session-options.js';
import type { Job, JobResult } from '../delivery/job.js';
import type { PatientEvent } from '../event/patient-event.js';
import { CONTROL_HEADER } from './hold-names.js';

/** What the settler adds for a hold before it acks an event (src/runner/settler.ts). */
export interface SettleExtra {
  /** Added to the event's dead letter. */
  deadLetterHeaders?: Record<string, unknown>;
  /** The ack waits for it too; a rejection leaves the event unacknowledged (the connection restarts). */
  before?: Promise<void>;
}

/**
 * Where a subscription's prepared events go before the delivery stream
 * (src/runner/subscription-runner.ts). With `holdPatientOnDeadLetter` it is the patient hold
 * (src/hold/patient-hold.ts); otherwise PassThrough, which sends every event at once.
 */
export interface HoldStage {
  /** The session's live generation changed (undefined: disconnected). */
  liveGeneration(generation: number | undefined): void;
  /** True when the delivery is a control message (header `x-mllp-control`): taken here, not decoded. */
  takeControl(delivery: Delivery): boolean;
  /** A prepared event: sent now, later, or parked. */
  submit(job: Job, delivery: Delivery, event: PatientEvent): void;
  /** A job came back from the stream with a result, just before the settler settles it. */
  settling(job: Job, delivery: Delivery, result: JobResult): SettleExtra | undefined;
}

export function isControlMessage(delivery: Delivery): boolean {
  return delivery.message.properties.headers?.[CONTROL_HEADER] !== undefined;
}

/** No hold: every event goes straight to the stream; a control message is acked and ignored. */
export class PassThrough implements HoldStage {
  constructor(
    private readonly send: (job: Job, delivery: Delivery) => void,
    private readonly session: BrokerSession,
    private readonly logger: Logger,
  ) {}

  liveGeneration(): void {}

  takeControl(delivery: Delivery): boolean {
    if (!isControlMessage(delivery)) return false;
    if (delivery.message.properties.headers?.[CONTROL_HEADER] === 'release') this.logger.warn({ eventId: delivery.message.properties.headers?.['x-mllp-release-event-id'] }, 'release request ignored: the subscription does not hold patients (holdPatientOnDeadLetter)');
    this.session.ack(delivery);
    return true;
  }

  submit(job: Job, delivery: Delivery): void {
    this.send(job, delivery);
  }

  settling(): undefined {
    return undefined;
  }
}
