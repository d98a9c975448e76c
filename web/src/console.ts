import { Terminal } from "@xterm/xterm";
import { enc } from "./api.ts";
import { h, showError } from "./dom.ts";
import { ApiError } from "./api.ts";

/**
 * The serial console through the dashboard's websocket (the token travels in its HttpOnly cookie; the
 * server checks the Origin). Output is binary frames; a text frame is an error report. Returns its stop.
 */
export function consoleView(root: HTMLElement, instance: string): () => void {
  const screen = h("div", { class: "terminal", id: "terminal" });
  const status = h("span", { class: "sub", id: "console-status" }, "connecting…");
  root.replaceChildren(
    h("section", {}, h("h2", {}, `${instance}: console `, status), screen, h("p", {}, h("a", { class: "button", href: `#/i/${enc(instance)}` }, "snapshots"))),
  );
  const terminal = new Terminal({ convertEol: false, cursorBlink: true, fontSize: 14, scrollback: 5000 });
  terminal.open(screen);
  const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/instances/${enc(instance)}/console`);
  socket.binaryType = "arraybuffer";
  socket.addEventListener("open", () => {
    status.textContent = "attached";
    socket.send("\n"); // show a prompt
    terminal.focus();
  });
  socket.addEventListener("message", (event: MessageEvent<ArrayBuffer | string>) => {
    if (typeof event.data === "string") {
      const report = JSON.parse(event.data) as { error?: { code: string; message: string; hint?: string } };
      if (report.error !== undefined) showError(new ApiError(report.error.code, report.error.message, report.error.hint));
      return;
    }
    terminal.write(new Uint8Array(event.data));
  });
  socket.addEventListener("close", () => {
    status.textContent = "closed";
  });
  const typing = terminal.onData((data) => {
    if (socket.readyState === WebSocket.OPEN) socket.send(data);
  });
  return () => {
    typing.dispose();
    socket.close();
    terminal.dispose();
  };
}
