/**
 * Symlinks at a managed path, or at a directory between --site and it, are
 * refused with an error naming the link, and what the link points to is
 * never written. --site itself may be a link (Capistrano's current ->
 * releases/N); --allow-symlinked-dirs accepts linked directories below it.
 */
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bridgeSandbox } from '../helpers/bridge-sandbox.js';
import { runBin, runMain } from '../helpers/cli.js';
import { isRoot, serverSandbox, SITE, SVC_GID, SVC_UID } from '../helpers/sandbox.js';
import { snapshot as treeSnapshot } from '../helpers/tree.js';
import { at, CHANNELS, installArgs, leftovers, MU, snapshot } from '../helpers/safety.js';

const UNIT = '/etc/systemd/system/kimaki.service';

describe('symlinks are refused', () => {
  it('a symlink at the channels file: the target keeps its bytes', () => {
    const root = serverSandbox({ 'etc/important.php': '<?php // not yours\n' });
    mkdirSync(at(root, MU), { recursive: true });
    symlinkSync(at(root, '/etc/important.php'), at(root, CHANNELS));
    const target = snapshot(at(root, '/etc/important.php'));

    const r = runBin(installArgs(root));

    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${CHANNELS} is a symlink`);
    expect(snapshot(at(root, '/etc/important.php'))).toEqual(target);
    expect(lstatSync(at(root, CHANNELS)).isSymbolicLink()).toBe(true);
    expect(existsSync(at(root, UNIT))).toBe(false);
  });

  it('a dangling symlink at the channels file is not followed to create its target', () => {
    const root = serverSandbox();
    mkdirSync(at(root, MU), { recursive: true });
    symlinkSync(at(root, '/etc/created-through-link.php'), at(root, CHANNELS));
    const r = runBin(installArgs(root));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${CHANNELS} is a symlink`);
    expect(existsSync(at(root, '/etc/created-through-link.php'))).toBe(false);
  });

  it.each([
    ['mu-plugins', `${SITE}/wp-content/mu-plugins`],
    ['wp-content', `${SITE}/wp-content`],
  ])('a symlinked %s directory: refused, naming it; its target untouched', (_name, linked) => {
    const root = serverSandbox();
    const elsewhere = at(root, '/srv/elsewhere');
    mkdirSync(elsewhere, { recursive: true });
    if (linked.endsWith('wp-content')) {
      renameSync(at(root, linked), elsewhere + '/wp-content');
      symlinkSync(elsewhere + '/wp-content', at(root, linked));
    } else {
      symlinkSync(elsewhere, at(root, linked));
    }
    const before = leftovers(elsewhere);

    const r = runBin(installArgs(root));

    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${linked} is a symlink`);
    expect(r.stderr).toContain('--allow-symlinked-dirs');
    expect(leftovers(elsewhere)).toEqual(before);
    expect(existsSync(path.join(elsewhere, 'wp-coding-agents-channels.php'))).toBe(false);
    expect(existsSync(path.join(elsewhere, 'wp-content/mu-plugins'))).toBe(false);
  });

  it('--allow-symlinked-dirs writes through a linked directory (never a linked file)', async () => {
    const root = serverSandbox();
    const shared = at(root, '/srv/shared/mu-plugins');
    mkdirSync(shared, { recursive: true });
    symlinkSync(shared, at(root, MU));
    const r = await runMain(installArgs(root, '--allow-symlinked-dirs', '--no-reload'));
    expect(r.code).toBe(0);
    expect(readFileSync(path.join(shared, 'wp-coding-agents-channels.php'), 'utf8')).toContain('// BEGIN bridge:kimaki');
    expect(lstatSync(at(root, MU)).isSymbolicLink()).toBe(true);
  });

  it('--site may itself be a symlink (Capistrano: current -> releases/N)', async () => {
    const root = serverSandbox();
    renameSync(at(root, SITE), at(root, '/var/www/releases-1'));
    symlinkSync(at(root, '/var/www/releases-1'), at(root, SITE));
    const r = await runMain(installArgs(root, '--no-reload'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(at(root, '/var/www/releases-1/wp-content/mu-plugins/wp-coding-agents-channels.php'), 'utf8')).toContain('bridge:kimaki');
  });

  it('a symlinked unit file: refused, its target untouched', async () => {
    const root = serverSandbox();
    await runMain(installArgs(root, '--no-reload'));
    const real = at(root, '/lib/systemd/system/kimaki.service');
    mkdirSync(path.dirname(real), { recursive: true });
    writeFileSync(real, readFileSync(at(root, UNIT), 'utf8').replace('User=opencode', 'User=root'));
    renameSync(at(root, UNIT), at(root, UNIT) + '.old');
    symlinkSync(real, at(root, UNIT));
    const before = snapshot(real);

    const r = runBin(installArgs(root));

    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${UNIT} is a symlink`);
    expect(snapshot(real)).toEqual(before);
  });
});

/**
 * A directory bridgectl creates for the service user (telegram's
 * ~/.config/opencode-telegram-bot, a data dir) is created as root inside a
 * directory that user controls: a symlink there could send root's mkdir and
 * chown anywhere. The race (swapping a component between two system calls)
 * is simulated by planting the link before the run.
 */
describe('directories created under a directory the service user controls', () => {
  const TOKEN = '5555555555:AAsecret-token_never_printed';
  const HOME = '/home/opencode';
  const telegram = (root: string): string[] => ['install', '--bridge', 'telegram', '--site', SITE, '--service-user', 'opencode', '--root', root];

  /** The home is the service user's (as root) or writable by others (as anyone else): only then is a link in it untrusted. */
  function userControlledHome(root: string): void {
    if (isRoot) chownSync(at(root, HOME), SVC_UID, SVC_GID);
    else chmodSync(at(root, HOME), 0o777);
  }

  it.each([
    ['to an existing directory', true],
    ['dangling', false],
  ])('a symlinked ~/.config (%s) is refused, and nothing is created or written through it', (_name, targetExists) => {
    const root = bridgeSandbox();
    userControlledHome(root);
    const elsewhere = at(root, '/etc/elsewhere');
    if (targetExists) mkdirSync(elsewhere);
    symlinkSync(elsewhere, at(root, `${HOME}/.config`));
    const before = treeSnapshot(at(root, '/etc'));

    const r = runBin(telegram(root), { env: { TELEGRAM_BOT_TOKEN: TOKEN } });

    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${HOME}/.config is a symlink`);
    expect(existsSync(path.join(elsewhere, 'opencode-telegram-bot'))).toBe(false);
    expect(existsSync(elsewhere)).toBe(targetExists);
    expect(treeSnapshot(at(root, '/etc'))).toEqual(before);
    expect(existsSync(at(root, CHANNELS))).toBe(false);
    expect(existsSync(at(root, '/etc/bridgectl/telegram.curl'))).toBe(false);
  });

  it('without the link, both directories are created one by one, the service user\'s, 0700', () => {
    const root = bridgeSandbox();
    const r = runBin(telegram(root), { env: { TELEGRAM_BOT_TOKEN: TOKEN } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const dir of [`${HOME}/.config`, `${HOME}/.config/opencode-telegram-bot`]) {
      const st = lstatSync(at(root, dir));
      expect(st.isDirectory()).toBe(true);
      expect(st.mode & 0o777).toBe(0o700);
      expect([st.uid, st.gid]).toEqual([SVC_UID, SVC_GID]);
    }
  });
});
