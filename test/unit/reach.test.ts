import { chmodSync, mkdirSync, symlinkSync } from 'node:fs';
import { nodeHost } from '../../installer/facts/host.js';
import { ancestors, dirWritable, realPath } from '../../installer/lib/reach.js';
import { at, sandbox } from '../helpers/sandbox.js';

describe('ancestors', () => {
  it('lists the directories above a path, from / down', () => {
    expect(ancestors('/a/b/c')).toEqual(['/', '/a', '/a/b']);
    expect(ancestors('/a')).toEqual(['/']);
    expect(ancestors('/')).toEqual(['/']);
  });
});

describe('realPath resolves symlinks in server space', () => {
  it('re-roots absolute targets, follows relative ones, keeps missing tails', () => {
    const root = sandbox({ 'opt/real/bin/tool': '' });
    mkdirSync(at(root, '/usr/bin'), { recursive: true });
    symlinkSync('/opt/real', at(root, '/opt/link'));
    symlinkSync('../../opt/link/bin/tool', at(root, '/usr/bin/tool'));
    const host = nodeHost(root, {});
    expect(realPath(host, '/usr/bin/tool')).toBe('/opt/real/bin/tool');
    expect(realPath(host, '/opt/link/missing/x')).toBe('/opt/real/missing/x');
  });

  it('gives up on a loop instead of spinning', () => {
    const root = sandbox();
    symlinkSync('/b', at(root, '/a'));
    symlinkSync('/a', at(root, '/b'));
    expect(realPath(nodeHost(root, {}), '/a/x')).toMatch(/^\/[ab]\/x$/);
  });
});

describe('dirWritable', () => {
  it('decides a missing directory on its nearest existing ancestor', () => {
    const root = sandbox();
    mkdirSync(at(root, '/srv'));
    const host = nodeHost(root, {});
    const nobody = { uid: 4242, gids: [4242] };
    expect(dirWritable(host, { uid: 0, gids: [0] }, '/srv/a/b')).toEqual({ decidedOn: '/srv', exists: false });
    // An unrelated user's answer follows /srv's "other" bits: set them explicitly, both ways.
    chmodSync(at(root, '/srv'), 0o777);
    expect(dirWritable(host, nobody, '/srv/a/b')).toEqual({ decidedOn: '/srv', exists: false });
    chmodSync(at(root, '/srv'), 0o755);
    const denied = dirWritable(host, nobody, '/srv/a/b');
    expect(denied.decidedOn).toBe('/srv');
    expect(denied.denial).toBeDefined();
  });
});
