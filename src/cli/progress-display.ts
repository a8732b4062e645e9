// A progress display for a command that waits: on a terminal, one line rewritten in place;
// otherwise (a pipe, a log file, CI), a plain line each time the text changes.

export interface ProgressStream {
  readonly isTTY?: boolean;
  /** A terminal's width: a longer line would wrap, and \r would rewrite only its last part. */
  readonly columns?: number;
  write(s: string): unknown;
}

export class ProgressDisplay {
  private last: string | undefined;
  private live = false;

  constructor(
    private readonly stream: ProgressStream = process.stdout,
    private readonly now: () => number = Date.now,
    private readonly started = now(),
  ) {}

  /** Shows `text`; on a terminal with the time waited so far. */
  update(text: string): void {
    if (this.stream.isTTY) {
      const waited = Math.floor((this.now() - this.started) / 1000);
      // \r and "erase line": the new text replaces the old, however long it was.
      const line = `${text} [${waited}s]`;
      const width = this.stream.columns;
      this.stream.write(`\r\x1b[2K${width !== undefined && width > 1 && line.length >= width ? `${line.slice(0, width - 2)}…` : line}`);
      this.live = true;
    } else if (text !== this.last) {
      this.stream.write(`${text}\n`);
    }
    this.last = text;
  }

  /** Ends the live line, so what follows starts on a line of its own. */
  done(): void {
    if (this.live) this.stream.write('\n');
    this.live = false;
  }
}
