import { parentPort, workerData } from 'node:worker_threads';
import { LaneServer } from './lane-server.js';
import type { DeliveryStreamSettings, ToThread } from './protocol.js';

// The entry of a subscription's delivery thread (started by DeliveryStream).
if (!parentPort) throw new Error('thread-entry.js runs as a worker thread, started by DeliveryStream');
const port = parentPort;
const server = new LaneServer(workerData as DeliveryStreamSettings, port);
port.on('message', (batch: ToThread[]) => server.handle(batch));
