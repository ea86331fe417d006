import { MessageChannel, type MessagePort, parentPort, type ResourceLimits, Worker, workerData } from 'node:worker_threads';

/*
 * Starting one of trace's worker threads (the decoder, the JSON writer) the way both need: the
 * main thread runs synchronously and never returns to the event loop, so the two sides meet
 * through shared memory and a message port read with receiveMessageOnPort, not through events.
 */

/** A worker just spawned: the port to it, and the flag it sets once its modules have loaded. */
export interface StartedWorker {
  readonly worker: Worker;
  readonly port: MessagePort;
  /** 0 until the worker runs; a worker that fails to load never sets it (see hasStarted). */
  readonly started: Int32Array;
}

/** Spawns the worker script at `url`; undefined when that fails (the caller then does the work itself). */
export function spawnWorker(url: URL, resourceLimits?: ResourceLimits): StartedWorker | undefined {
  const started = new SharedArrayBuffer(4);
  const { port1, port2 } = new MessageChannel();
  let worker: Worker;
  try {
    worker = new Worker(url, { workerData: { started, port: port2 }, transferList: [port2], resourceLimits });
  } catch {
    return undefined;
  }
  // It must not keep the process alive, and its failures reach the main thread through the
  // shared memory or the port, or as a worker that never starts.
  worker.unref();
  worker.on('error', () => {});
  return { worker, port: port1, started: new Int32Array(started) };
}

/** Waits up to `timeoutMs` for the worker to run: false if it did not (it is then terminated). */
export function hasStarted({ worker, started }: StartedWorker, timeoutMs: number): boolean {
  if (Atomics.wait(started, 0, 0, timeoutMs) !== 'timed-out') return true;
  void worker.terminate();
  return false;
}

/**
 * In the worker: says it runs, and hands `begin` the main thread's first message (its task).
 * Returns the port to the main thread.
 */
export function workerRunning<Task>(begin: (task: Task) => void): MessagePort {
  const { started, port } = workerData as { started: SharedArrayBuffer; port: MessagePort };
  parentPort!.once('message', begin);
  Atomics.store(new Int32Array(started), 0, 1);
  Atomics.notify(new Int32Array(started), 0);
  return port;
}
