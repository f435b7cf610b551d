/**
 * Validate new content before it replaces a managed file: `php -l` for PHP,
 * `systemd-analyze verify` for systemd units, `plutil -lint` for launchd
 * plists — each only when the tool exists on this machine, and only for
 * content that is about to be written (a no-op run spawns nothing).
 *
 * Binaries come from PATH; BRIDGECTL_PHP, BRIDGECTL_SYSTEMD_ANALYZE and
 * BRIDGECTL_PLUTIL name another one, or `none` to skip that check.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { processRunner } from '../process/run.js';
import { verifyDir } from './verify-dir.js';

export interface Validation {
  /** Why the content must not be written; undefined when it may. */
  error?: string;
  /** Findings that do not block the write. */
  warnings: string[];
}

export type Env = Readonly<Record<string, string | undefined>>;

const OK: Validation = { warnings: [] };

/** Which check applies to a server path, if any. */
export function validatorFor(serverPath: string): 'php' | 'systemd' | 'plist' | undefined {
  if (serverPath.endsWith('.php')) return 'php';
  if (/^\/(etc|lib|usr\/lib|run)\/systemd\/(system|user)\/[^/]+\.(service|socket|timer|path|mount|target)$/.test(serverPath)) return 'systemd';
  if (serverPath.endsWith('.plist')) return 'plist';
  return undefined;
}

/** A file's new content, by its server path. */
export interface NewContent {
  serverPath: string;
  content: string;
}

/**
 * The verdict on each new content, in order: php -l and plutil -lint of a
 * private copy of it (named by its server path in messages), one
 * systemd-analyze verify for all units. Every check runs concurrently
 * (install waits for the slowest, not the sum); all have ended, and their
 * copies are gone, when this settles. It reads no staged file, so apply
 * can start it before the lock (apply.ts startVerify).
 */
