/**
 * Which form an upgrade writes the grant in (#17 item 13): the installed
 * form counts only when bridgectl wrote that grant; a grant widened by hand
 * (`<target> *`) is replaced in the form the live sudo reads, with a note.
 */
import { kimaki } from '../../bridges/kimaki.js';
import type { ChannelSpec } from '../../installer/model/channel.js';
import type { Identity } from '../../installer/model/identity.js';
import { hopPaths } from '../../installer/lib/paths.js';
import { planDispatch } from '../../installer/plan/sudo-hop.js';
import { inspectDispatch, ownGrantForm } from '../../installer/plan/hop-installed.js';
import { renderHop } from '../../installer/render/sudo-hop.js';
import { type SudoHopSpec } from '../../installer/model/sudo.js';
import { type GrantForm } from '../../installer/model/dispatch.js';
import { parseSudoVersion } from '../../installer/lib/sudo-version.js';
import type { SudoProbe } from '../../installer/model/facts.js';
import { CHUBES, exe, fakeHost } from '../helpers/fake-host.js';

const HOP = hopPaths('kimaki');
const identity: Identity = {
  serviceUser: 'chubes',
  uid: CHUBES.uid,
  gid: CHUBES.gid,
  home: CHUBES.home,
  dataDir: `${CHUBES.home}/.kimaki`,
  binary: '/usr/local/bin/kimaki',
  binaries: { kimaki: '/usr/local/bin/kimaki' },
  site: '/var/www/html',
  init: 'none',
};
const channel = kimaki.channel(identity, {}) as ChannelSpec;
const hop = kimaki.sudoHop as SudoHopSpec;
const sudo = (version: string): SudoProbe => ({ live: true, version: parseSudoVersion(`Sudo version ${version}\n`) });
/** The grant bridgectl writes for www-data in a form. */
const own = (form: GrantForm): string => renderHop({ bridge: kimaki, hop, identity, channel, webUsers: ['www-data'], form, cliPath: '/usr/bin:/bin' }).sudoers;
const WIDENED = `www-data ALL=(chubes) NOPASSWD: ${HOP.target} *\n`;

function upgradeWith(grant: string, version: string, sudoRegex?: boolean): { sudoers: string | null; notes: string[]; form: GrantForm | undefined } {
  const host = fakeHost({ files: { '/usr/local/bin/kimaki': exe(), [HOP.sudoers]: { content: grant, mode: 0o440 } }, sudo: sudo(version) });
  const installed = inspectDispatch(kimaki, channel, host);
  const notes: string[] = [];
  const plan = planDispatch({
    bridge: kimaki, identity, spec: channel, installed, host, notes, action: 'upgrade',
    flags: sudoRegex === undefined ? {} : { sudoRegex },
  });
  return { sudoers: plan.files.find((f) => f.path === HOP.sudoers)?.after ?? null, notes, form: plan.hop?.form };
}

describe('the grant form on upgrade', () => {
  it('a grant widened by hand to `<target> *` is put back in the regex form on a sudo that reads regexes, with a note', () => {
    const r = upgradeWith(WIDENED, '1.9.13p3');
    expect(r.form).toBe('regex');
    expect(r.sudoers).toBe(own('regex'));
    expect(r.notes).toContain(`kimaki: ${HOP.sudoers} is not a grant bridgectl wrote (edited by hand, or by another version): it is replaced with bridgectl's own, in the regex form`);
  });

  it('and in the wildcard form on a sudo older than 1.9.10', () => {
    const r = upgradeWith(WIDENED, '1.9.5p2');
    expect(r.sudoers).toBe(own('wildcard'));
    expect(r.notes.some((n) => n.includes('is not a grant bridgectl wrote'))).toBe(true);
  });

  it('a wildcard grant bridgectl wrote (e.g. --no-sudo-regex) is kept as it is, without a note', () => {
    const r = upgradeWith(own('wildcard'), '1.9.13p3');
    expect(r.sudoers).toBe(own('wildcard'));
    expect(r.notes).toEqual([]);
  });

  it('--sudo-regex still wins over a foreign grant', () => {
    expect(upgradeWith(WIDENED, '1.9.5p2', true).sudoers).toBe(own('regex'));
  });

  it('counts a grant as bridgectl\'s only when it is byte for byte one of its renderings', () => {
    const host = (grant: string) => fakeHost({ files: { [HOP.sudoers]: grant } });
    const formOf = (grant: string) => ownGrantForm(kimaki, hop, inspectDispatch(kimaki, channel, host(grant)));
    expect(formOf(own('regex'))).toBe('regex');
    expect(formOf(own('wildcard'))).toBe('wildcard');
    expect(formOf(WIDENED)).toBeUndefined();
    expect(formOf(`${own('wildcard')}# a comment added by hand\n`)).toBeUndefined();
    expect(formOf(own('wildcard').replace(`${HOP.target} send [0-9]*, !${HOP.target} send ?*[!0-9]*`, `${HOP.target} send [0-9]*`))).toBeUndefined();
  });
});
