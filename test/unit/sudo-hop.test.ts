import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { ccConnect } from '../../bridges/cc-connect.js';
import { kimaki } from '../../bridges/kimaki.js';
import type { ChannelSpec } from '../../installer/model/channel.js';
import { RenderError } from '../../installer/model/errors.js';
import type { Identity } from '../../installer/model/identity.js';
import { hopPaths } from '../../installer/lib/paths.js';
import { grantCommands, recipientPattern, renderHop, type HopRenderInput } from '../../installer/render/sudo-hop.js';
import { parseGrant } from '../../installer/plan/hop-installed.js';
import { type SudoHopSpec } from '../../installer/model/sudo.js';
import { detectSudoVersion } from '../../installer/facts/sudo.js';
import { parseSudoVersion, supportsSudoersRegex } from '../../installer/lib/sudo-version.js';
import { runnerOf } from '../../installer/process/run.js';

const identity: Identity = {
  serviceUser: 'opencode',
  uid: 1001,
  gid: 1001,
  home: '/home/opencode',
  dataDir: '/home/opencode/.kimaki',
  binary: '/usr/local/bin/kimaki',
  binaries: { kimaki: '/usr/local/bin/kimaki' },
  site: '/var/www/html',
  init: 'systemd',
};
const kimakiHop = kimaki.sudoHop as SudoHopSpec;
const kimakiChannel = kimaki.channel(identity, {}) as ChannelSpec;

function input(over: Partial<HopRenderInput> = {}): HopRenderInput {
  return { bridge: kimaki, hop: kimakiHop, identity, channel: kimakiChannel, webUsers: ['www-data'], form: 'regex', cliPath: '/usr/local/bin:/usr/bin:/bin', ...over };
}

/** cc-connect: `send <project>`, a safe name, and an argv that depends on the identity (--data-dir). */
const ccIdentity: Identity = { ...identity, dataDir: '/home/opencode/.cc-connect', binary: '/usr/local/bin/cc-connect', binaries: { 'cc-connect': '/usr/local/bin/cc-connect' } };
const ccHop = ccConnect.sudoHop as SudoHopSpec;
const cc = ccConnect;
const ccChannel = ccConnect.channel(ccIdentity, {}) as ChannelSpec;
const ccInput = (over: Partial<HopRenderInput> = {}): HopRenderInput => input({ bridge: cc, hop: ccHop, identity: ccIdentity, channel: ccChannel, ...over });

describe('hop paths', () => {
  it('are built from fixed parts and the bridge id', () => {
    expect(hopPaths('kimaki')).toEqual({
      target: '/usr/local/lib/bridgectl/kimaki-dispatch-target',
      wrapper: '/usr/local/bin/bridgectl-kimaki-dispatch',
      sudoers: '/etc/sudoers.d/bridgectl-kimaki',
    });
  });

  it("never give the drop-in a name Debian's @includedir skips ('.' or a trailing '~')", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,20}$/), (id) => {
        const name = hopPaths(id).sudoers.slice('/etc/sudoers.d/'.length);
        expect(name).toMatch(/^[a-z0-9_-]+$/);
        expect(name.endsWith('~')).toBe(false);
      }),
    );
    for (const bad of ['a.b', '../x', 'x/y', 'Kimaki', 'k~', '', '.k']) expect(() => hopPaths(bad)).toThrow(RenderError);
  });
});

