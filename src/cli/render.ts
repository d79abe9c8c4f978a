import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig } from '../config/load-config.js';
import { createEventDecoder } from '../event/decode-event.js';
import { buildMessages } from '../mapping/build-messages.js';
import { SEND_AS_PRESETS, type MappingProfile } from '../mapping/profile.js';
import { routeEvent } from '../routing/route-event.js';
import { EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, UsageError } from './exit-codes.js';
import type { Charset } from '../hl7/charset.js';
import { encodeFrame } from '../transport/mllp-framing.js';
import { hexDump } from './hex-dump.js';

export interface RenderOptions {
  eventFile: string;
  subscription?: string | undefined;
  configFile?: string | undefined;
  /** Build time (MSH-7, EVN-2); now when unset. */
  now?: Date | undefined;
  /** Send in this charset instead of the subscription's (`--charset`). */
  charset?: Charset | undefined;
  /** Also print the framed bytes as a hex dump (`--bytes`). */
  bytes?: boolean | undefined;
}

/**
 * `mllp-dispatcher render <event.json> --subscription NAME`: prints the HL7 the
 * subscription would send for the event, one segment per line, a blank line between
 * messages: after the charset's replacements and the version's length limits, i.e. the
 * bytes on the wire read back for the terminal. `--bytes` adds each framed message as a hex
 * dump. Without subscriptions in the configuration it renders with the defaults
 * (SendAs Client, v2.5, UTF-8). Notes (filtered, skipped, cut values) go to stderr.
 */
export function renderCommand(options: RenderOptions, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): number {
  let config;
  try {
    config = loadConfig({ configFile: options.configFile, allowNoSubscriptions: true });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    err.write(`${error.message}\n`);
    return EXIT_CONFIG;
  }
  let profile: MappingProfile;
  const subscription = options.subscription
    ? config.subscriptions.find((sub) => sub.name === options.subscription)
    : config.subscriptions.length === 1
      ? config.subscriptions[0]
      : undefined;
  if (options.subscription && !subscription) {
    err.write(`no subscription named "${options.subscription}" (configured: ${config.subscriptions.map((sub) => sub.name).join(', ') || 'none'})\n`);
    return EXIT_CONFIG;
  }
  if (subscription) {
    profile = { ...subscription.mapping };
  } else if (config.subscriptions.length === 0) {
    const hl7 = config.raw.hl7 as { sendingApplication: string; sendingFacility: string; assigningAuthorities: Record<string, string> };
    profile = {
      subscription: 'render',
      sendingApplication: hl7.sendingApplication,
      sendingFacility: hl7.sendingFacility,
      receivingApplication: '',
      receivingFacility: '',
      version: '2.5',
      charset: 'UTF-8',
      unrepresentable: 'replace',
      lengths: 'truncate',
      processingId: 'P',
      triggers: SEND_AS_PRESETS.Client,
      assigningAuthorities: hl7.assigningAuthorities,
    };
  } else {
    throw new UsageError(`--subscription is required: the configuration has ${config.subscriptions.length} subscriptions`);
  }

  if (options.charset) profile.charset = options.charset;

  let body: Buffer;
  try {
    body = readFileSync(options.eventFile);
  } catch (error) {
    err.write(`cannot read ${options.eventFile}: ${(error as NodeJS.ErrnoException).code ?? 'error'}\n`);
    return EXIT_FAILURE;
  }
  const decoded = createEventDecoder({ maxMessageBytes: config.amqp.maxMessageBytes })(body);
  if (!decoded.ok) {
    err.write(`invalid event (it would be dead-lettered as invalid-event): ${decoded.reason}\n`);
    return EXIT_FAILURE;
  }
  const now = options.now ?? new Date();
  if (subscription) {
    const route = routeEvent(decoded.event, subscription, now);
    if (route.kind !== 'deliver') err.write(`note: subscription ${subscription.name} would not send this event (${route.kind}: ${route.reason}); rendering anyway\n`);
  }
  const result = buildMessages(decoded.event, profile, { now, utcOffsetMinutes: -now.getTimezoneOffset() });
  if (result.kind === 'skipped') {
    err.write(`no message: the event would be acknowledged as skipped (${result.reason})\n`);
    return EXIT_OK;
  }
  if (result.kind === 'invalid') {
    err.write(`invalid event (it would be dead-lettered as invalid-event): ${result.reason}\n`);
    return EXIT_FAILURE;
  }
  const shown = result.messages.map((message) => {
    if (message.truncated) err.write(`note: ${message.controlId}: cut to the HL7 ${profile.version} maximum length: ${message.truncated.join(', ')}\n`);
    const text = message.text.split('\r').filter(Boolean).join('\n');
    return options.bytes ? `${text}\n\n${hexDump(encodeFrame(message.text, profile.charset))}` : text;
  });
  out.write(shown.join('\n\n') + '\n');
  return EXIT_OK;
}
