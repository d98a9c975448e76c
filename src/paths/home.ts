import { homedir } from "node:os";
import { join } from "node:path";

/** Root of everything snapvm writes. `SNAPVM_HOME` overrides `~/.snapvm` (tests use a temp dir). */
export function snapvmHome(): string {
  const fromEnv = process.env["SNAPVM_HOME"];
  return fromEnv !== undefined && fromEnv !== "" ? fromEnv : join(homedir(), ".snapvm");
}

export function instancesDir(home = snapvmHome()): string {
  return join(home, "instances");
}

export function imagesDir(home = snapvmHome()): string {
  return join(home, "images");
}

/** Records of interrupted uploads, so the same export run again resumes them (0700; they hold age file keys). */
export function transfersDir(home = snapvmHome()): string {
  return join(home, "transfers");
}
