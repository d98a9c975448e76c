import { buildTinyImage } from "../image/index.ts";
import { printResult } from "./output.ts";

export async function imageBuildCommand(flags: { force?: true; json?: true }): Promise<void> {
  const info = await buildTinyImage({
    force: flags.force === true,
    onProgress: (step) => {
      if (process.stderr.isTTY) process.stderr.write(`image: ${step}\n`);
    },
  });
  printResult(info, flags.json === true, (i) => `tiny image ready in ${i.dir}: kernel ${i.kernel.release}, busybox ${i.busybox.version}`);
}
