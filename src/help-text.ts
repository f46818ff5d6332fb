// The one formatter of help text, for the top-level commands' --help (through commander's
// help hooks, src/cli/main.ts) and the shell's `help` (src/shell/help.ts). Descriptions,
// summaries and option texts are written as paragraphs: a blank line separates two, a
// single line break counts as a space, so text is never hard-wrapped at a width fixed in
// the source. Here it is wrapped to the width of the terminal. Examples are printed as
// written, whatever the width: they are meant to be copied.

export const DEFAULT_WIDTH = 80;
/** a description column narrower than this is hard to read: the text goes under its term */
const MIN_COLUMN = 30;
/** help is still laid out, if cramped, in a terminal this narrow or narrower */
const MIN_WIDTH = 20;

/**
 * The width help is wrapped to: COLUMNS when set (as Python's shutil.get_terminal_size and
 * many tools read it), else the terminal's width, else 80 (a file or a pipe).
 */
export function helpWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout, env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = Number(env.COLUMNS);
  const width = Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : stream.isTTY && stream.columns ? stream.columns : DEFAULT_WIDTH;
  return Math.max(width, MIN_WIDTH);
}

/** The paragraphs of a text, each as its words. */
function paragraphs(text: string): string[][] {
  return text
    .split(/\n[ \t]*\n/)
    .map((p) => p.split(/\s+/).filter(Boolean))
    .filter((words) => words.length > 0);
}

/**
 * The text wrapped to `width` columns: each paragraph's first line starts with `first`, its
 * other lines with `rest`; an empty line between paragraphs.
 */
export function wrapText(text: string, width: number, first = '', rest = first): string[] {
  return paragraphs(text).flatMap((words, i) => [...(i ? [''] : []), ...wrapWords(words, width, first, rest)]);
}

/**
 * Words filled into lines of at most `width` columns (greedy: a line ends only where the
 * next word does not fit). A word longer than a line (a long path) stands alone on its
 * line rather than being cut.
 */
export function wrapWords(words: string[], width: number, first = '', rest = first): string[] {
  const out: string[] = [];
  let line = first + (words[0] ?? '');
  for (const word of words.slice(1)) {
    if (line.length + 1 + word.length <= width) line += ' ' + word;
    else {
      out.push(line);
      line = rest + word;
    }
  }
  out.push(line);
  return out;
}

/**
 * A term (an option, a command) and its description: the description wrapped in a column
 * `termWidth + 2` after the indent, or on the lines under the term when that column would
 * be too narrow.
 */
export function formatItem(term: string, description: string, o: { width: number; indent: number; termWidth: number }): string[] {
  const pad = ' '.repeat(o.indent);
  if (!description.trim()) return [pad + term];
  const column = o.indent + o.termWidth + 2;
  if (o.width - column < MIN_COLUMN || term.length > o.termWidth) {
    const under = ' '.repeat(o.indent + 4);
    return [pad + term, ...wrapText(description, o.width, under)];
  }
  const lines = wrapText(description, o.width, ' '.repeat(column));
  lines[0] = (pad + term).padEnd(column) + lines[0].slice(column);
  return lines;
}
