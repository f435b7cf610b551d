/**
 * What upgrade keeps from an installed systemd unit, read back and rendered
 * again. Pure.
 */
import { kimaki } from '../../bridges/kimaki.js';
import type { Identity } from '../../installer/identity.js';
import { keptSettings, parseSystemdUnit, renderSystemdUnit } from '../../installer/units.js';

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
const spec = kimaki.services(identity)[0]!;

describe('ExecStartPre=', () => {
  const hooks = ['/usr/local/bin/first-hook --a', '-/usr/local/bin/second-hook', '+/usr/bin/third'];

  it('reads every line, in file order', () => {
    const text = renderSystemdUnit(spec).replace(/^ExecStart=/m, `${hooks.map((h) => `ExecStartPre=${h}\n`).join('')}ExecStart=`);
    expect(parseSystemdUnit(text).execStartPre).toEqual(hooks);
  });

  it('renders every kept line, in order, before ExecStart=, and reads back what it rendered', () => {
    const text = renderSystemdUnit(spec, { env: [], execStartPre: hooks });
    expect(text).toMatch(/^ExecStartPre=\/usr\/local\/bin\/first-hook --a\nExecStartPre=-\/usr\/local\/bin\/second-hook\nExecStartPre=\+\/usr\/bin\/third\nExecStart=/m);
    const kept = keptSettings(parseSystemdUnit(text), spec.systemdEnv.map(([k]) => k));
    expect(renderSystemdUnit(spec, kept)).toBe(text);
  });

  it('a unit without one renders none (and reads back none)', () => {
    const text = renderSystemdUnit(spec);
    expect(text).not.toContain('ExecStartPre');
    expect(parseSystemdUnit(text).execStartPre).toBeUndefined();
  });
});
