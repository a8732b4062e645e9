// A progress display for a command that waits: on a terminal, one line rewritten in place;
// otherwise (a pipe, a log file, CI), a plain line each time the text changes.

export interface ProgressStream {
  readonly isTTY?: boolean;
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
      this.stream.write(`\r\x1b[2K${text} [${waited}s]`);
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
