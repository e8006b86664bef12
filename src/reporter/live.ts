import { createLogUpdate } from 'log-update';

/** What the live area draws on: a terminal's stream (a Writable with a size in tests). */
export type LiveStream = NodeJS.WritableStream & {
  readonly isTTY?: boolean;
  readonly columns?: number;
  readonly rows?: number;
};

/** stdout when a person watches it: a terminal, not CI's log, not a dumb terminal. */
export function liveTerminal(
  stream: NodeJS.WriteStream = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): LiveStream | undefined {
  const ci = env['CI'] !== undefined && env['CI'] !== '' && env['CI'] !== 'false';
  return stream.isTTY && !ci && env['TERM'] !== 'dumb' ? stream : undefined;
}

/**
 * A few lines at the bottom of the terminal, redrawn in place (log-update), under the output
 * that scrolls: what is printed goes above the area and stays in the scrollback, whole (not
 * wrapped or clipped to the screen as log-update's own persist would).
 */
export class LiveArea {
  private readonly update: ReturnType<typeof createLogUpdate>;
  private current = '';

  constructor(private readonly stream: LiveStream) {
    // The cursor stays visible: a run killed mid-draw must not leave the user's terminal without one.
    this.update = createLogUpdate(stream, { showCursor: true });
  }

  /** How many lines the area may take: a third of the screen, at least 3. */
  rows(): number {
    return Math.max(3, Math.floor((this.stream.rows ?? 24) / 3));
  }

  /** `text` above the area, then the area as `frame` says it is now (empty: none). */
  print(text: string, frame: readonly string[]): void {
    if (this.current !== '') this.update.clear();
    this.stream.write(text);
    this.draw(frame);
  }

  draw(lines: readonly string[]): void {
    this.current = lines.join('\n');
    if (this.current !== '') this.update(this.current);
  }

  stop(): void {
    if (this.current !== '') this.update.clear();
    this.current = '';
    this.update.done();
  }
}
