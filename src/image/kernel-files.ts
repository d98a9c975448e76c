import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ErrorCode, SnapvmError, isErrno } from "../errors/index.ts";
import { parseBzImage, verifyVmlinux } from "./bzimage.ts";
import { COMPRESSION_SUFFIX, decompressFile } from "./decompress.ts";
import { checkLoadOrder, resolveModules, type ModuleResolution } from "./modules.ts";

/** The one entry of `dir` matching `test`; anything else means the package is not what we expect. */
async function single(dir: string, test: (name: string) => boolean, what: string): Promise<string> {
  const matches = (await readdir(dir)).filter(test);
  const [only] = matches;
  if (only === undefined || matches.length > 1) {
    throw new SnapvmError(ErrorCode.ImageBuildFailed, `expected one ${what} in ${dir}, found ${matches.length}`);
  }
  return only;
}

/** The kernel release (`uname -r`): the one directory under the unpacked package's lib/modules. */
export function kernelRelease(kernelRoot: string): Promise<string> {
  return single(join(kernelRoot, "lib/modules"), () => true, "lib/modules/<release> directory");
}

/** Decompresses the unpacked package's boot/vmlinuz-* into an ELF vmlinux (it has the PVH note). */
export async function extractVmlinux(kernelRoot: string, workDir: string): Promise<Buffer> {
  const boot = join(kernelRoot, "boot");
  const bzImage = join(boot, await single(boot, (name) => name.startsWith("vmlinuz-"), "boot/vmlinuz-*"));
  const payload = parseBzImage(await readFile(bzImage));
  const compressed = join(workDir, `vmlinux${COMPRESSION_SUFFIX[payload.compression]}`);
  await writeFile(compressed, payload.data);
  const vmlinux = await readFile(await decompressFile(compressed, payload.compression));
  verifyVmlinux(vmlinux, payload.uncompressedSize);
  return vmlinux;
}

async function readOptional(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if (isErrno(error, "ENOENT")) return "";
    throw error;
  }
}

export interface LoadedModules extends ModuleResolution {
  data: { name: string; data: Buffer }[];
}

/** Finds `wanted` under lib/modules/<release> and returns each as an uncompressed .ko, in order, dependencies first. */
export async function collectModules(kernelRoot: string, release: string, wanted: readonly string[], workDir: string): Promise<LoadedModules> {
  const moduleDir = join(kernelRoot, "lib/modules", release);
  const files = await readdir(moduleDir, { recursive: true });
  const resolution = resolveModules(wanted, files, await readOptional(join(moduleDir, "modules.builtin")));
  const data: { name: string; data: Buffer }[] = [];
  for (const module of resolution.load) {
    const source = join(moduleDir, module.path);
    if (module.compression === undefined) {
      data.push({ name: module.name, data: await readFile(source) });
      continue;
    }
    const copy = join(workDir, `${module.name}.ko${COMPRESSION_SUFFIX[module.compression]}`);
    await writeFile(copy, await readFile(source));
    data.push({ name: module.name, data: await readFile(await decompressFile(copy, module.compression)) });
  }
  checkLoadOrder(data);
  return { ...resolution, data };
}
