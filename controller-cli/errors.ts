/** Exit codes every `loa` command keeps to (see docs/cli.md). */
export const EXIT = { ok: 0, error: 1, usage: 2, partial: 3 } as const;

/** An error the user can act on: its message is already translated and printed as-is. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.error,
  ) {
    super(message);
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}
