import type { Channel, ChannelModel, ConfirmChannel } from 'amqplib';

/**
 * Declares the topology on a channel of its own (a failed declaration closes its channel),
 * then opens the consuming channel with its prefetch and the publisher-confirm channel.
 * `check` runs between the steps and throws to abandon the connection (the session closed).
 */
export async function openChannels(
  model: ChannelModel,
  options: { declare?: ((channel: Channel) => Promise<void>) | undefined; prefetch: number },
  check: () => void,
): Promise<{ consumeChannel: Channel; publishChannel: ConfirmChannel }> {
  if (options.declare) {
    const declareChannel = await model.createChannel();
    declareChannel.on('error', () => {});
    await options.declare(declareChannel);
    await declareChannel.close();
    check();
  }
  const consumeChannel = await model.createChannel();
  const publishChannel = await model.createConfirmChannel();
  check();
  await consumeChannel.prefetch(options.prefetch);
  check();
  return { consumeChannel, publishChannel };
}
