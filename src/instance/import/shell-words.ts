import { ErrorCode, SnapvmError } from "../../errors/index.ts";

/**
 * Splits a command line the way a POSIX shell splits words, without expanding anything: blanks
 * separate words; '…' is literal; "…" is literal except \" \\ \$ \` and backslash-newline; a
 * backslash outside quotes escapes the next character (backslash-newline joins lines). Enough for a
 * QEMU command line pasted from a script; `$VAR`, globs and `;` are kept as text, not interpreted.
 */
export function splitShellWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] ?? "";
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else word = (word ?? "") + ch;
      continue;
    }
    if (quote === '"') {
      if (ch === '"') quote = undefined;
      else if (ch === "\\" && i + 1 < text.length && '"\\$`\n'.includes(text[i + 1] ?? "")) {
        i++;
        if (text[i] !== "\n") word = (word ?? "") + (text[i] ?? "");
      } else word = (word ?? "") + ch;
      continue;
    }
    if (/\s/.test(ch)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      word ??= "";
    } else if (ch === "\\") {
      i++;
      if (i >= text.length) throw unterminated("a trailing backslash");
      if (text[i] !== "\n") word = (word ?? "") + (text[i] ?? "");
    } else word = (word ?? "") + ch;
  }
  if (quote !== undefined) throw unterminated(`an unterminated ${quote} quote`);
  if (word !== undefined) words.push(word);
  return words;
}

function unterminated(what: string): SnapvmError {
  return new SnapvmError(ErrorCode.InvalidArgument, `--qemu-args ends with ${what}`, {
    hint: "Quote the arguments as for a shell, or pass them as a JSON array with --from-argv.",
  });
}
