import type { AmqpSessionOptions } from '../amqp/amqp-session.js';
import { declareTopology, queueName } from '../amqp/topology.js';
import type { AppConfig } from '../config/load-config.js';
import type { SubscriptionConfig } from '../config/subscription.js';
import type { DeliveryStreamSettings } from '../delivery/thread/protocol.js';
import { withDefined } from '../util/with-defined.js';

/** The settings half of a subscription's broker session (the runner adds the callbacks). */
export type SessionSettings = Pick<AmqpSessionOptions, 'urls' | 'connectionName' | 'heartbeatSeconds' | 'queue' | 'prefetch' | 'reconnect' | 'declare'>;

/**
 * A subscription's broker session settings: its queue, its prefetch, and the topology it
 * declares unless `amqp.declare` is false (README "Configuration").
 */
export function sessionSettings(sub: SubscriptionConfig, amqp: AppConfig['amqp']): SessionSettings {
  return {
    urls: amqp.urls,
    connectionName: `mllp-dispatcher ${sub.name}`,
    heartbeatSeconds: amqp.heartbeatSeconds,
    queue: queueName(sub.name),
    prefetch: sub.prefetch,
    reconnect: amqp.reconnect,
    ...(amqp.declare
      ? {
          declare: (channel) =>
            declareTopology(channel, {
              subscription: sub.name,
              eventsExchange: amqp.exchange,
              deadLetterExchange: amqp.deadLetterExchange,
              receiptsExchange: amqp.receiptsExchange,
              events: sub.events,
              queueType: amqp.queueType,
            }),
        }
      : {}),
  };
}

/**
 * A subscription's delivery stream settings: lanes, outcome policy, retries, the receiver
 * (endpoint, TLS, timeouts, the receiver profile's transport settings) and enhanced
 * acknowledgment when the mapping asks for it.
 */
export function streamSettings(sub: SubscriptionConfig): DeliveryStreamSettings {
  return withDefined(
    {
      subscription: sub.name,
      lanes: sub.lanes,
      policy: sub.policy,
      retry: sub.retry,
      endpoint: sub.endpoint,
      connectTimeoutMs: sub.timeouts.connectMs,
      ackTimeoutMs: sub.timeouts.ackMs,
      charset: sub.mapping.charset,
      ...sub.receiver,
    },
    { tls: sub.tls, enhanced: sub.mapping.acknowledgment ? { mode: sub.mapping.acknowledgment, applicationAckTimeoutMs: sub.timeouts.applicationAckMs } : undefined },
  );
}
