/** Start-up progress on stderr, only on a terminal (scripts and CI see just the result). */
export function progressPrinter(name: string): { step: (text: string) => void; notice: (text: string) => void; done: () => void } {
  const tty = process.stderr.isTTY;
  const started = performance.now();
  let shown = false;
  return {
    step: (text) => {
      if (!tty) return;
      process.stderr.write(`\r\x1b[2K${name}: ${text}… ${((performance.now() - started) / 1000).toFixed(1)}s`);
      shown = true;
    },
    notice: (text) => {
      if (shown) process.stderr.write("\r\x1b[2K");
      process.stderr.write(`snapvm: ${text}\n`);
    },
    done: () => { if (shown) process.stderr.write("\r\x1b[2K"); },
  };
}
