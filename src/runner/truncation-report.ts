import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { OutboundMessage } from '../mapping/profile.js';

/**
 * Reports the values the mapper cut to the HL7 version's maximum length (README "Versions,
 * character sets and lengths"): every cut counts in `hl7_truncated_values_total{field}`, and
 * the first cut at each position is logged once, at `warn`, with the position only (never
 * the value), so an analyst learns which fields their receiver's version is too short for.
 */
export class TruncationReport {
  private readonly logged = new Set<string>();

  constructor(
    private readonly logger: Logger,
    private readonly counter: Counter<'subscription' | 'field'>,
    private readonly subscription: string,
  ) {}

  record(messages: readonly OutboundMessage[]): void {
    for (const message of messages) {
      if (!message.truncated) continue;
      for (const field of message.truncated) {
        this.counter.inc({ subscription: this.subscription, field });
        if (this.logged.has(field)) continue;
        this.logged.add(field);
        this.logger.warn({ field, trigger: message.trigger }, `a value in ${field} was longer than this HL7 version allows and was cut to the maximum (settings.Lengths); logged once per field`);
      }
    }
  }
}
