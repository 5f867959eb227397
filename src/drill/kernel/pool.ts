// The kernel runner's call threads: calls that may block run on worker threads (worker.mjs), each
// making one call at a time, so the main thread goes on injecting and reading packets. A
// finished call posts its result on a MessagePort, read synchronously here
// (receiveMessageOnPort), and writes an eventfd the main thread's ppoll() wakes on.

import { once } from 'node:events';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { lib } from './libc.ts';

const EFD_NONBLOCK = 0o4000;
const EFD_CLOEXEC = 0o2000000;

/** The calls a worker makes. */
export type PoolCall = 'accept4' | 'connect' | 'connectWait' | 'recvmsg' | 'send' | 'close' | 'poll' | 'epoll_wait';

export interface PoolResult {
  ret: number;
  errno: number;
  /** The buffers passed in, as the call left them (addresses, poll's revents). */
  bufs: Uint8Array[];
  /** A second result some calls have (recvmsg: the control length). */
  extra?: number;
  /** When the call returned, on the worker: process.hrtime.bigint() (CLOCK_MONOTONIC, shared by every thread). */
  at?: bigint;
  /** The worker could not make the call at all. */
  error?: string;
}

interface Thread {
  worker: Worker;
  port: MessagePort;
  busy: number | null;
}

async function startThread(wakeFd: number): Promise<Thread> {
  const worker = new Worker(new URL('./worker.mjs', import.meta.url));
  const { port1, port2 } = new MessageChannel();
  worker.postMessage({ port: port2, wakeFd }, [port2]);
  await once(worker, 'message');
  worker.unref();
  return { worker, port: port1, busy: null };
}

export class CallPool {
  private nextId = 1;
  private readonly results = new Map<number, PoolResult>();

  private constructor(private readonly threads: Thread[], readonly wakeFd: number) {}

  /** Starts `size` threads (each loads koffi; about 50 ms). */
  static async start(size = 3): Promise<CallPool> {
    const c = lib();
    const wakeFd = c.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wakeFd < 0) throw new Error('eventfd() failed');
    const threads = await Promise.all(Array.from({ length: size }, () => startThread(wakeFd)));
    return new CallPool(threads, wakeFd);
  }

  /**
   * Between scripts: waits up to `ms` for the calls still running (the caller has shut their
   * sockets down, which wakes them) and replaces a thread still blocked in the kernel.
   */
  async settle(ms = 500): Promise<void> {
    const end = Date.now() + ms;
    while (this.threads.some((t) => t.busy !== null) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 5));
      this.collect();
    }
    this.results.clear();
    for (let i = 0; i < this.threads.length; i++) {
      if (this.threads[i]!.busy === null) continue;
      // A thread cannot be stopped inside a system call; it is left to end with the process.
      this.threads[i] = await startThread(this.wakeFd);
    }
  }

  /** Starts a call on an idle thread; its id, for result(). */
  submit(call: PoolCall, args: Array<number | Uint8Array | null>): number {
    const t = this.threads.find((x) => x.busy === null);
    if (!t) throw new Error(`more than ${this.threads.length} calls blocked at once on the kernel`);
    const id = this.nextId++;
    t.busy = id;
    t.port.postMessage({ id, call, args });
    return id;
  }

  /** Reads every finished call's result; true if there was one. */
  collect(): boolean {
    let any = false;
    for (const t of this.threads) {
      for (;;) {
        const m = receiveMessageOnPort(t.port);
        if (!m) break;
        const r = m.message as PoolResult & { id: number };
        this.results.set(r.id, r);
        if (t.busy === r.id) t.busy = null;
        any = true;
      }
    }
    if (any) lib().read(this.wakeFd, Buffer.alloc(8), 8);
    return any;
  }

  /** The call's result once it has returned (undefined while it blocks). */
  result(id: number): PoolResult | undefined {
    const r = this.results.get(id);
    if (r) this.results.delete(id);
    return r;
  }

  /** Stops the threads (one still blocked in the kernel ends with the process). */
  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
    lib().close(this.wakeFd);
  }
}
