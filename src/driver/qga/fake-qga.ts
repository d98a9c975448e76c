import { createServer, type Server, type Socket } from "node:net";

export interface QgaRequest {
  execute: string;
  arguments?: Record<string, unknown>;
}

/**
 * Test support: a qemu-guest-agent stand-in on a unix socket: newline-framed JSON, 0xFF resets the parser, guest-sync-delimited
 * answers after a 0xFF. `handle` returns the reply line(s) for other commands, or undefined for none.
 */
export function fakeQga(path: string, handle: (request: QgaRequest, socket: Socket) => string | undefined): Server {
  const server = createServer((socket) => {
    let buffer = "";
    socket.on("error", () => undefined); // the client went away mid-reply
    socket.on("data", (chunk: Buffer) => {
      const reset = chunk.lastIndexOf(0xff);
      buffer = reset >= 0 ? chunk.subarray(reset + 1).toString("utf8") : buffer + chunk.toString("utf8");
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const request = JSON.parse(buffer.slice(0, newline)) as QgaRequest;
        buffer = buffer.slice(newline + 1);
        if (request.execute === "guest-sync-delimited") {
          socket.write(Buffer.concat([Buffer.from([0xff]), Buffer.from(`${JSON.stringify({ return: request.arguments?.["id"] })}\n`)]));
        } else {
          const reply = handle(request, socket);
          if (reply !== undefined) socket.write(reply);
        }
      }
    });
  });
  server.listen(path);
  return server;
}