export async function validateContents(files: readonly NewContent[], root: string, env: Env): Promise<Validation[]> {
  const position = new Map(files.flatMap((f, i) => (validatorFor(f.serverPath) === 'systemd' ? [i] : [])).map((i, k) => [i, k]));
  const linted = files.some((f, i) => !position.has(i) && validatorFor(f.serverPath) !== undefined);
  const dir = linted ? verifyDir() : undefined;
  const units = verifyUnits(files, root, env);
  try {
    // Each check a promise (a copy that cannot be written too), all of them awaited by settled: none left unhandled.
    return await settled(
      files.map(async (f, i) => {
        const k = position.get(i);
        if (k !== undefined) return (await units)[k] as Validation;
        if (dir === undefined || validatorFor(f.serverPath) === undefined) return OK;
        // Each copy in a directory of its own: two files may share a name.
        const copy = path.join(dir, String(i), path.posix.basename(f.serverPath));
        mkdirSync(path.dirname(copy), { mode: 0o700 });
        writeFileSync(copy, f.content, { mode: 0o600 });
        return validateStaged(f.serverPath, copy, f.content, root, env);
      }),
    );
  } finally {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The verdicts of the systemd units among `files`, in order, from ONE
 * `systemd-analyze verify` (its start-up is the cost; a few units more cost
 * nothing): see systemdVerifyAll. It reads the units' content, not the
 * staged files (validateContents starts it).
 */
export function verifyUnits(files: readonly NewContent[], root: string, env: Env): Promise<Validation[]> {
  return systemdVerifyAll(files.filter((f) => validatorFor(f.serverPath) === 'systemd'), root, env);
}

/**
 * Every promise's value, in order, once ALL have settled; a rejection (an
 * internal error: a unit copy that could not be written) is thrown only
 * then, the first in order, so no check outlives the call.
 */
async function settled<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  return (await Promise.allSettled(promises)).map((r) => {
    if (r.status === 'rejected') throw r.reason;
    return r.value;
  });
}

/**
 * Check `file` (a file holding `content`) as the content of `serverPath`. `root` is --root: on a sandbox root the unit's
 * ExecStart names a binary on the server, not on this machine.
 */
export async function validateStaged(serverPath: string, file: string, content: string, root: string, env: Env): Promise<Validation> {
  switch (validatorFor(serverPath)) {
    case 'php':
      return phpLint(serverPath, file, env);
    case 'systemd':
      return systemdVerify(serverPath, content, root, env);
    case 'plist':
      return plutilLint(serverPath, file, env);
    default:
      return OK;
  }
}

function binary(env: Env, variable: string, fallback: string): string | undefined {
  const value = env[variable];
  if (value === 'none' || value === '') return undefined;
  return value ?? fallback;
}

/** A validator's verdict: its exit status and output; undefined when it is not installed (the check is skipped). */
async function run(file: string, args: string[]): Promise<{ status: number | null; output: string } | undefined> {
  const r = await processRunner.run(file, args, { timeout: 30_000 });
  if (r.error === 'ENOENT') return undefined;
  if (r.error !== undefined) return { status: 1, output: `${file}: ${r.errorMessage ?? r.error}` };
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

async function phpLint(serverPath: string, file: string, env: Env): Promise<Validation> {
  const php = binary(env, 'BRIDGECTL_PHP', 'php');
  if (!php) return OK;
  // -n: no php.ini (no auto_prepend_file, no extensions to load); lint only parses and compiles.
  const r = await run(php, ['-n', '-d', 'display_errors=1', '-l', file]);
  if (!r || r.status === 0) return OK;
  const why = r.output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('Errors parsing'))
    .join('; ')
    .split(file)
    .join(serverPath);
  return { error: `new content of ${serverPath} fails php -l: ${why || `exit ${r.status}`}`, warnings: [] };
}

async function plutilLint(serverPath: string, file: string, env: Env): Promise<Validation> {
  const plutil = binary(env, 'BRIDGECTL_PLUTIL', 'plutil');
  if (!plutil) return OK;
  const r = await run(plutil, ['-lint', file]);
  if (!r || r.status === 0) return OK;
  return { error: `new content of ${serverPath} fails plutil -lint: ${r.output.trim().split(file).join(serverPath)}`, warnings: [] };
}

/**
 * systemd-analyze verify on a copy carrying the unit's real name (it derives
 * the unit type and name from the file name) in a private temp dir. It also
 * checks that ExecStart binaries exist: on --root / that is a real error
 * (the unit would fail to start); on a sandbox root the binary is a server
 * path that need not exist on this machine, so that finding is dropped.
 * Complaints about *other* units (a minimal container lacking
 * sysinit.target…) are about this machine, not the new file: warnings on
 * --root /, dropped on a sandbox root.
 */
async function systemdVerify(serverPath: string, content: string, root: string, env: Env): Promise<Validation> {
  const analyze = binary(env, 'BRIDGECTL_SYSTEMD_ANALYZE', 'systemd-analyze');
  if (!analyze) return OK;
  const unit = path.posix.basename(serverPath);
  const dir = verifyDir();
  try {
    const copy = path.join(dir, unit);
    writeFileSync(copy, content, { mode: 0o600 });
    const r = await analyzeVerify(analyze, [copy]);
    if (!r) return OK;
    return judgeUnit(unit, serverPath, findingLines(r.output, [[copy, serverPath]]), r.status, root);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `systemd-analyze verify` of unit files: their own syntax, settings and
 * executables. `--recursive-errors=no` (systemd >= 250) leaves out the
 * start-job simulation, which loads the machine's whole dependency tree
 * (~20 of its ~30 ms here, more on a server with many units) and could
 * only say something about other units: "Unit X not found", a warning on
 * --root / and dropped on a sandbox. An older systemd-analyze refuses the
 * option, and then verifies as it always has.
 */
async function analyzeVerify(analyze: string, copies: readonly string[]): Promise<Awaited<ReturnType<typeof run>>> {
  const r = await run(analyze, ['verify', '--man=no', '--recursive-errors=no', ...copies]);
  // Matched on the option's name alone: getopt's complaint about it may be in the operator's language.
  if (r && r.status !== 0 && r.output.includes('--recursive-errors')) return run(analyze, ['verify', '--man=no', ...copies]);
  return r;
}

/** systemd-analyze's output as trimmed lines, temp copies named by their server paths. */
function findingLines(output: string, copies: readonly (readonly [string, string])[]): string[] {
  return output
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => copies.reduce((line, [copy, serverPath]) => line.split(copy).join(serverPath), l));
}

const MISSING_BINARY = /is not executable: No such file or directory$/;
const OTHER_UNIT = /Unit (\S+) not found/;

/** Whether a finding would be dropped (a sandbox's facts about this machine) or be a warning whatever the exit status. */
function statusIndependent(unit: string, line: string, root: string): boolean {
  const otherUnit = OTHER_UNIT.exec(line);
  return (root !== '/' && (MISSING_BINARY.test(line) || otherUnit !== null)) || (otherUnit !== null && otherUnit[1] !== unit);
}

/** One unit's verdict from its findings and the exit status of a verify of that unit. */
function judgeUnit(unit: string, serverPath: string, findings: readonly string[], status: number | null, root: string): Validation {
  const warnings: string[] = [];
  const errors: string[] = [];
  for (const line of findings) {
    const missingBinary = MISSING_BINARY.test(line);
    const otherUnit = OTHER_UNIT.exec(line);
    // On a sandbox root both are facts about this machine, not the new file: expected, not worth a word.
    if (root !== '/' && (missingBinary || otherUnit)) continue;
    if ((otherUnit && otherUnit[1] !== unit) || status === 0) warnings.push(line);
    else errors.push(line);
  }
  if (status !== 0 && errors.length > 0) {
    return { error: `new content of ${serverPath} fails systemd-analyze verify: ${errors.join('; ')}`, warnings };
  }
  return { warnings: warnings.map((w) => `systemd-analyze verify ${serverPath}: ${w}`) };
}

/**
 * Every staged unit in ONE `systemd-analyze verify` run, each a copy with its
 * real name in one private temp dir (on a systemd older than 250, which
 * also simulates starting each one, units installed together then find
 * each other, e.g. opencode-telegram's Requires=opencode-serve.service).
 *
 * Each finding line is given to the unit it names (`<copy>:…`, `<unit>: …`,
 * or the one staged unit it mentions). The run's exit status is the whole
 * batch's, so a unit's verdict is taken from it only when it cannot depend
 * on it: exit 0 (no unit failed), or every finding of that unit dropped (a
 * sandbox's missing binaries) or about another unit. Any other unit (a real
 * finding after a failed run) is verified again on its own, exactly as
 * before; so is everything when a line names no single unit, or two staged
 * units share a name. A clean batch, the usual case, costs one start-up.
 */
async function systemdVerifyAll(units: readonly NewContent[], root: string, env: Env): Promise<Validation[]> {
  const eachAlone = (): Promise<Validation[]> => settled(units.map((u) => systemdVerify(u.serverPath, u.content, root, env)));
  if (units.length <= 1) return eachAlone();
  const analyze = binary(env, 'BRIDGECTL_SYSTEMD_ANALYZE', 'systemd-analyze');
  if (!analyze) return units.map(() => OK);
  const names = units.map((u) => path.posix.basename(u.serverPath));
  if (new Set(names).size !== names.length) return eachAlone();
  const dir = verifyDir();
  let r: Awaited<ReturnType<typeof run>>;
  const copies = names.map((name) => path.join(dir, name));
  try {
    units.forEach((u, i) => writeFileSync(copies[i] as string, u.content, { mode: 0o600 }));
    r = await analyzeVerify(analyze, copies);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (!r) return units.map(() => OK);

  const byUnit: string[][] = units.map(() => []);
  const lines = r.output.split('\n').map((l) => l.trim()).filter(Boolean);
  for (const line of lines) {
    const owner = lineOwner(line, names, copies);
    if (owner === undefined) return eachAlone();
    (byUnit[owner] as string[]).push(line);
  }
  const pairs = units.map((u, i) => [copies[i] as string, u.serverPath] as const);
  const status = r.status;
  return settled(
    units.map(async (u, i) => {
      const unit = names[i] as string;
      const findings = findingLines((byUnit[i] as string[]).join('\n'), pairs);
      if (status === 0 || findings.every((line) => statusIndependent(unit, line, root))) return judgeUnit(unit, u.serverPath, findings, status, root);
      return systemdVerify(u.serverPath, u.content, root, env); // its own exit status decides
    }),
  );
}

/** Which staged unit a line of a batched verify is about: undefined when not exactly one. */
function lineOwner(line: string, names: readonly string[], copies: readonly string[]): number | undefined {
  const byPrefix = names.findIndex((name, i) => line.startsWith(`${copies[i]}:`) || line.startsWith(`${name}:`));
  if (byPrefix >= 0) return byPrefix;
  const mentioned = names.flatMap((name, i) => (new RegExp(`(^|[\\s'"/(])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[\\s'".,:;)/])`).test(line) ? [i] : []));
  return mentioned.length === 1 ? mentioned[0] : undefined;
}
