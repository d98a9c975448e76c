import { fsyncFile } from "./fsync.ts";
import { CommandFailedError, runCommand } from "./run-command.ts";

/**
 * Turns runs of zeros in `path` back into holes (a RAM file a stream was loaded into has every page
 * written), then flushes it. Where the filesystem cannot, a note says so and the file stays whole.
 */
export async function digHoles(path: string, notes: string[]): Promise<void> {
  try {
    await runCommand("fallocate", ["--dig-holes", path]);
  } catch (error) {
    if (!(error instanceof CommandFailedError)) throw error;
    notes.push(`zero pages were not returned to holes (${error.message}); the RAM file uses more disk than it needs`);
  }
  await fsyncFile(path);
}
