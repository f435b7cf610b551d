/** Where the checks of new contents keep their copies (validate.ts). */
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';

/**
 * A fresh directory for the copies the checks read (validate.ts), in a
 * private directory bridgectl cleans itself rather than the shared temp
 * dir: a run killed mid-check (SIGKILL, OOM) leaves its copies there, and
 * the next run that checks a file removes them. As root: /run/bridgectl-verify (/run is
 * root's and a tmpfs, so nothing outlives a boot; a sibling of the lock's
 * directory, never inside it). Otherwise <temp dir>/bridgectl-verify-<uid>.
 * It must be a real directory of ours that nobody else can write; if not
 * (someone planted it), a plain mkdtemp in the temp dir is used, as before.
 * Each run's directory is named <pid>-<random>; one whose process is gone
 * was left by a killed run.
 */
export function verifyDir(): string {
  const { tmpdir } = process.getBuiltinModule('node:os') as typeof import('node:os');
  const uid = process.geteuid?.() ?? -1;
  const base = uid === 0 && lstatOrNull('/run')?.isDirectory() ? '/run/bridgectl-verify' : path.join(tmpdir(), `bridgectl-verify-${uid}`);
  try {
    mkdirSync(base, { mode: 0o700 });
  } catch {
    // there already (checked below), or cannot be made (fall back below)
  }
  const st = lstatOrNull(base);
  if (!st?.isDirectory() || (uid >= 0 && st.uid !== uid) || (st.mode & 0o077) !== 0) return mkdtempSync(path.join(tmpdir(), 'bridgectl-verify-'));
  for (const name of readdirSync(base)) {
    const pid = /^(\d+)-/.exec(name)?.[1];
    if (pid !== undefined && Number(pid) !== process.pid && !alive(Number(pid))) rmSync(path.join(base, name), { recursive: true, force: true });
  }
  return mkdtempSync(path.join(base, `${process.pid}-`));
}

function lstatOrNull(p: string): import('node:fs').Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

/** Whether a process with this pid exists (EPERM: it does, as another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
