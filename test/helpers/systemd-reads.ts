/**
 * A unit as systemd itself reads it: `systemd --test` (systemd 252) loads
 * units from $SYSTEMD_UNIT_PATH and dumps every setting it parsed, without
 * touching the running system. It refuses to run as root, so as root it
 * runs as nobody (setpriv). The dump's values are what the service gets.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface SystemdView {
  user?: string;
  workingDirectory?: string;
  env: [string, string][];
  /** ExecStart= as exec'd: `$$` in arguments is one `$`. */
  argv?: string[];
  /** systemd's complaints about the unit (lines naming its file). */
  warnings: string[];
}

const SYSTEMD = '/lib/systemd/systemd';

export function systemdReads(unitName: string, text: string): SystemdView {
  if (spawnSync(SYSTEMD, ['--version']).error) {
    throw new Error(`${SYSTEMD} is missing: install Debian package "systemd" (CI must, see .ci/run)`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'bridgectl-systemd-'));
  try {
    chmodSync(dir, 0o755);
    writeFileSync(path.join(dir, unitName), text, { mode: 0o644 });
    const asNobody = process.getuid?.() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
    const argv = [...asNobody, SYSTEMD, '--test', '--system', `--unit=${unitName}`, '--log-target=console', '--no-pager'];
    const r = spawnSync(argv[0] as string, argv.slice(1), {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SYSTEMD_UNIT_PATH: `${dir}:`, SYSTEMD_LOG_COLOR: '0' },
      timeout: 60_000,
    });
    const out = `${r.stdout}${r.stderr}`;
    const lines = out.split('\n');
    const start = lines.findIndex((l) => l === `\t-> Unit ${unitName}:`);
    if (start < 0) throw new Error(`systemd --test did not dump ${unitName}:\n${out}`);
    const view: SystemdView = { env: [], warnings: lines.filter((l) => l.startsWith(`${path.join(dir, unitName)}:`)) };
    for (let i = start + 1; i < lines.length && !lines[i]?.startsWith('\t-> Unit '); i++) {
      const line = lines[i] as string;
      const m = /^\t\t([A-Za-z ]+): (.*)$/.exec(line);
      if (m?.[1] === 'User') view.user = m[2];
      else if (m?.[1] === 'WorkingDirectory') view.workingDirectory = m[2];
      else if (m?.[1] === 'Environment') {
        const kv = m[2] ?? '';
        view.env.push([kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]);
      } else if (line === '\t\t-> ExecStart:' && view.argv === undefined) {
        const cmd = /^\t\t\tCommand Line: (.*)$/.exec(lines[i + 1] ?? '');
        if (cmd) view.argv = dumpWords(cmd[1] ?? '').map((w, j) => (j === 0 ? w : w.replace(/\$\$/g, '$')));
      }
    }
    return view;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** systemd's dump quotes a word holding a space or a special character in "…", with \\, \" and \$ escaped. */
function dumpWords(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ') {
      i++;
      continue;
    }
    let word = '';
    if (line[i] === '"') {
      for (i++; i < line.length && line[i] !== '"'; i++) word += line[i] === '\\' ? (line[++i] ?? '') : line[i];
      i++;
    } else {
      for (; i < line.length && line[i] !== ' '; i++) word += line[i];
    }
    words.push(word);
  }
  return words;
}