describe('the grant', () => {
  it('is the exact argv shape: a regex for kimaki', () => {
    expect(grantCommands('/t', kimakiHop, 'regex')).toBe('/t ^send [0-9]+$');
    expect(grantCommands('/t', ccHop, 'regex')).toBe('/t ^send [A-Za-z0-9][A-Za-z0-9_.-]*$');
  });

  it('or wildcards with a negated entry that refuses any later character outside the set', () => {
    expect(grantCommands('/t', kimakiHop, 'wildcard')).toBe('/t send [0-9]*, !/t send ?*[!0-9]*');
    expect(grantCommands('/t', ccHop, 'wildcard')).toBe('/t send [A-Za-z0-9]*, !/t send ?*[!A-Za-z0-9_.-]*');
  });

  it('renders a drop-in naming only the web users, the service user and the target', () => {
    const { sudoers } = renderHop(input({ webUsers: ['www-data', 'www-data', 'nginx'] }));
    const rules = sudoers.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(rules).toEqual([
      'Defaults!/usr/local/lib/bridgectl/kimaki-dispatch-target !requiretty',
      'www-data, nginx ALL=(opencode) NOPASSWD: /usr/local/lib/bridgectl/kimaki-dispatch-target ^send [0-9]+$',
    ]);
    // A comment starting '#include' would be a directive.
    expect(sudoers).not.toMatch(/^#include/m);
    expect(parseGrant(sudoers, hopPaths('kimaki').target)).toEqual({ webUsers: ['www-data', 'nginx'], serviceUser: 'opencode', form: 'regex' });
    expect(parseGrant(renderHop(input({ form: 'wildcard' })).sudoers, hopPaths('kimaki').target)?.form).toBe('wildcard');
    // A hand-widened grant still says whom it is for, so upgrade narrows it for the same users.
    expect(parseGrant('Defaults!/x !requiretty\nbctlweb ALL=(svc) NOPASSWD: ALL\n', hopPaths('kimaki').target)).toEqual({ webUsers: ['bctlweb'], serviceUser: 'svc' });
    expect(parseGrant('# nothing\n', hopPaths('kimaki').target)).toBeUndefined();
  });

  it('refuses user names sudoers would misread', () => {
    for (const bad of ['www data', 'a,b', 'ALL', '%sudo', 'x=y', '#0', 'a:b', '']) {
      expect(() => renderHop(input({ webUsers: [bad] }))).toThrow(RenderError);
    }
    expect(() => renderHop(input({ identity: { ...identity, serviceUser: 'ALL' } }))).toThrow(RenderError);
  });
});

describe('the scripts', () => {
  it('pass sh -n', () => {
    for (const over of [{}, ccInput()]) {
      const out = renderHop(input(over));
      for (const script of [out.target, out.wrapper]) {
        const r = spawnSync('/bin/sh', ['-n'], { input: script, encoding: 'utf8' });
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
      }
    }
  });

  it('carry every value shell-quoted, and the CLI argv from the descriptor', () => {
    const odd: Identity = { ...identity, serviceUser: 'svc', home: "/srv/it's home", dataDir: "/srv/it's home/.kimaki", binary: '/opt/k $(x)/kimaki' };
    const { target, wrapper } = renderHop(input({ identity: odd, channel: kimaki.channel(odd, {}) as ChannelSpec }));
    expect(target).toContain(`CLI='/opt/k $(x)/kimaki'`);
    expect(target).toContain(`DATA_DIR='/srv/it'\\''s home/.kimaki'`);
    expect(target).toContain(`exec /usr/bin/env -i 'HOME=/srv/it'\\''s home' 'KIMAKI_DATA_DIR=/srv/it'\\''s home/.kimaki' 'PATH=/usr/local/bin:/usr/bin:/bin' "$CLI" 'send' '--channel' "$recipient" '--prompt='"$message"`);
    expect(wrapper).toContain(`[ "$#" -eq 5 ] || die 64`);
    expect(wrapper).toContain(`recipient=\${3}\nmessage=\${5}\n`);
  });

  it('take the wrapper argv from the channel and the CLI argv from the descriptor (cc-connect)', () => {
    const { target, wrapper } = renderHop(ccInput());
    expect(wrapper).toContain(`[ "$#" -eq 4 ] || die 64`);
    expect(wrapper).toContain(`[ "\${2}" = '--project' ]`);
    expect(wrapper).toContain(`recipient=\${3}\nmessage=\${4}\n`);
    expect(target).toContain(`exec /usr/bin/env -i 'HOME=/home/opencode' 'PATH=/usr/local/bin:/usr/bin:/bin' "$CLI" 'send' '--project' "$recipient" '--message' "$message"\n`);
    expect(target).toContain(`''|[!A-Za-z0-9]*|?*[!A-Za-z0-9_.-]*) die 64`);
  });

  it('pass a data dir other than the default as --data-dir, to the wrapper check and the CLI alike (cc-connect)', () => {
    const moved: Identity = { ...ccIdentity, dataDir: '/srv/cc data' };
    const { target, wrapper } = renderHop(ccInput({ identity: moved, channel: ccConnect.channel(moved, {}) as ChannelSpec }));
    expect(wrapper).toContain(`[ "$#" -eq 6 ] || die 64`);
    expect(wrapper).toContain(`[ "\${2}" = '--data-dir' ]`);
    expect(wrapper).toContain(`[ "\${3}" = '/srv/cc data' ]`);
    expect(wrapper).toContain(`recipient=\${5}\nmessage=\${6}\n`);
    expect(target).toContain(`"$CLI" 'send' '--data-dir' '/srv/cc data' '--project' "$recipient" '--message' "$message"\n`);
    expect(target).toContain(`DATA_DIR='/srv/cc data'\n`);
  });

  it('refuse descriptors that could not be matched safely', () => {
    const bad: [string, Partial<SudoHopSpec>][] = [
      ['subcommand with a space', { subcommand: 'send now' }],
      ['charset with a bracket', { recipient: { ...kimakiHop.recipient, rest: '0-9]' } }],
      ['charset with #', { recipient: { ...kimakiHop.recipient, first: '#0-9' } }],
      ['charset with a space', { recipient: { ...kimakiHop.recipient, rest: '0-9 ' } }],
      ['sample not matching', { recipient: { ...kimakiHop.recipient, sample: 'abc' } }],
      ['cli without the message', { cli: ['send', '{recipient}'] }],
    ];
    for (const [, over] of bad) expect(() => renderHop(input({ hop: { ...kimakiHop, ...over } }))).toThrow(RenderError);
    expect(() => renderHop(input({ channel: { ...kimakiChannel, args: ['send', '{recipient}'] } }))).toThrow(/needs \{recipient\} and \{message\}/);
    expect(() => renderHop(input({ channel: { ...kimakiChannel, args: ['send', '{recipient}', '{message}', '{conversation_id}'] } }))).toThrow(/cannot carry/);
  });

  it("accept exactly the recipients the descriptor's regex does (sh case vs bridgectl)", () => {
    const { target } = renderHop(ccInput());
    const refused = /case \$recipient in\n {4}(.*)\) die 64/.exec(target)?.[1] ?? '';
    const samples = fc.sample(fc.string({ unit: fc.constantFrom('a', 'Z', '0', '9', '_', '.', '-', ' ', '/', '$', '*', '[', ']', '!', 'é', '\n'), maxLength: 6 }), 400);
    samples.push('', '-rf', '.', '..', 'a b', 'my-project', '_x.y-z', 'x.y-z_', '-', '--help');
    const r = spawnSync('/bin/sh', ['-c', `for r in "$@"; do case $r in ${refused}) printf 0 ;; *) printf 1 ;; esac; done`, 'sh', ...samples], { encoding: 'utf8' });
    const pattern = recipientPattern(ccHop);
    expect([...r.stdout].map((c) => c === '1')).toEqual(samples.map((s) => pattern.test(s)));
  });
});

