import { spawnSync } from 'node:child_process';
import { NON_TTY_WIDTH, outputWidth, shellWords, wrapCommand, wrapWords } from '../../installer/report/wrap.js';
import { shellQuote } from '../../installer/lib/shell.js';

describe('report/wrap.ts', () => {
  it('wraps to the terminal columns only when stdout is a terminal', () => {
    expect(outputWidth(true, 72)).toBe(72);
    expect(outputWidth(false, 72)).toBe(NON_TTY_WIDTH);
    expect(outputWidth(true, undefined)).toBe(NON_TTY_WIDTH);
    expect(NON_TTY_WIDTH).toBe(100);
  });

  it('wraps words with a hanging indent (smaller when the room is narrow) and never splits a word', () => {
    const lines = wrapWords('WARN  x  ', 9, 'aaaa bbbb cccc /a/very/long/path/that/does/not/fit dddd', 20, 9);
    // 20 columns leave too little room after a 9-column indent: continuation lines hang by 6.
    expect(lines).toEqual(['WARN  x  aaaa bbbb', '      cccc', '      /a/very/long/path/that/does/not/fit', '      dddd']);
    expect(wrapWords('ab  ', 4, 'one two three four', 50, 4).length).toBe(1);
    expect(wrapWords('ab  ', 4, 'one two three four five six seven', 40, 4)).toEqual(['ab  one two three four five six seven']);
    expect(wrapWords('ab  ', 4, 'one two three four five six seven eight', 40, 4)).toEqual(['ab  one two three four five six seven', '    eight']);
  });

  it('keeps a quoted span with spaces as one word; a prose apostrophe opens nothing', () => {
    expect(shellWords(`grant www-data's group: chmod 'a b' 'it'\\''s' x`)).toEqual(['grant', "www-data's", 'group:', 'chmod', "'a b'", `'it'\\''s'`, 'x']);
  });

  it('a wrapped command is the same command to the shell', () => {
    const args = ['/srv/a dir/x', "it's", '--arg={message}', 'plain', 'more', 'words', 'here'];
    const command = `bridgectl ${args.map((a) => shellQuote(a)).join(' ')}`;
    const lines = wrapCommand('      fix: ', 11, command, 30, 11);
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.slice(0, -1).every((l) => l.endsWith(' \\'))).toBe(true);
    const script = `bridgectl() { printf '%s\\n' "$@"; }\n${lines.join('\n').replace(/^ {6}fix: /, '')}`;
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
    expect(r.stdout).toBe(args.map((a) => `${a}\n`).join(''));
  });

  it('a break in the prose around a command gets no backslash; one inside the command does', () => {
    const fix = "dispatch through sudo, whose target runs kimaki as the service user: bridgectl upgrade --site '/var/www/html' --dispatch sudo; or chgrp 'www-data' '/home/opencode'";
    const lines = wrapCommand('', 0, fix, 40, 0);
    expect(lines).toEqual([
      'dispatch through sudo, whose target runs',
      'kimaki as the service user: bridgectl \\',
      "upgrade --site '/var/www/html' \\",
      "--dispatch sudo; or chgrp 'www-data' \\",
      "'/home/opencode'",
    ]);
  });
});
