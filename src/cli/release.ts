import { deadLetterQueueName, queueName } from '../amqp/topology.js';
import { readyCount } from '../operations/operator-broker.js';
import { holdingDeadLetters, parkedCount, publishReleaseRequest } from '../operations/release-request.js';
import { EXIT_FAILURE, EXIT_OK, UsageError } from './exit-codes.js';
import { operatorCommand, STANDARD_STREAMS, subscriptionFromConfig, withOperatorConnection, type CommandStreams } from './operator-command.js';

export const RELEASE_USAGE = `Usage: mllp-dispatcher release --subscription NAME --event-id ID [--config FILE]

Ends the hold that dead letter ID put on its patient (holdPatientOnDeadLetter): the
patient's parked events are sent, in order, and the patient's later events flow again.
The dead letter itself stays in mllp.NAME.dead (replay or discard it later). The request
goes into the subscription's queue mllp.NAME, so the daemon acts on it in queue order.

Options:
  --subscription NAME   the subscription (required)
  --event-id ID         the event id of the dead letter that holds the patient (required;
                        dead-letters lists them under "held patients")
  --config FILE         configuration file (or env MLLP_DISPATCHER_CONFIG)
  --help

Exit codes: 0 requested, 1 no dead letter ID holds a patient or a broker problem,
64 bad command line, 78 configuration error.
`;

const OPTIONS = {
  subscription: { type: 'string', short: 's' },
  config: { type: 'string', short: 'c' },
  'event-id': { type: 'string' },
} as const;

/** `mllp-dispatcher release`: see RELEASE_USAGE and docs/PATIENT-HOLD.md. */
export function releaseCommand(argv: string[], streams: CommandStreams = STANDARD_STREAMS): Promise<number> {
  return operatorCommand('release', RELEASE_USAGE, OPTIONS, argv, streams, async (values) => {
    const eventId = values['event-id'];
    if (eventId === undefined || eventId === '') throw new UsageError('--event-id ID is required');
    const { config, subscription } = subscriptionFromConfig(values.config, values.subscription);
    const deadQueue = deadLetterQueueName(subscription.name);
    const targetQueue = queueName(subscription.name);
    return withOperatorConnection(config.amqp, `release ${subscription.name}`, async (model) => {
      await readyCount(model, deadQueue);
      await readyCount(model, targetQueue);
      const letter = (await holdingDeadLetters(model, deadQueue)).find((record) => record.eventId === eventId);
      const parked = letter ? await parkedCount(model, subscription.name, letter.holdKey!) : null;
      if (!letter || parked === null) {
        streams.err.write(`mllp-dispatcher release: no dead letter with event id ${eventId} holds a patient in ${deadQueue}\n`);
        return EXIT_FAILURE;
      }
      const channel = await model.createConfirmChannel();
      channel.on('error', () => {});
      const published = await publishReleaseRequest(channel, targetQueue, eventId, letter.holdKey!);
      await channel.close().catch(() => {});
      if (!published) {
        streams.err.write(`mllp-dispatcher release: the broker did not take the release request into ${targetQueue}; nothing changed\n`);
        return EXIT_FAILURE;
      }
      streams.out.write(`release requested: the patient held by ${eventId} (hold ${letter.holdKey}, ${parked} event(s) parked) is released in queue order of ${targetQueue}\n`);
      return EXIT_OK;
    });
  });
}
