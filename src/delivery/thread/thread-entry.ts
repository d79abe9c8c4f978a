import { parentPort } from 'node:worker_threads';
import { LaneServer } from './lane-server.js';
import type { FromThread, FromThreadPost, ToThreadPost } from './protocol.js';

// The entry of the delivery thread (started by DeliveryThread): one LaneServer per stream.
if (!parentPort) throw new Error('thread-entry.js runs as a worker thread, started by DeliveryThread');
const port = parentPort;
const servers = new Map<number, LaneServer>();
port.on('message', (post: ToThreadPost) => {
  const { stream } = post;
  if ('open' in post) {
    const target = { postMessage: (batch: unknown) => port.postMessage({ stream, batch: batch as FromThread[] } satisfies FromThreadPost) };
    servers.set(stream, new LaneServer(post.open, target));
  } else if ('close' in post) {
    servers.delete(stream);
  } else {
    servers.get(stream)?.handle(post.batch);
  }
});
