/**
 * What upgrade keeps from an installed systemd unit, read back and rendered
 * again. Pure.
 */
import { kimaki } from '../../bridges/kimaki.js';
import type { Identity } from '../../installer/model/identity.js';
import { keptSettings, parseLaunchdPlist, parseSystemdUnit, renderLaunchdPlist, renderSystemdUnit } from '../../installer/render/units.js';

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

describe('reading a unit as systemd does (#17 item 5)', () => {
  it('joins a line ending in a backslash with the next: the swallowed Environment= line is not an assignment', () => {
    const text = '[Service]\nUser=root\nWorkingDirectory=/srv/ab\\\nEnvironment=HOME=/root\nExecStart=/bin/k\n';
    const parsed = parseSystemdUnit(text);
    expect(parsed.workingDirectory).toBe('/srv/ab Environment=HOME=/root');
    expect(parsed.env).toEqual([]);
  });

  it('skips comment lines inside a continuation, and pairs backslashes (an even run does not continue)', () => {
    const text = '[Service]\nUser=a\\\n  # note\nb\nWorkingDirectory=/srv/x\\\\\nEnvironment=HOME=/root\n';
    expect(parseSystemdUnit(text)).toMatchObject({ user: 'a b', workingDirectory: '/srv/x\\\\', env: [['HOME', '/root']] });
  });

  it('decodes quotes and C escapes in Environment=, and ignores a line systemd ignores', () => {
    const text = [
      '[Service]',
      'Environment="A=a\\\\b\\"c" B=\'x y\' C=\\x41%%',
      'Environment="D=unbalanced',
      'Environment="E=\\q"',
      'Environment=A=2',
      '',
    ].join('\n');
    expect(parseSystemdUnit(text).env).toEqual([
      ['A', '2'],
      ['B', 'x y'],
      ['C', 'A%'],
    ]);
  });

  it('an empty Environment= clears what came before; the last HOME wins', () => {
    const parsed = parseSystemdUnit('[Service]\nEnvironment=HOME=/a X=1\nEnvironment=\nEnvironment=HOME=/b\nEnvironment=HOME=/c\n');
    expect(parsed.env).toEqual([['HOME', '/c']]);
  });

  it('reads only [Service] settings', () => {
    expect(parseSystemdUnit('[Unit]\nUser=nobody\n[Service]\nUser=svc\n[Install]\nUser=other\n').user).toBe('svc');
  });

  it('ExecStart=: prefixes dropped, `$$` in arguments is `$`, `\\;` a semicolon, a lone `;` ends the command', () => {
    expect(parseSystemdUnit('[Service]\nExecStart=-/bin/k "a b" $$HOME \\; x ; /bin/other\n').argv).toEqual(['/bin/k', 'a b', '$HOME', ';', 'x']);
    expect(parseSystemdUnit('[Service]\nExecStart=@/bin/k argv0 --flag\n').argv).toEqual(['/bin/k', '--flag']);
  });
});

describe('writing values a unit can carry (#17 item 5)', () => {
  const odd = (over: Partial<typeof spec>) => ({ ...spec, ...over });

  it('a WorkingDirectory ending in a backslash or a space keeps its own line and reads back exact', () => {
    for (const dir of ['/srv/ab\\', '/srv/ab ', '/srv/5%', '/srv/a b']) {
      const text = renderSystemdUnit(odd({ workingDirectory: dir }));
      const parsed = parseSystemdUnit(text);
      expect(parsed.workingDirectory).toBe(dir);
      expect(parsed.env).toEqual(spec.systemdEnv);
    }
  });

  it('Environment= and ExecStart= values with backslashes, quotes, `%`, `$` and trailing blanks read back exact', () => {
    const values = ['/home/x\\', 'a"b', "it's", '50%', '$HOME', 'trail ', ' lead', 'semi;colon', '\\"\\'];
    const text = renderSystemdUnit(odd({ systemdEnv: values.map((v, i) => [`K${i}`, v]), argv: ['/usr/bin/k', ...values] }));
    const parsed = parseSystemdUnit(text);
    expect(parsed.env).toEqual(values.map((v, i) => [`K${i}`, v]));
    expect(parsed.argv).toEqual(['/usr/bin/k', ...values]);
  });

  it.each([
    ['a user name ending in a backslash', { user: 'svc\\' }, /User "svc\\\\" ends in a backslash/],
    ['a user name with a surrounding blank', { user: 'svc ' }, /User "svc " begins or ends with whitespace/],
    ['a newline in a path', { workingDirectory: '/srv/a\nb' }, /WorkingDirectory .* control character U\+000A/],
    ['a newline in an environment value', { systemdEnv: [['HOME', '/a\nb']] as [string, string][] }, /Environment HOME .* control character U\+000A/],
    ['a quote in the executable', { argv: ['/opt/k"i'] }, /ExecStart command .* contains "\\""/],
    ['a backslash in the executable', { argv: ['/opt/k\\'] }, /ExecStart command .* contains "\\\\", which systemd/],
    ['a dollar in the executable', { argv: ['/opt/k$i'] }, /ExecStart command .* contains "\$"/],
  ])('refuses %s, naming the setting', (_what, over, message) => {
    expect(() => renderSystemdUnit(odd(over))).toThrow(message);
  });
});

describe('reading a plist as an XML reader does (#17 item 5)', () => {
  it('decodes entities in one pass and character references', () => {
    const text = '<?xml version="1.0"?><plist version="1.0"><dict><key>EnvironmentVariables</key><dict><key>A</key><string>a&amp;lt;b &#38; &#x3C; &lt;</string></dict></dict></plist>';
    expect(parseLaunchdPlist(text).env).toEqual([['A', 'a&lt;b & < <']]);
  });

  it('renders values with &, <, >, quotes and a trailing backslash so they read back exact', () => {
    const odd = { ...spec, workingDirectory: '/srv/ab\\', launchdEnv: [['HOME', '/h/a&b<c>"d\'\\']] as [string, string][], argv: ['/usr/bin/k', '&amp;', ']]>'] };
    const parsed = parseLaunchdPlist(renderLaunchdPlist(odd));
    expect(parsed).toMatchObject({ workingDirectory: '/srv/ab\\', env: [['HOME', '/h/a&b<c>"d\'\\']], argv: ['/usr/bin/k', '&amp;', ']]>'] });
  });

  it('refuses characters XML 1.0 cannot carry', () => {
    expect(() => renderLaunchdPlist({ ...spec, argv: ['/usr/bin/k', 'a\ufffeb'] })).toThrow(/plist value contains a character XML cannot carry/);
  });
});
