import type { Logger } from 'pino';
import type { BrokerSession, Delivery } from '../amqp/session-options.js';
import type { SubscriptionConfig } from '../config/subscription.js';
import type { Job } from '../delivery/job.js';
import type { DispatcherMetrics } from '../observability/metrics.js';
import { PassThrough, type HoldStage } from './hold-stage.js';
import { PatientHold } from './patient-hold.js';

export interface HoldStageOptions {
  subscription: SubscriptionConfig;
  queueType: 'classic' | 'quorum';
  session: BrokerSession;
  logger: Logger;
  metrics: DispatcherMetrics;
  send: (job: Job, delivery: Delivery) => void;
  resolve: (delivery: Delivery) => void;
}

/** The patient hold when the subscription asks for it (`holdPatientOnDeadLetter`), PassThrough otherwise. */
export function createHoldStage(options: HoldStageOptions): HoldStage {
  const { subscription: sub, session, logger, metrics } = options;
  if (!sub.holdPatientOnDeadLetter) return new PassThrough(options.send, session, logger);
  return new PatientHold({
    subscription: sub.name,
    queueType: options.queueType,
    laneKeySystem: sub.laneKeySystem,
    session,
    logger,
    send: options.send,
    resolve: options.resolve,
    onHeldPatients: (count) => metrics.heldPatients.set({ subscription: sub.name }, count),
  });
}
