/**
 * Identity resolution, in memory: flags beat the bash installer's env names,
 * which beat what is installed, which beats passwd defaults.
 */
import { ccConnect } from '../../bridges/cc-connect.js';
import { kimaki } from '../../bridges/kimaki.js';
import { telegram } from '../../bridges/telegram.js';
import type { BridgeDefinition } from '../../installer/model/bridge.js';
import { IdentityError, UsageError } from '../../installer/model/errors.js';
import { resolveIdentity } from '../../installer/identity/identity.js';
import { type Adopted, type Identity, type IdentityFlags } from '../../installer/model/identity.js';
import { CHUBES, dir, exe, fakeHost, ROOT, WWW, type FakeHostSpec } from '../helpers/fake-host.js';

const SITE = '/var/www/site';
const GHOST = { name: 'ghost', uid: 1500, gid: 1500, home: '/home/ghost', shell: '/bin/bash' };

const baseFiles: FakeHostSpec['files'] = {
  '/root': dir(0, 0, 0o700),
  '/home/chubes': dir(1000, 1000, 0o750),
  '/var/www': dir(0, 0, 0o755),
  [SITE]: dir(),
  '/usr/local/bin/kimaki': exe(),
  '/usr/bin/cc-connect': exe(),
  '/home/chubes/.local/bin/opencode-telegram': exe(1000),
  '/usr/bin/opencode': exe(),
};

interface Case {
  name: string;
  bridge?: BridgeDefinition;
  flags?: IdentityFlags;
  adopted?: Adopted;
  env?: Record<string, string>;
  platform?: NodeJS.Platform;
  files?: FakeHostSpec['files'];
  expect: Partial<Identity> | { error: typeof IdentityError | typeof UsageError; message: RegExp };
  notes?: RegExp[];
}