describe('sudo version', () => {
  it.each([
    ['Sudo version 1.9.13p3\nConfigure options: …', '1.9.13p3', true],
    ['Sudo version 1.9.10', '1.9.10', true],
    ['Sudo version 1.9.9', '1.9.9', false],
    ['Sudo version 1.8.31', '1.8.31', false],
    ['Sudo version 2.0', '2.0', true],
  ])('%j → %s, regex %s', (output, text, regex) => {
    const v = parseSudoVersion(output);
    expect(v?.text).toBe(text);
    expect(v && supportsSudoersRegex(v)).toBe(regex);
  });

  it('is undefined for anything else, and when no sudo is found', () => {
    expect(parseSudoVersion('sudo: command not found')).toBeUndefined();
    const calls: string[] = [];
    const run = runnerOf((file) => {
      calls.push(file);
      return file === '/b/sudo' ? { status: 0, stdout: 'Sudo version 1.9.5p2\n', stderr: '' } : { status: null, stdout: '', stderr: '', error: 'ENOENT' };
    });
    expect(detectSudoVersion(run, ['/a/sudo', '/b/sudo'])?.text).toBe('1.9.5p2');
    expect(calls).toEqual(['/a/sudo', '/b/sudo']);
    expect(detectSudoVersion(run, ['/a/sudo'])).toBeUndefined();
  });
});
