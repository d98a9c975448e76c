import { spawn } from "node:child_process";

/** Asks the desktop to open the URL (xdg-open); resolves false when there is no xdg-open or it failed. */
export function openBrowser(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn("xdg-open", [url], { stdio: "ignore", detached: true });
    child.once("error", () => {
      resolve(false);
    });
    child.once("exit", (code) => {
      resolve(code === 0);
    });
    child.unref();
  });
}
