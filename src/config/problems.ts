import { ErrorCode, SnapvmError } from "../errors/index.ts";

/** One thing wrong with a config, as shown to the user and carried in SnapvmError.details.problems. */
export interface ConfigProblem {
  /** The file path, or a name such as "command line" for configs not read from a file. */
  file: string;
  /** 1-based; absent when the config did not come from text. */
  line?: number;
  col?: number;
  /** "memory.size", "ports[1].host"; "" for problems with the text itself (YAML syntax). */
  path: string;
  message: string;
}

/** `memory.size`, `ports[1].host`; a key that is not a plain name (an empty or odd YAML key) as `["1 2"]`. */
export function formatPath(path: readonly (string | number)[]): string {
  return path.reduce<string>((out, step) => {
    if (typeof step === "number") return `${out}[${step}]`;
    if (!/^[A-Za-z_$][\w$-]*$/.test(step)) return `${out}[${JSON.stringify(step)}]`;
    return out === "" ? step : `${out}.${step}`;
  }, "");
}

/** `file:line:col: path: message`, the form editors and terminals turn into links. */
export function formatProblem(problem: ConfigProblem): string {
  const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}:${problem.col ?? 1}`;
  return problem.path === "" ? `${where}: ${problem.message}` : `${where}: ${problem.path}: ${problem.message}`;
}

/** Problems in reading order: by line, then column; problems without a position keep their order. */
export function sortProblems(problems: readonly ConfigProblem[]): ConfigProblem[] {
  return [...problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
}

/**
 * The one error for an invalid config: the message lists every problem, one per line;
 * details.problems carries them structured for --json.
 */
export function configError(file: string, problems: readonly ConfigProblem[]): SnapvmError {
  const sorted = sortProblems(problems);
  const count = sorted.length === 1 ? "1 problem" : `${sorted.length} problems`;
  return new SnapvmError(ErrorCode.InvalidConfig, [`invalid config ${file} (${count}):`, ...sorted.map(formatProblem)].join("\n"), {
    hint: `Fix the listed fields in ${file} and run the command again.`,
    details: { file, problems: sorted },
  });
}
