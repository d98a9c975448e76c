/**
 * Imports flow one way (../shared/STYLE.md):
 *   cli, agent → instance → api → driver, snapshot, store, image, cloudinit, … → config, paths, errors → util
 * Nothing imports cli/ or agent/; only agent/ and instance/ import driver/. `npm run lint:deps` fails
 * the test command on a back-edge.
 */
const above = {
  instance: ["cli", "agent"],
  api: ["cli", "agent", "instance"],
  mid: ["cli", "agent", "instance", "api"],
  base: ["cli", "agent", "instance", "api", "driver", "snapshot", "store", "image", "cloudinit", "remote", "crypto", "bundle", "ui"],
};
const folders = (names) => `^src/(${names.join("|")})/`;
const mid = ["driver", "snapshot", "store", "image", "cloudinit", "remote", "crypto", "bundle"];

module.exports = {
  forbidden: [
    { name: "no-circular", severity: "error", comment: "a cycle has no direction", from: {}, to: { circular: true } },
    { name: "nothing-imports-cli-or-agent", severity: "error", from: { pathNot: "^src/(cli|agent)/|^bin/" }, to: { path: "^src/(cli|agent)/" } },
    { name: "cli-and-agent-stay-apart", severity: "error", from: { path: "^src/cli/" }, to: { path: "^src/agent/" } },
    { name: "agent-does-not-use-cli", severity: "error", from: { path: "^src/agent/" }, to: { path: "^src/cli/" } },
    {
      name: "only-agent-and-instance-use-the-driver",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/(agent|instance|driver)/" },
      to: { path: "^src/driver/" },
    },
    {
      name: "only-driver-knows-qemu",
      severity: "error",
      comment: "instance/ and agent/ ask the Driver (driver/index.ts); driver/qemu/ is its QEMU implementation",
      from: { path: "^src/", pathNot: "^src/driver/" },
      to: { path: "^src/driver/qemu/" },
    },
    {
      name: "cli-calls-instance-or-api-only",
      severity: "error",
      comment: "commands parse, call one library function (instance/, api/, image/) and print",
      from: { path: "^src/cli/" },
      to: { path: folders(["driver", "snapshot", "store", "cloudinit", "remote", "crypto", "bundle"]), dependencyTypesNot: ["type-only"] },
    },
    { name: "instance-imports-down", severity: "error", from: { path: "^src/instance/" }, to: { path: folders(above.instance) } },
    { name: "api-imports-down", severity: "error", from: { path: "^src/api/" }, to: { path: folders(above.api) } },
    { name: "mid-tier-imports-down", severity: "error", from: { path: folders(mid) }, to: { path: folders(above.mid) } },
    { name: "base-tier-imports-down", severity: "error", from: { path: folders(["config", "paths", "errors"]) }, to: { path: folders(above.base) } },
    { name: "errors-is-a-leaf", severity: "error", from: { path: "^src/errors/" }, to: { path: "^src/(config|paths)/" } },
    { name: "util-is-a-leaf", severity: "error", from: { path: "^src/util/" }, to: { path: "^src/", pathNot: "^src/util/" } },
    {
      name: "tests-and-fixtures-stay-out-of-code",
      severity: "error",
      from: { path: "^src/", pathNot: "\\.test\\.ts$|/fixtures?/|fixture|fake-|test-support" },
      to: { path: "\\.test\\.ts$" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(dist|node_modules)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