const cases: Case[] = [
  // who runs it
  { name: '--service-user pins that user\'s passwd home', flags: { serviceUser: 'chubes' }, expect: { serviceUser: 'chubes', uid: 1000, home: '/home/chubes', dataDir: '/home/chubes/.kimaki' } },
  { name: 'env SERVICE_USER (bash installer name)', env: { SERVICE_USER: 'chubes' }, expect: { serviceUser: 'chubes', home: '/home/chubes' } },
  { name: 'a flag beats the env', flags: { serviceUser: 'root' }, env: { SERVICE_USER: 'chubes' }, expect: { serviceUser: 'root', home: '/root', dataDir: '/root/.kimaki' } },
  { name: '--run-as-root pins /root', flags: { runAsRoot: true }, expect: { serviceUser: 'root', uid: 0, home: '/root' } },
  { name: 'env RUN_AS_ROOT=true', env: { RUN_AS_ROOT: 'true' }, expect: { serviceUser: 'root', home: '/root' } },
  { name: '--service-user and --run-as-root contradict', flags: { serviceUser: 'chubes', runAsRoot: true }, expect: { error: UsageError, message: /contradict/ } },
  // adoption
  {
    name: 'no flags: the installed identity is adopted as is',
    adopted: { user: 'chubes', home: '/home/chubes', dataDir: '/home/chubes/kimaki-data', binaries: { kimaki: '/opt/kimaki/bin/kimaki' } },
    expect: { serviceUser: 'chubes', home: '/home/chubes', dataDir: '/home/chubes/kimaki-data', binary: '/opt/kimaki/bin/kimaki' },
  },
  { name: 'an installed HOME alone identifies its one owner', adopted: { home: '/home/chubes' }, expect: { serviceUser: 'chubes', home: '/home/chubes' } },
  {
    name: 'a flag that changes the installed user is a note',
    flags: { runAsRoot: true },
    adopted: { user: 'chubes', home: '/home/chubes' },
    expect: { serviceUser: 'root', home: '/root' },
    notes: [/service user changes from the installed chubes to root/, /HOME changes from the installed \/home\/chubes to \/root/],
  },
  {
    name: 'a flag that changes the installed binary is a note',
    flags: { binary: '/usr/local/bin/kimaki' },
    adopted: { user: 'chubes', binaries: { kimaki: '/opt/kimaki' } },
    expect: { binary: '/usr/local/bin/kimaki' },
    notes: [/binary changes from the installed \/opt\/kimaki to \/usr\/local\/bin\/kimaki/],
  },
  // data dir
  { name: '--data-dir beats KIMAKI_DATA_DIR', flags: { serviceUser: 'chubes', dataDir: '/srv/a' }, env: { KIMAKI_DATA_DIR: '/srv/b' }, expect: { dataDir: '/srv/a' } },
  { name: 'KIMAKI_DATA_DIR beats the installed one', adopted: { user: 'chubes', home: '/home/chubes', dataDir: '/srv/old' }, env: { KIMAKI_DATA_DIR: '/srv/b' }, expect: { dataDir: '/srv/b' }, notes: [/data dir changes from the installed \/srv\/old to \/srv\/b/] },
  { name: 'cc-connect reads CC_DATA_DIR', bridge: ccConnect, flags: { serviceUser: 'chubes' }, env: { CC_DATA_DIR: '/srv/cc' }, expect: { dataDir: '/srv/cc', binary: '/usr/bin/cc-connect' } },
  { name: 'cc-connect default data dir is under the pinned home', bridge: ccConnect, flags: { runAsRoot: true }, env: { KIMAKI_DATA_DIR: '/srv/k' }, expect: { dataDir: '/root/.cc-connect' } },
  { name: 'a relative data dir is refused', flags: { serviceUser: 'chubes', dataDir: 'data' }, expect: { error: UsageError, message: /must be an absolute path/ } },
  { name: 'telegram keeps its files in a fixed dir', bridge: telegram, flags: { serviceUser: 'chubes', dataDir: '/srv/t' }, expect: { error: UsageError, message: /does not apply to telegram/ } },
  // binaries
  { name: 'binaries are searched under the service user\'s home too', bridge: telegram, flags: { serviceUser: 'chubes' }, expect: { binary: '/home/chubes/.local/bin/opencode-telegram', binaries: { 'opencode-telegram': '/home/chubes/.local/bin/opencode-telegram', opencode: '/usr/bin/opencode' } } },
  { name: 'a missing binary is an error naming it', flags: { serviceUser: 'chubes' }, files: { '/usr/local/bin/kimaki': dir() }, expect: { error: IdentityError, message: /no executable 'kimaki' found in \/usr\/local\/bin\/kimaki, .*\/home\/chubes\/.local\/bin\/kimaki/ } },
  { name: '--binary needs no binary on the path', flags: { serviceUser: 'chubes', binary: '/opt/k/kimaki' }, files: { '/usr/local/bin/kimaki': dir(), '/opt/k/kimaki': exe() }, expect: { binary: '/opt/k/kimaki' } },
  // #19 item 4: a mistyped --binary is refused, naming what is wrong, unless --allow-missing-binary
  { name: 'a --binary that does not exist', flags: { serviceUser: 'chubes', binary: '/usr/local/bin/nokimaki' }, expect: { error: IdentityError, message: /^--binary \/usr\/local\/bin\/nokimaki: \/usr\/local\/bin\/nokimaki does not exist$/ } },
  { name: 'a --binary that is a directory', flags: { serviceUser: 'chubes', binary: '/opt/k' }, files: { '/opt/k': dir() }, expect: { error: IdentityError, message: /\/opt\/k is a directory, not an executable file/ } },
  { name: 'a --binary that is not executable', flags: { serviceUser: 'chubes', binary: '/opt/k/kimaki' }, files: { '/opt/k/kimaki': { content: '#!/bin/sh\n', mode: 0o644 } }, expect: { error: IdentityError, message: /\/opt\/k\/kimaki is not executable \(mode 0644\)/ } },
  { name: 'a --binary NAME=PATH that does not exist', bridge: telegram, flags: { runAsRoot: true, binaries: { 'opencode-telegram': '/opt/tg', opencode: '/opt/oc' } }, files: { '/opt/tg': exe() }, expect: { error: IdentityError, message: /^--binary opencode=\/opt\/oc: \/opt\/oc does not exist$/ } },
  { name: '--allow-missing-binary takes one that does not exist (yet)', flags: { serviceUser: 'chubes', binary: '/opt/k/kimaki', allowMissingBinary: true }, expect: { binary: '/opt/k/kimaki' } },
  { name: 'a root install does not search another user\'s home', bridge: telegram, flags: { runAsRoot: true }, expect: { error: IdentityError, message: /no executable 'opencode-telegram'.*\/root\/.local\/bin/ } },
  { name: '--binary NAME=PATH names a service binary', bridge: telegram, flags: { runAsRoot: true, binaries: { 'opencode-telegram': '/opt/tg', opencode: '/opt/oc' } }, files: { '/opt/tg': exe(), '/opt/oc': exe() }, expect: { binary: '/opt/tg', binaries: { 'opencode-telegram': '/opt/tg', opencode: '/opt/oc' } } },
  // what must exist
  { name: 'a user missing from passwd', flags: { serviceUser: 'nobody-here' }, expect: { error: IdentityError, message: /service user 'nobody-here' does not exist/ } },
  { name: 'a missing home', flags: { serviceUser: 'ghost' }, expect: { error: IdentityError, message: /home \/home\/ghost of service user 'ghost' does not exist/ } },
  { name: 'a home the user cannot write', flags: { serviceUser: 'chubes' }, files: { '/home/chubes': dir(0, 0, 0o755) }, expect: { error: IdentityError, message: /home \/home\/chubes of service user 'chubes' is not writable by it \(owner root:root, mode 0755\)/ } },
  { name: 'www-data\'s /var/www is not a home a bridge can use', flags: { serviceUser: 'www-data' }, expect: { error: IdentityError, message: /\/var\/www .* not writable/ } },
  { name: 'nothing says who', expect: { error: IdentityError, message: /no service identity for kimaki/ } },
  { name: 'an installed HOME nobody owns', adopted: { home: '/home/gone' }, expect: { error: IdentityError, message: /HOME \/home\/gone does not identify one user \(no user has that home\)/ } },
  // init system
  { name: 'linux defaults to systemd', flags: { runAsRoot: true }, expect: { init: 'systemd' } },
  { name: 'macOS defaults to launchd', flags: { runAsRoot: true }, platform: 'darwin', expect: { init: 'launchd' } },
  { name: 'the installed init wins over the platform', adopted: { user: 'root', init: 'launchd' }, expect: { init: 'launchd' } },
  { name: '--init that switches is a note', flags: { runAsRoot: true, init: 'launchd' }, adopted: { user: 'root', init: 'systemd' }, expect: { init: 'launchd' }, notes: [/init system changes from the installed systemd to launchd/] },
];

describe('resolveIdentity', () => {
  it.each(cases)('$name', (c) => {
    const host = fakeHost({
      users: [ROOT, WWW, CHUBES, GHOST],
      env: c.env ?? {},
      platform: c.platform ?? 'linux',
      files: { ...baseFiles, ...c.files },
    });
    const run = () => resolveIdentity(c.bridge ?? kimaki, c.flags ?? {}, c.adopted ?? {}, SITE, host);
    if ('error' in c.expect) {
      const { error, message } = c.expect;
      expect(run).toThrow(error);
      expect(run).toThrow(message);
      return;
    }
    const { identity, notes } = run();
    expect(identity).toMatchObject(c.expect);
    expect(identity.site).toBe(SITE);
    for (const note of c.notes ?? []) expect(notes.some((n) => note.test(n))).toBe(true);
    if (!c.notes) expect(notes).toEqual([]);
  });
});
