import type { Channel, ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import type { Logger } from 'pino';

export type SessionState = 'connecting' | 'consuming' | 'closed';

/** A message as received, with the connection generation it belongs to. */
export interface Delivery {
  message: ConsumeMessage;
  generation: number;
  /**
   * Set on a message fetched from another channel than the consuming one (a parked event
   * released by the patient hold, src/hold/release-drain.ts): acks it there. False when
   * its channel is gone.
   */
  ack?: () => boolean;
}

export interface AmqpSessionOptions {
  /** Cluster nodes, tried in order; after a loss the next node is tried first. */
  urls: readonly string[];
  /** Shown in the broker's management UI and `rabbitmqctl list_connections`. */
  connectionName: string;
  heartbeatSeconds: number;
  queue: string;
  prefetch: number;
  reconnect: { initialDelayMs: number; maxDelayMs: number };
  /** Declares the topology on a fresh channel; skipped when undefined (`amqp.declare: false`). */
  declare?: (channel: Channel) => Promise<void>;
  onMessage: (delivery: Delivery) => void;
  /** The topology conflicts with what the broker has: retrying cannot help. */
  onFatal: (error: Error) => void;
  onStateChange?: (state: SessionState) => void;
  /**
   * The broker blocked this connection (a memory or disk alarm: `connection.blocked`, with
   * the broker's reason) or unblocked it (undefined; also when the connection is gone).
   */
  onBlockedChange?: (reason: string | undefined) => void;
  /**
   * The generation whose deliveries can be settled changed (undefined: none, disconnected).
   * Called before the first delivery of a new generation.
   */
  onLiveGeneration?: (generation: number | undefined) => void;
  /** True while events wait for the stream: acks and receipts may then be batched (coalesce-writes.ts). */
  backlog?: () => boolean;
  logger: Logger;
}

/**
 * What the runner, the settler and the late-answer reporter use of a broker session:
 * AmqpSession, or a fake in unit tests (test/unit/runner/fake-session.ts).
 */
export interface BrokerSession {
  readonly state: SessionState;
  /** The broker's reason while it blocks the connection (memory or disk alarm). */
  readonly blocked: string | undefined;
  start(): void;
  /** Memoised; requeues every delivery not acknowledged (src/amqp/amqp-session.ts). */
  close(): Promise<void>;
  /** False once the connection that generation belongs to is gone. */
  isCurrent(generation: number): boolean;
  /** False when the delivery's channel is gone (the broker redelivers it). */
  ack(delivery: Delivery): boolean;
  publish(exchange: string, routingKey: string, content: Buffer, options: Options.Publish, mandatory?: boolean): Promise<void>;
  messageCounts(queues: readonly string[]): Promise<Array<number | undefined>>;
  restart(reason: string): void;
  /** A confirm channel on the live connection, closed with it (the patient hold's, src/hold/hold-channel.ts). */
  openChannel?(): Promise<ConfirmChannel>;
}
