import type { Socket } from "node:net";

/** Scrollback kept for a viewer that attaches late: enough for a few screens of a boot log. */
export const CONSOLE_SCROLLBACK_BYTES = 64 * 1024;

export interface ConsoleViewer {
  write(chunk: Buffer): void;
  close(): void;
}

/**
 * QEMU's console chardev (`server=on`) serves one client at a time; the agent is that client and fans
 * the guest's output out to any number of viewers (websockets), each first sent the scrollback. Input
 * from every viewer goes to the guest as it comes. The hub never reconnects: the socket closes only
 * when QEMU exits, and so does the agent.
 */
export class ConsoleHub {
  private readonly viewers = new Set<ConsoleViewer>();
  private readonly ring: Buffer[] = [];
  private ringBytes = 0;
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly scrollbackBytes = CONSOLE_SCROLLBACK_BYTES,
  ) {
    socket.on("data", (chunk: Buffer) => {
      this.remember(chunk);
      for (const viewer of this.viewers) viewer.write(chunk);
    });
    socket.on("error", () => undefined); // "close" follows and ends every viewer
    socket.on("close", () => {
      this.closed = true;
      for (const viewer of this.viewers) viewer.close();
      this.viewers.clear();
    });
  }

  /** Adds a viewer, sends it the scrollback; returns its detach. A viewer of a closed console is closed at once. */
  attach(viewer: ConsoleViewer): () => void {
    if (this.closed) {
      viewer.close();
      return () => undefined;
    }
    const scrollback = this.scrollback();
    if (scrollback.length > 0) viewer.write(scrollback);
    this.viewers.add(viewer);
    return () => {
      this.viewers.delete(viewer);
    };
  }

  input(chunk: Buffer): void {
    if (!this.closed) this.socket.write(chunk);
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  scrollback(): Buffer {
    return Buffer.concat(this.ring);
  }

  close(): void {
    this.socket.destroy();
  }

  private remember(chunk: Buffer): void {
    this.ring.push(chunk);
    this.ringBytes += chunk.length;
    while (this.ringBytes > this.scrollbackBytes) {
      const first = this.ring[0];
      if (first === undefined) break;
      const excess = this.ringBytes - this.scrollbackBytes;
      if (first.length <= excess) {
        this.ring.shift();
        this.ringBytes -= first.length;
      } else {
        this.ring[0] = first.subarray(excess);
        this.ringBytes -= excess;
      }
    }
  }
}
