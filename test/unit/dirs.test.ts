/**
 * installer/apply/dirs.ts: directories made one component at a time, never
 * through a symlink someone else could plant — including one swapped in
 * between two steps (simulated with the beforeCreate hook), with /proc
 * (mkdir/open relative to the parent's descriptor) and without (re-verified
 * paths, as on macOS).
 */
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, renameSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { checkDirectoryPath, createDirectory } from '../../installer/apply/dirs.js';
import { isRoot, sandbox } from '../helpers/sandbox.js';

/** A directory only someone else controls: another user's (as root), else writable by everyone. */
function untrusted(dir: string): void {
  if (isRoot) chownSync(dir, 4242, 4242);
  else chmodSync(dir, 0o777);
}

const label = (root: string) => (p: string) => `/${path.relative(root, p)}`;

describe('createDirectory', () => {
  it('creates each missing component with the mode asked, whatever the umask, and the last with its owner', () => {
    const root = sandbox({ 'home/svc/.keep': '' });
    const old = process.umask(0o077);
    try {
      createDirectory(root, path.join(root, 'home/svc/.config/bot'), { mode: 0o755, last: { mode: 0o700, owner: { uid: 4242, gid: 4343 } }, strict: true });
    } finally {
      process.umask(old);
    }
    expect(lstatSync(path.join(root, 'home/svc/.config')).mode & 0o777).toBe(0o755);
    const last = lstatSync(path.join(root, 'home/svc/.config/bot'));
    expect(last.mode & 0o777).toBe(0o700);
    if (isRoot) expect([last.uid, last.gid]).toEqual([4242, 4343]);
  });

  it.each([true, false])('strict: a symlink at an existing component in a directory others control is refused; nothing is created (useProc %s)', (useProc) => {
    const root = sandbox({ 'etc/.keep': '' });
    const home = path.join(root, 'home/svc');
    mkdirSync(home, { recursive: true });
    untrusted(home);
    symlinkSync(path.join(root, 'etc'), path.join(home, '.config'));
    const target = path.join(home, '.config/bot/data');
    const options = { mode: 0o755, last: { mode: 0o700, owner: { uid: 4242, gid: 4242 } }, strict: true, label: label(root), useProc };
    expect(() => checkDirectoryPath(root, target, options)).toThrow('/home/svc/.config is a symlink in /home/svc');
    expect(() => createDirectory(root, target, options)).toThrow('/home/svc/.config is a symlink in /home/svc');
    expect(readdirSync(path.join(root, 'etc'))).toEqual(['.keep']);
  });

  it('strict: a symlink in a directory only root (or we) can write is the operator\'s layout, and is followed', () => {
    const root = sandbox();
    mkdirSync(path.join(root, 'srv/real'), { recursive: true });
    symlinkSync(path.join(root, 'srv/real'), path.join(root, 'srv/data'));
    createDirectory(root, path.join(root, 'srv/data/kimaki'), { mode: 0o755, last: { mode: 0o700 }, strict: true });
    expect(lstatSync(path.join(root, 'srv/real/kimaki')).isDirectory()).toBe(true);
  });

  it.each([true, false])('a parent swapped for a link between two steps: nothing is made through the link, nothing is chowned (useProc %s)', (useProc) => {
    const root = sandbox({ 'etc/.keep': '' });
    const home = path.join(root, 'home/svc');
    mkdirSync(home, { recursive: true });
    untrusted(home);
    const config = path.join(home, '.config');
    const target = path.join(config, 'bot');
    const swap = (next: string): void => {
      if (next !== target) return;
      // The service user, right after root made ~/.config: move it away, link it to /etc.
      renameSync(config, path.join(home, 'moved'));
      symlinkSync(path.join(root, 'etc'), config);
    };
    expect(() =>
      createDirectory(root, target, { mode: 0o755, last: { mode: 0o700, owner: { uid: 4242, gid: 4242 } }, strict: true, label: label(root), useProc, beforeCreate: swap }),
    ).toThrow(/changed while bridgectl was creating|became a symlink/);
    expect(readdirSync(path.join(root, 'etc'))).toEqual(['.keep']);
    if (useProc) {
      // The mkdir went where the descriptor pointed: into the real directory root created, never through the link.
      expect(existsSync(path.join(home, 'moved/bot'))).toBe(true);
      if (isRoot) expect(lstatSync(path.join(home, 'moved/bot')).uid).toBe(0);
    } else {
      expect(existsSync(path.join(home, 'moved/bot'))).toBe(false);
    }
  });

  it('refuses a file in the way, naming it', () => {
    const root = sandbox({ 'var/lib/x': 'a file' });
    expect(() => createDirectory(root, path.join(root, 'var/lib/x/y'), { mode: 0o755, label: label(root) })).toThrow('/var/lib/x is not a directory');
  });

  it('an existing last component gets its mode, through a descriptor; a symlinked one is refused', () => {
    const root = sandbox();
    mkdirSync(path.join(root, 'etc/bridgectl'), { recursive: true, mode: 0o700 });
    createDirectory(root, path.join(root, 'etc/bridgectl'), { mode: 0o755, last: { mode: 0o755 }, strict: true });
    expect(lstatSync(path.join(root, 'etc/bridgectl')).mode & 0o777).toBe(0o755);
    mkdirSync(path.join(root, 'elsewhere'));
    symlinkSync(path.join(root, 'elsewhere'), path.join(root, 'etc/linked'));
    expect(() => createDirectory(root, path.join(root, 'etc/linked'), { mode: 0o755, last: { mode: 0o700 }, label: label(root) })).toThrow('/etc/linked is a symlink');
    expect(lstatSync(path.join(root, 'elsewhere')).mode & 0o777).not.toBe(0o700);
  });
});
