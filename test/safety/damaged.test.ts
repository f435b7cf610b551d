/**
 * Damaged or foreign managed files, through the real CLI: each is either
 * handled exactly (bytes outside our block untouched, line endings kept) or
 * refused with exit 1, an error naming the file and the line, and the file's
 * bytes unchanged — and nothing else written either.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { listBlocks, removeBlock } from '../../installer/render/markers.js';
import { runBin, runMain } from '../helpers/cli.js';
import { serverSandbox } from '../helpers/sandbox.js';
import { at, CHANNELS, installArgs, leftovers, MU, phpLintOk, snapshot } from '../helpers/safety.js';

/** A managed file; region lines start on line 4. */
const managed = (...region: string[]): string =>
  ['<?php', 'add_filter( "wp_coding_agents_cli_channels", function ( $channels ) {', '    // BEGIN bridges', ...region, '    // END bridges', '    return $channels;', '} );', ''].join('\n');
const block = (id: string, ...body: string[]): string[] => [`    // BEGIN bridge:${id}`, ...body, `    // END bridge:${id}`];

type Case = [name: string, content: string | Buffer, line: number | undefined, message: RegExp];

const cases: Case[] = [
  ['region BEGIN without END', '<?php\n// BEGIN bridges\n$x = 1;\n', 2, /no matching '\/\/ END bridges'/],
  ['region END before BEGIN', '<?php\n// END bridges\n// BEGIN bridges\n', 2, /before any '\/\/ BEGIN bridges'/],
  ['two regions', managed() + '// BEGIN bridges\n// END bridges\n', 7, /second '\/\/ BEGIN bridges' \(the first is on line 3\)/],
  ['block BEGIN without END', managed('    // BEGIN bridge:kimaki', '    $x = 1;'), 4, /bridge:kimaki' has no matching END/],
  ['block END without BEGIN', managed('    // END bridge:kimaki'), 4, /no BEGIN before it/],
  ['END closes another block', managed('    // BEGIN bridge:a', '    // END bridge:b'), 5, /closes 'bridge:a'/],
  ['duplicate block ids', managed(...block('kimaki', '    // 1'), ...block('kimaki', '    // 2')), 7, /second block 'bridge:kimaki' \(the first begins on line 4\)/],
  ['block outside the region', '<?php\n// BEGIN bridge:kimaki\n// END bridge:kimaki\n// BEGIN bridges\n// END bridges\n', 2, /outside/],
  ['marker without a space', managed('    //BEGIN bridge:kimaki', '    // END bridge:kimaki'), 4, /malformed marker/],
  ['marker in lower case', managed('    // begin bridge:kimaki', '    // END bridge:kimaki'), 4, /malformed marker/],
  ['marker with a trailing comment', managed('    // BEGIN bridge:kimaki // mine', '    // END bridge:kimaki'), 4, /malformed marker/],
  ['invalid block id', managed('    // BEGIN bridge:Kimaki!', '    // END bridge:Kimaki!'), 4, /invalid block id/],
  ['NUL byte', managed('    $x = "a\u0000b";'), 4, /NUL byte/],
  ['invalid UTF-8', Buffer.concat([Buffer.from(managed('    // ok', '    $x = "')), Buffer.from([0xff, 0xfe]), Buffer.from('";\n')]), 9, /not valid UTF-8/],
  ['CRLF file with an orphan END', managed('    // END bridge:x').replace(/\n/g, '\r\n'), 4, /no BEGIN before it/],
  ['BOM file with two regions', '\uFEFF' + managed() + '// BEGIN bridges\n', 7, /second '\/\/ BEGIN bridges'/],
  ['no final newline and an unterminated block', managed('    // BEGIN bridge:kimaki').replace(/\n$/, ''), 4, /has no matching END/],
  ['a foreign file (no region)', '<?php\n// someone else\'s plugin\necho 1;\n', undefined, /no '\/\/ BEGIN bridges' line in its 3 lines: this file is not one bridgectl manages/],
];

describe('damaged managed files are refused, naming file and line, bytes unchanged', () => {
  it.each(cases)('%s', (_name, content, line, message) => {
    const root = serverSandbox();
    const file = at(root, CHANNELS);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content, { mode: 0o644 });
    const before = snapshot(file);

    const r = runBin(installArgs(root));

    expect(r.code).toBe(1);
    expect(r.stderr).toContain(line === undefined ? `${CHANNELS}: ` : `${CHANNELS}:${line}: `);
    expect(r.stderr).toMatch(message);
    expect(snapshot(file)).toEqual(before);
    expect(existsSync(at(root, '/etc/systemd/system/kimaki.service'))).toBe(false); // nothing else written either
    expect(leftovers(at(root, MU)).temps).toEqual([]);
  });

  it('a directory where the file should be', () => {
    const root = serverSandbox();
    mkdirSync(at(root, CHANNELS), { recursive: true });
    const r = runBin(installArgs(root));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${CHANNELS} is a directory, not a regular file`);
    expect(statSync(at(root, CHANNELS)).isDirectory()).toBe(true);
  });

  it('a value that would put a line break (and so a marker line) into the block', () => {
    const root = serverSandbox();
    // --allow-missing-binary: past the existence check, to the guard on what reaches the block.
    const r = runBin(installArgs(root, '--binary', '/usr/local/bin/kimaki\n    // END bridges', '--allow-missing-binary'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/control character U\+000A/);
    expect(existsSync(at(root, CHANNELS))).toBe(false);
  });
});

describe('unusual but sound files are handled exactly', () => {
  const variants: [string, (text: string) => string][] = [
    ['CRLF', (t) => t.replace(/\n/g, '\r\n')],
    ['no final newline', (t) => t.replace(/\n$/, '')],
    ['UTF-8 BOM', (t) => '\uFEFF' + t],
    ['BOM + CRLF + no final newline', (t) => '\uFEFF' + t.replace(/\n/g, '\r\n').replace(/\r\n$/, '')],
    ['markers with trailing whitespace', (t) => t.replace('// BEGIN bridges\n', '// BEGIN bridges  \n').replace('// END bridge:kimaki-2\n', '// END bridge:kimaki-2\t\n')],
    ['mixed LF and CRLF', (t) => t.replace('<?php\n', '<?php\r\n').replace('} );\n', '} );\r\n')],
  ];
  const base = managed(...block('kimaki-2', "    $channels['kimaki-2'] = [ 'command' => '/bin/true' ];"));

  it.each(variants)('%s: our block written once, every other byte kept, second run a no-op', async (_name, transform) => {
    const root = serverSandbox();
    const file = at(root, CHANNELS);
    const original = transform(base);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, original);

    const first = await runMain(installArgs(root, '--no-reload'));
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const after = readFileSync(file, 'utf8');
    expect(listBlocks(after).map((b) => b.id)).toEqual(['kimaki-2', 'kimaki']);
    expect(removeBlock(after, 'kimaki')).toBe(original); // the prefix id 'kimaki-2' is a different block
    if (original.includes('\r\n') && !/[^\r]\n/.test(original)) expect(/[^\r]\n/.test(after)).toBe(false); // an all-CRLF file stays all CRLF
    expect(phpLintOk(file)).toBe(true);

    const mtime = statSync(file).mtimeMs;
    const second = await runMain(installArgs(root, '--no-reload'));
    expect(second.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(after);
    expect(statSync(file).mtimeMs).toBe(mtime);
  });
});
