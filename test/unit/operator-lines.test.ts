/** The split of an installed unit or plist into bridgectl's lines and the operator's (installer/render/operator-lines.ts). */
import { insertPlistEntries, insertUnitLines, keepOperatorLines, operatorPlistEntries, operatorUnitLines, parseDirectives } from '../../installer/render/operator-lines.js';

const BASE = '[Unit]\nDescription=x\nAfter=network.target\n\n[Service]\nType=simple\nExecStart=/usr/bin/x\nRestart=always\n\n[Install]\nWantedBy=multi-user.target\n';

describe('systemd', () => {
  it('reads continuation lines as systemd does, and keeps them as written', () => {
    const { directives } = parseDirectives('[Service]\n# why\nExecStartPost=/bin/echo a \\\n  b\nNice=5\n');
    expect(directives.map((d) => [d.key, d.value, d.raw])).toEqual([
      ['ExecStartPost', '/bin/echo a    b', ['# why', 'ExecStartPost=/bin/echo a \\', '  b']],
      ['Nice', '5', ['Nice=5']],
    ]);
  });

  it('render + kept lines reads back to the same kept lines (so the next run is a no-op)', () => {
    const installed = BASE.replace('Restart=always\n', 'Restart=always\nExecStartPost=/bin/echo a \\\n  b\nNice=5\nAfter=db.service\n').concat('\n[X-Ops]\nOwner=a\n');
    const kept = operatorUnitLines(installed, BASE);
    expect(kept.names).toEqual([
      ['Service', 'ExecStartPost='],
      ['Service', 'Nice='],
      ['Service', 'After='],
      ['X-Ops', 'Owner='],
    ]);
    const merged = insertUnitLines(BASE, kept);
    expect(operatorUnitLines(merged, BASE)).toEqual(kept);
    expect(insertUnitLines(BASE, operatorUnitLines(merged, BASE))).toBe(merged);
  });

  it('an operator line placed before bridgectl\'s own line of the same key is the one kept', () => {
    const installed = BASE.replace('After=network.target\n', 'After=db.service\nAfter=network.target\n');
    expect(operatorUnitLines(installed, BASE).sections).toEqual([['Unit', ['After=db.service']]]);
  });

  it('no note when the file does not change', () => {
    expect(keepOperatorLines('systemd', '/etc/systemd/system/x.service', BASE, () => BASE)).toEqual({ after: BASE, notes: [] });
  });
});

describe('launchd', () => {
  const PLIST = '<?xml version="1.0"?>\n<plist version="1.0">\n<dict>\n    <key>Label</key>\n    <string>x</string>\n    <key>KeepAlive</key>\n    <true/>\n</dict>\n</plist>\n';

  it('a comment between entries hides no key; nested values are kept as written', () => {
    const installed = PLIST.replace('    <key>KeepAlive</key>', '    <!-- ops -->\n    <key>Nice</key>\n    <integer>5</integer>\n    <key>Limits</key>\n    <dict>\n        <key>N</key>\n        <integer>1</integer>\n    </dict>\n    <key>KeepAlive</key>');
    const kept = operatorPlistEntries(installed, PLIST);
    expect(kept.names).toEqual([
      ['dict', 'Nice'],
      ['dict', 'Limits'],
    ]);
    const merged = insertPlistEntries(PLIST, kept);
    expect(merged).toContain('    <key>Limits</key>\n    <dict>\n        <key>N</key>\n        <integer>1</integer>\n    </dict>\n</dict>\n</plist>');
    expect(insertPlistEntries(PLIST, operatorPlistEntries(merged, PLIST))).toBe(merged);
  });

  it('a plist not in the shape bridgectl reads: a note says its keys could not be kept', () => {
    const { notes } = keepOperatorLines('launchd', '/x.plist', '<plist><array/></plist>', () => PLIST);
    expect(notes).toEqual(['/x.plist: could not tell its keys apart (not the plist shape bridgectl reads), so any key you added there is not kept; see the diff (--dry-run)']);
  });
});

describe('continuation as systemd reads it', () => {
  it('an even run of backslashes ends the line; a comment inside a continuation is skipped but kept as written', () => {
    const { directives } = parseDirectives('[Service]\nA=x\\\\\nB=y \\\n# note\n  z\n');
    expect(directives.map((d) => [d.key, d.value, d.raw.length])).toEqual([
      ['A', 'x\\\\', 1],
      ['B', 'y    z', 3],
    ]);
  });
});

describe('the split reads a unit as parseSystemdUnit does (one reader, unit-syntax.ts; systemd 252 checks it in test/integration/units.test.ts)', () => {
  const read = (text: string): [string, string, string][] => parseDirectives(text).directives.map((d) => [d.section, d.key, d.value]);

  it('a continuation at the end of a file with no final newline is read as it stands', () => {
    expect(read('[Service]\nNice=5 \\')).toEqual([['Service', 'Nice', '5']]);
  });

  it('a lone CR ends a line', () => {
    expect(read('[Service]\rNice=5\r')).toEqual([['Service', 'Nice', '5']]);
  });

  it('a line with nothing before = is no directive, however it is indented', () => {
    expect(read('[Service]\n  =5\nNice=5\n')).toEqual([['Service', 'Nice', '5']]);
  });

  it('a no-break space ends no value', () => {
    expect(read('[Service]\nNice=5\u00a0\n')).toEqual([['Service', 'Nice', '5\u00a0']]);
  });

  it('an operator line before the first section is not kept (systemd does not read it), so no [] header is written', () => {
    const kept = operatorUnitLines(`# early\nNice=5\n${BASE}`, BASE);
    expect(kept).toEqual({ sections: [], names: [], replaced: [], droppedComments: 1 });
    expect(insertUnitLines(BASE, kept)).toBe(BASE);
  });

  it('after a header systemd refuses, nothing is kept: systemd reads no further', () => {
    const kept = operatorUnitLines(`${BASE}\n[X-Ops\nNice=5\n[Service]\nMemoryMax=2G\n`, BASE);
    expect(kept.sections).toEqual([]);
  });
});
