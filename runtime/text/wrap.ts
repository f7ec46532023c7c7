// Word wrapping for the console: the wizard's prompts and help, and apply's progress lines, which a
// serial console would otherwise cut at 80 columns.

/** Wraps at word boundaries (blessed would break words), so the prompt's size is known. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      if (line && line.length + 1 + word.length > width) {
        lines.push(line);
        line = '';
      }
      line = line ? `${line} ${word}` : word;
      while (line.length > width) {
        lines.push(line.slice(0, width));
        line = line.slice(width);
      }
    }
    lines.push(line);
  }
  return lines;
}

/** One output line as console lines of at most `width` columns; continuations keep its indent + 2. */
export function fitLine(line: string, width = 78): string[] {
  if (line.length <= width) return [line];
  const indent = /^\s*/.exec(line)![0];
  const [first = '', ...rest] = wrap(line.trim(), width - indent.length);
  const more = rest.join(' ');
  return [indent + first, ...(more ? wrap(more, width - indent.length - 2).map((l) => `${indent}  ${l}`) : [])];
}
