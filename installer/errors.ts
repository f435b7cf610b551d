/**
 * Exit codes are part of the interface: deploy scripts branch on them.
 * 0 ok · 1 failure (bad input, damaged file, host problem) · 2 drift (`check`) ·
 * 3 a commit failed and could not be fully undone: some files written, the message names them.
 * (130 is what a shell reports when SIGINT kills the process; no code sets it.)
 */
export const ExitCode = {
  ok: 0,
  failure: 1,
  drift: 2,
  incomplete: 3,
} as const;

/**
 * An expected failure: the message (and hint) is printed without a stack,
 * and nothing has been written.
 */
export class UserError extends Error {
  override name = 'UserError';
  constructor(
    message: string,
    /** What to do about it; printed on its own line. */
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Bad flags or arguments. */
export class UsageError extends UserError {
  override name = 'UsageError';
}

/** A run that wrote some files and not others, and names both: exit 3 (ExitCode.incomplete). */
export class IncompleteError extends UserError {
  override name = 'IncompleteError';
}

/** A managed file whose structure bridgectl will not touch. */
export class MarkerError extends UserError {
  override name = 'MarkerError';
  constructor(
    readonly detail: string,
    /** 1-based line the problem was found on, when there is one. */
    readonly line?: number,
    hint?: string,
    readonly file?: string,
  ) {
    super(locate(file, line) + detail, hint);
  }

  /** The same error, naming the file it came from. */
  inFile(file: string): MarkerError {
    return new MarkerError(this.detail, this.line, this.hint, file);
  }
}

function locate(file: string | undefined, line: number | undefined): string {
  if (file !== undefined) return line === undefined ? `${file}: ` : `${file}:${line}: `;
  return line === undefined ? '' : `line ${line}: `;
}

/** A value that cannot be rendered safely into a managed file. */
export class RenderError extends UserError {
  override name = 'RenderError';
}

/** Identity could not be resolved from flags, environment, adoption or defaults. */
export class IdentityError extends UserError {
  override name = 'IdentityError';
}
