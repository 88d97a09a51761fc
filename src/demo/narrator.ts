/**
 * The demo's voice: numbered chapters and plain sentences, indented so a newcomer can tell the
 * story from the evidence quoted in it. With --json it speaks on stderr and stdout carries the facts.
 */
export class Narrator {
  constructor(private readonly write: (text: string) => void) {}

  heading(text: string): void {
    this.write(`\n${text}\n`);
  }

  chapter(number: number, title: string): void {
    this.write(`\n${number}. ${title}\n`);
  }

  /** A sentence of the story. */
  say(text: string): void {
    this.write(`${indent(text, '   ')}\n`);
  }

  /** Evidence quoted as it is (command output, file contents). */
  quote(text: string): void {
    this.write(`${indent(text.trimEnd(), '      | ')}\n`);
  }

  /** An address or a command to copy. */
  item(label: string, value: string): void {
    this.write(`   ${label.padEnd(16)} ${value}\n`);
  }

  line(text = ''): void {
    this.write(`${text}\n`);
  }
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => (line ? prefix + line : prefix.trimEnd()))
    .join('\n');
}
