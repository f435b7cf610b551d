/**
 * Executes a plan. The only module that writes managed files. Callers hold
 * the host lock (installer/apply/lock.ts) around planning and applying.
 *
 * Applying runs in phases, so that a refusal anywhere leaves every file as
 * it was:
 *
 *  1. check   every path: no symlink at the file or (unless allowed) at a
 *             directory between the trusted base and the file; the file is a
 *             regular file; its bytes are still the ones the plan was
 *             computed from (a writer that ignores the lock is detected).
 *  2. stage   each new content into a temp file in the target's directory:
 *             created exclusively (O_EXCL|O_NOFOLLOW) under a random name
 *             that ends in `.tmp` (mu-plugins loads every *.php, systemd
 *             every *.service), written, chmod'ed, chown'ed, fsynced.
 *  3. verify  each new content (php -l, systemd-analyze verify: one run for
 *             all units), all at once, from private copies, started while
 *             staging or before the lock; apply goes on when every check ended.
 *  4. commit  first every backup (on request) and a way back for each
 *             existing file (a hard link, else a copy); then rename over
 *             the targets; a directory is fsynced when its run of renames
 *             ends, before any rename elsewhere. A failed step puts the
 *             committed files back (exit 1, nothing written) or, if that
 *             fails too, names what was written (exit 3): commitAll. A
 *             crash leaves the old file or the new one, whole; at worst a
 *             stale `.<name>.bridgectl-<hex>.tmp`, which the next run removes.
 *
 * A refused or rolled-back run also removes the directories it created.
 */
import {
  existsSync,
  rmdirSync,
  readdirSync,
} from 'node:fs';
import path from 'node:path';
import { UserError } from '../model/errors.js';
import { onHost } from '../lib/paths.js';
import { checkDirectoryPath, lstatOrUndefined } from './dirs.js';
import type { FileChange, FileValidation, Plan } from '../model/plan.js';
import { findVisudo, VISUDO_PATHS } from '../lib/sudo-paths.js';
import type { Runner } from '../model/process.js';
import { processRunner } from '../process/run.js';
import { validateContents, validateStaged, type Env, type NewContent, type Validation } from './validate.js';
import { TEMP_FILE, changedSincePlanned, checkPath, readNoFollow, serverLabel, stage } from './stage.js';
import { commitAll, unlinkQuietly } from './commit.js';
import { type Applied, type ApplyOptions, type Staged, type EarlyVerify, type Validator } from './apply-types.js';

export async function applyPlan(plan: Plan, root: string, options: ApplyOptions = {}): Promise<Applied> {
  const notes: string[] = [];
  const info = options.info ?? ((): void => undefined);
  const warn = options.warn ?? ((): void => undefined);
  const pending = plan.changes.filter((c) => c.status !== 'unchanged');

  // 1. check — nothing is written before every path has passed.
  const staged: Staged[] = pending.map((change) => checkTarget(change, root, options));
  for (const dir of plan.directories) {
    checkPath(root, dir.path, options, 'directory');
    checkDirectoryPath(root, onHost(root, dir.path), { mode: 0o755, strict: true, label: serverLabel(root) });
  }
  removeStaleTemps(plan.changes, root, options, info);

  /** Directories this run created (host paths, parents first): removed again when the run is refused or rolled back. */
  const created: string[] = [];
  const env = options.env ?? process.env;
  const toStage = staged.filter((s) => writesContent(s.change));
  // The checks read the new contents, not the staged files: they run while the files are staged (and
  // fsynced), or started before the lock was taken (startVerify), for these very contents.
  const contents = toStage.map((s) => ({ serverPath: s.change.path, content: s.change.after ?? '' }));
  const early = options.verify;
  const verdicts = early && sameContents(early.contents, contents) ? early.verdicts : validateContents(contents, root, env);
  try {
    // 2. stage
    for (const s of toStage) stage(s, root, created);
    // 3. verify: the verdicts, in plan order.
    const results = await verdicts;
    const toVerify = toStage as (Staged & { temp: string })[]; // each has its temp file now
    for (const [i, s] of toVerify.entries()) {
      if (s.change.validate) {
        const validator = options.validators?.[s.change.validate] ?? VALIDATORS[s.change.validate];
        const skipped = validator(s.temp, s.change.path, root);
        if (skipped) notes.push(skipped);
      }
      const result = results[i] as Validation;
      for (const w of result.warnings) warn(w);
      if (result.error) {
        // Whose fault? If the file on disk fails the same check, the operator's own text outside our blocks does.
        const already = s.change.before !== null && (await validateStaged(s.change.path, s.target, s.change.before, root, env)).error !== undefined;
        throw new UserError(
          `${result.error}; ${s.change.path} was left unchanged`,
          already
            ? `nothing was written; the file on disk already fails this check, so the problem is outside bridgectl's blocks: fix ${s.change.path} by hand, then run again`
            : `nothing was written; the new content is bridgectl's template filled with the values passed in: check those (--binary, --site, user names, a channel's --arg/--env) against the message and run again`,
        );
      }
    }
    // 4. commit (backups first, then every rename; undone on failure: commitAll)
    commitAll(staged, plan, root, options, info, created);
  } catch (err) {
    await verdicts.catch(() => undefined); // a staging failure: the checks still run; let them end (and remove their copies) first
    // Refused or rolled back: nothing of this run may stay behind, not even an empty directory.
    for (const s of staged) if (s.temp) unlinkQuietly(s.temp);
    removeCreatedDirectories(created);
    throw err;
  } finally {
    for (const s of staged) if (s.temp) unlinkQuietly(s.temp);
  }
  return { applied: pending, notes };
}

