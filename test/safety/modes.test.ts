/**
 * Modes, owners, backups and validation before commit.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { applyPlan } from '../../installer/apply/apply.js';
import { fileChange } from '../../installer/plan/changes.js';
import { ALL_BRIDGE_FLAGS, ALL_UNITS, bridgeSandbox } from '../helpers/bridge-sandbox.js';
import { runBin, runMain } from '../helpers/cli.js';
import { isRoot, sandbox, serverSandbox, SVC_GID, SVC_UID } from '../helpers/sandbox.js';
import { at, CHANNELS, hasPhp, installArgs, leftovers, MU, snapshot } from '../helpers/safety.js';

const UNIT = '/etc/systemd/system/kimaki.service';
const mode = (file: string): number => statSync(file).mode & 0o7777;
const itAsRoot = isRoot ? it : it.skip;

describe('modes and owners', () => {
  it('under umask 077: files 0644, created directories 0755, data dir 0700', () => {
    const root = serverSandbox();
    const r = runBin(installArgs(root), { umask: '077' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(mode(at(root, CHANNELS))).toBe(0o644);
    expect(mode(at(root, UNIT))).toBe(0o644);
    expect(mode(at(root, MU))).toBe(0o755);
    expect(mode(at(root, '/etc/systemd/system'))).toBe(0o755);
    expect(mode(at(root, '/home/opencode/.kimaki'))).toBe(0o700);
    expect(mode(at(root, '/run/bridgectl'))).toBe(0o700); // only root can open it, so only root can take (and hold) the lock
  });

  it('heals a legacy 0600 mu-plugin by chmod alone (the plan shows it, content and inode are kept); a 0600 unit keeps its mode', () => {
    const root = serverSandbox();
    expect(runBin(installArgs(root)).code).toBe(0);
    chmodSync(at(root, CHANNELS), 0o600);
    chmodSync(at(root, UNIT), 0o600);
    const before = snapshot(at(root, CHANNELS));

    const dry = runBin(installArgs(root, '--dry-run'), { umask: '077' });
    expect(dry.stdout).toContain(`update    ${CHANNELS}`);
    expect(dry.stdout).toContain(`mode 0600 -> 0644 ${CHANNELS}`);
    // A unit is never widened (it may hold a secret: test/safety/secret-modes.test.ts); systemd reads it as root.
    expect(dry.stdout).not.toContain(`mode 0600 -> 0644 ${UNIT}`);

    const r = runBin(installArgs(root), { umask: '077' });
    expect(r.code).toBe(0);
    const after = snapshot(at(root, CHANNELS));
    expect(after.mode).toBe(0o644);
    expect(mode(at(root, UNIT))).toBe(0o600);
    expect(after.bytes).toEqual(before.bytes);
    expect(after.ino).toBe(before.ino); // chmod, not a rewrite
    expect(after.mtimeMs).toBe(before.mtimeMs);
  });

  itAsRoot('an existing file keeps its owner and group when rewritten; a new one is owned by the runner', async () => {
    const root = serverSandbox();
    await runMain(installArgs(root, '--no-reload'));
    expect(statSync(at(root, CHANNELS)).uid).toBe(0);
    chownSync(at(root, CHANNELS), SVC_UID, SVC_GID);
    writeFileSync(at(root, CHANNELS), readFileSync(at(root, CHANNELS), 'utf8').replace("'timeout' => 600", "'timeout' => 5"));
    const ino = statSync(at(root, CHANNELS)).ino;

    const r = await runMain(installArgs(root, '--no-reload'));

    expect(r.stdout).toContain(`update    ${CHANNELS}`);
    const st = statSync(at(root, CHANNELS));
    expect(st.ino).not.toBe(ino); // rewritten (a new inode, renamed over)…
    expect([st.uid, st.gid]).toEqual([SVC_UID, SVC_GID]); // …with the old owner
    expect(st.mode & 0o7777).toBe(0o644);
  });

  itAsRoot('FileChange.owner sets a new file\'s owner', async () => {
    const root = sandbox();
    const change = fileChange('/etc/x.conf', null, 'x\n', 0o640, undefined, { uid: SVC_UID, gid: SVC_GID });
    await applyPlan({ changes: [change], directories: [], identities: {}, notes: [] }, root);
    const st = statSync(at(root, '/etc/x.conf'));
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([SVC_UID, SVC_GID, 0o640]);
  });
});

describe('--backup', () => {
  it('keeps the previous version beside the file under a name nothing loads, says where; none when nothing changed', async () => {
    const root = serverSandbox();
    await runMain(installArgs(root, '--no-reload'));
    const old = readFileSync(at(root, CHANNELS), 'utf8').replace("'timeout' => 600", "'timeout' => 5");
    writeFileSync(at(root, CHANNELS), old);

    const r = await runMain(installArgs(root, '--no-reload', '--backup'));

    expect(r.code).toBe(0);
    const { backups, php } = leftovers(at(root, MU));
    expect(php).toEqual(['wp-coding-agents-channels.php', 'wp-coding-agents-cli-transport.php']);
    expect(backups).toHaveLength(1);
    const name = backups[0] as string;
    expect(name).toMatch(/^\.wp-coding-agents-channels\.php\.\d{8}T\d{6}Z\.bridgectl-bak$/);
    expect(r.stderr).toContain(`backup: ${MU}/${name} (under --root ${root})`);
    expect(readFileSync(path.join(at(root, MU), name), 'utf8')).toBe(old);
    expect(mode(path.join(at(root, MU), name))).toBe(0o600);

    const again = await runMain(installArgs(root, '--no-reload', '--backup'));
    expect(again.stderr).toBe('');
    expect(leftovers(at(root, MU)).backups).toEqual([name]);
  });

  it('backs up removed files too, and two backups in one second do not collide', async () => {
    const root = serverSandbox();
    await runMain(installArgs(root, '--no-reload'));
    await runMain(['uninstall', '--bridge', 'kimaki', '--site', '/var/www/html', '--root', root, '--backup', '--no-reload']);
    await runMain(installArgs(root, '--no-reload'));
    await runMain(['uninstall', '--bridge', 'kimaki', '--site', '/var/www/html', '--root', root, '--backup', '--no-reload']);
    const units = readdirSync(at(root, '/etc/systemd/system'));
    expect(units.filter((n) => n.endsWith('.service'))).toEqual([]);
    expect(units.filter((n) => n.endsWith('.bridgectl-bak'))).toHaveLength(2);
    // The channels file (updated) and the transport (removed with the last channel), twice each.
    expect(leftovers(at(root, MU)).backups).toHaveLength(4);
  });
});

describe('validation before commit', () => {
  const fakeTool = (root: string, name: string, script: string): string => {
    const file = at(root, `/tools/${name}`);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `#!/bin/sh\n${script}\n`, { mode: 0o755 });
    return file;
  };

  it('a php -l failure leaves the old file in place, says why, and leaves no temp file', () => {
    const root = serverSandbox();
    expect(runBin(installArgs(root)).code).toBe(0);
    writeFileSync(at(root, CHANNELS), readFileSync(at(root, CHANNELS), 'utf8').replace("'timeout' => 600", "'timeout' => 5"));
    const before = snapshot(at(root, CHANNELS));
    const php = fakeTool(root, 'php', 'echo "PHP Parse error:  syntax error, unexpected end of file in $5 on line 3"; exit 255');

    const r = runBin(installArgs(root), { env: { BRIDGECTL_PHP: php } });

    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`new content of ${CHANNELS} fails php -l: PHP Parse error:  syntax error, unexpected end of file in ${CHANNELS} on line 3`);
    expect(r.stderr).toContain('was left unchanged');
    expect(snapshot(at(root, CHANNELS))).toEqual(before);
    expect(leftovers(at(root, MU)).temps).toEqual([]);
  });

  (hasPhp ? it : it.skip)('real php -l: invalid PHP is never committed', async () => {
    const root = sandbox({ 'site/a.php': '<?php echo 1;\n' });
    const before = snapshot(at(root, '/site/a.php'));
    const change = fileChange('/site/a.php', '<?php echo 1;\n', '<?php echo [1;\n', 0o644, 0o644);
    await expect(applyPlan({ changes: [change], directories: [], identities: {}, notes: [] }, root)).rejects.toThrow(/fails php -l: .*a\.php/);
    expect(snapshot(at(root, '/site/a.php'))).toEqual(before);
    expect(readdirSync(at(root, '/site'))).toEqual(['a.php']);
  });

  it('systemd-analyze verify: a broken unit is refused; nothing of a multi-file plan is written', async () => {
    const root = sandbox({ 'site/a.php': '<?php echo 1;\n' });
    const changes = [
      fileChange('/site/a.php', '<?php echo 1;\n', '<?php echo 2;\n', 0o644, 0o644),
      fileChange('/etc/systemd/system/broken.service', null, '[Service\nExecStart=/bin/true\n', 0o644),
    ];
    const hasAnalyze = existsSync('/usr/bin/systemd-analyze') || existsSync('/bin/systemd-analyze');
    if (!hasAnalyze) return;
    await expect(applyPlan({ changes, directories: [], identities: {}, notes: [] }, root)).rejects.toThrow(/broken\.service fails systemd-analyze verify: .*Invalid section header/);
    expect(readFileSync(at(root, '/site/a.php'), 'utf8')).toBe('<?php echo 1;\n');
    expect(existsSync(at(root, '/etc/systemd/system/broken.service'))).toBe(false);
    expect(existsSync(at(root, '/etc'))).toBe(false); // the directories staging made are gone again (#17 item 12)
  });

  it('no-op runs spawn no validator', () => {
    const root = serverSandbox();
    const log = at(root, '/tools/calls');
    const php = fakeTool(root, 'php', `printf "%s\\n" "$*" >> ${log}; exit 0`);
    const analyze = fakeTool(root, 'systemd-analyze', `printf "%s\\n" "$*" >> ${log}; exit 0`);
    const env = { BRIDGECTL_PHP: php, BRIDGECTL_SYSTEMD_ANALYZE: analyze };
    expect(runBin(installArgs(root), { env }).code).toBe(0);
    expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(3); // php -l of the channels file and the transport, one verify
    expect(runBin(['upgrade', '--site', '/var/www/html', '--root', root], { env }).code).toBe(0);
    expect(runBin(installArgs(root), { env }).code).toBe(0);
    expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(3);
  });

  it('an install of every bridge verifies all their units in one systemd-analyze run', () => {
    const root = bridgeSandbox();
    const log = at(root, '/tools/calls');
    const php = fakeTool(root, 'php', `printf "php %s\\n" "$*" >> ${log}; exit 0`);
    const analyze = fakeTool(root, 'systemd-analyze', `printf "analyze %s\\n" "$*" >> ${log}; exit 0`);
    const argv = ['install', ...ALL_BRIDGE_FLAGS, '--site', '/var/www/html', '--service-user', 'opencode', '--root', root];
    expect(runBin(argv, { env: { BRIDGECTL_PHP: php, BRIDGECTL_SYSTEMD_ANALYZE: analyze } }).code).toBe(0);
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    expect(calls.filter((c) => c.startsWith('php '))).toHaveLength(2); // php -l per PHP file: the channels file and the transport
    const verify = calls.filter((c) => c.startsWith('analyze '));
    expect(verify).toHaveLength(1);
    expect(verify[0]?.split(' ').slice(1).filter((a) => a !== 'verify' && !a.startsWith('-')).map((a) => path.basename(a)).sort()).toEqual(ALL_UNITS);
  });
});

describe('leftovers and foreign writers', () => {
  it('removes our stale temp files (and only ours) on the next run that writes, saying so', async () => {
    const root = serverSandbox();
    await runMain(installArgs(root, '--no-reload'));
    const stale = '.wp-coding-agents-channels.php.bridgectl-0123456789ab.tmp';
    const keep = ['.wp-coding-agents-channels.php.bridgectl-xyz.tmp', 'notes.tmp', 'other.php'];
    for (const name of [stale, ...keep]) writeFileSync(path.join(at(root, MU), name), '<?php // half-written');
    // A no-op run writes nothing at all, not even a cleanup; a run with something to write cleans up.
    expect((await runMain(installArgs(root, '--no-reload'))).stderr).toBe('');
    expect(readdirSync(at(root, MU))).toContain(stale);
    writeFileSync(at(root, CHANNELS), readFileSync(at(root, CHANNELS), 'utf8').replace("'timeout' => 600", "'timeout' => 1"));

    const r = await runMain(installArgs(root, '--no-reload'));

    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`removed ${MU}/${stale}, left by an interrupted run\n`);
    expect(readdirSync(at(root, MU)).sort()).toEqual([...keep, 'wp-coding-agents-channels.php', 'wp-coding-agents-cli-transport.php'].sort());
  });

  it('a file that changed between planning and applying (a writer ignoring the lock) is not overwritten', async () => {
    const root = sandbox({ 'site/a.php': '<?php echo 1;\n' });
    const change = fileChange('/site/a.php', '<?php echo 0;\n', '<?php echo 2;\n', 0o644, 0o644);
    await expect(applyPlan({ changes: [change], directories: [], identities: {}, notes: [] }, root)).rejects.toThrow(
      '/site/a.php changed while bridgectl was planning; nothing was written',
    );
    expect(readFileSync(at(root, '/site/a.php'), 'utf8')).toBe('<?php echo 1;\n');
  });
});

describe('validation blames the right party', () => {
  (hasPhp ? it : it.skip)('a file whose own text (outside our blocks) is broken PHP: refused, and the hint says the damage is already there', async () => {
    const root = serverSandbox();
    await runMain(installArgs(root, '--no-reload'));
    const broken = readFileSync(at(root, CHANNELS), 'utf8').replace('return $channels;', 'return $channels') + '\n';
    writeFileSync(at(root, CHANNELS), broken.replace("'timeout' => 600", "'timeout' => 5"));
    const before = snapshot(at(root, CHANNELS));

    const r = await runMain(installArgs(root, '--no-reload'));

    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/fails php -l: .*syntax error/);
    expect(r.stderr).toContain('the file on disk already fails this check, so the problem is outside bridgectl');
    expect(snapshot(at(root, CHANNELS))).toEqual(before);
  });
});
