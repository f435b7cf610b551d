/** sudo's version, as `sudo -V` prints it, and what it implies for a grant. */
import type { SudoVersion } from '../model/facts.js';

/** `sudo -V`'s first line: "Sudo version 1.9.13p3". */
export function parseSudoVersion(output: string): SudoVersion | undefined {
  const m = /^Sudo version (\d+)\.(\d+)(?:\.(\d+))?(\S*)/m.exec(output);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0), text: `${m[1]}.${m[2]}${m[3] ? `.${m[3]}` : ''}${m[4] ?? ''}` };
}

/** Regular expressions in sudoers arrived in sudo 1.9.10. */
export function supportsSudoersRegex(v: SudoVersion): boolean {
  return v.major > 1 || (v.major === 1 && (v.minor > 9 || (v.minor === 9 && v.patch >= 10)));
}