/** Whether applying the change writes new bytes (not a removal, not the same text). */
function writesContent(change: FileChange): boolean {
  return change.status !== 'unchanged' && change.after !== null && change.before !== change.after;
}

/**
 * The checks of the contents a plan writes (validateContents), started now:
 * systemd-analyze and php -l take tens of milliseconds, so a caller starts
 * them before taking the lock and hands them to applyPlan
 * (ApplyOptions.verify), which uses their verdicts when the plan it applies
 * writes the same contents, and otherwise checks again. Never rejects
 * unhandled: applyPlan awaits what it uses.
 */
export function startVerify(plan: Plan, root: string, env: Env): EarlyVerify {
  const contents = plan.changes.filter(writesContent).map((c) => ({ serverPath: c.path, content: c.after ?? '' }));
  const verdicts = validateContents(contents, root, env);
  verdicts.catch(() => undefined);
  return { contents, verdicts };
}

function sameContents(a: readonly NewContent[], b: readonly NewContent[]): boolean {
  return a.length === b.length && a.every((x, i) => x.serverPath === b[i]?.serverPath && x.content === b[i]?.content);
}

function checkTarget(change: FileChange, root: string, options: ApplyOptions): Staged {
  const target = onHost(root, change.path);
  const st = checkPath(root, change.path, options, 'file');
  const staged: Staged = { change, target };
  if (change.before === null) {
    if (st) throw changedSincePlanned(change.path, 'appeared');
    return staged;
  }
  if (!st) throw changedSincePlanned(change.path, 'disappeared');
  const { bytes } = readNoFollow(target, change.path);
  if (!bytes.equals(Buffer.from(change.before, 'utf8'))) throw changedSincePlanned(change.path, 'changed');
  staged.current = bytes;
  return staged;
}


/** Remove temp files an interrupted run left (we hold the lock, so no live run owns them). */
function removeStaleTemps(changes: readonly FileChange[], root: string, options: ApplyOptions, info: (line: string) => void): void {
  const dirs = new Set(changes.map((c) => path.posix.dirname(c.path)));
  for (const dir of dirs) {
    try {
      checkPath(root, path.posix.join(dir, '.probe'), options, 'file'); // never clean up through a refused symlink
    } catch {
      continue;
    }
    let names: string[];
    try {
      names = readdirSync(onHost(root, dir));
    } catch {
      continue; // missing or unreadable: nothing of ours there
    }
    for (const name of names) {
      if (!TEMP_FILE.test(name)) continue;
      const file = onHost(root, path.posix.join(dir, name));
      const st = lstatOrUndefined(file);
      if (!st || !(st.isFile() || st.isSymbolicLink())) continue;
      unlinkQuietly(file);
      info(`removed ${path.posix.join(dir, name)}, left by an interrupted run`);
    }
  }
}

// ---------------------------------------------------------------- 2. stage



// ---------------------------------------------------------------- validators

/**
 * visudo -cf on the staged copy of a sudoers drop-in. The temp file's name
 * starts with '.' and contains '.', so sudo's @includedir never reads it
 * while it sits in /etc/sudoers.d; a refused one is removed and the
 * installed drop-in stays as it was. On the live host a missing visudo is a
 * refusal (nothing unchecked goes into /etc/sudoers.d); under a sandbox
 * --root it is a note. visudo is looked up at the fixed system paths only
 * (VISUDO_PATHS, as doctor's probe), never on $PATH.
 */
export function visudoValidator(
  run: Runner = processRunner,
  locate: () => string | undefined = () => findVisudo(VISUDO_PATHS, existsSync),
): Validator {
  return (temp, label, root) => {
    const visudo = locate();
    if (!visudo) {
      if (root !== '/') return `${label}: not checked with visudo -cf (visudo is not installed here)`;
      throw new UserError(`${label}: visudo is not installed, so the drop-in cannot be checked; nothing was written to it`, 'install sudo first (apt-get install sudo)');
    }
    const r = run.runSync(visudo, ['-c', '-f', temp], { input: '', timeout: 30_000 });
    if (r.status === 0) return undefined;
    if (r.error !== undefined && r.status === null) {
      // visudo did not run at all (not executable, a broken binary): the host's problem, not the drop-in's.
      throw new UserError(`${visudo} could not be run (${r.error}), so ${label} cannot be checked; nothing was written to it`, `repair sudo (apt-get install --reinstall sudo), then run again`);
    }
    const why = `${r.stderr}${r.stdout}`.replaceAll(temp, label).trim() || (r.error ?? `exit status ${r.status}`);
    throw new UserError(`${label}: visudo -cf refused the new drop-in, so it was not installed (any installed one is unchanged): ${why}`, 'check the user names passed in (--web-user, --service-user); if they are ordinary, please report this with the output of --dry-run');
  };
}

const VALIDATORS: Record<FileValidation, Validator> = {
  sudoers: visudoValidator(),
};

// ---------------------------------------------------------------- helpers

/** rmdir what this run created, deepest first, where it is still empty (a refused run leaves no empty directory). */
function removeCreatedDirectories(created: readonly string[]): void {
  for (const dir of [...created].reverse()) {
    try {
      rmdirSync(dir);
    } catch {
      // not empty (something else, or a file this run could not put back, is in it), or already gone
    }
  }
}
