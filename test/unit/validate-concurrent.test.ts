/**
 * The checks of a run's new contents run at once (installer/apply/
 * validate.ts, validateContents): install waits for the slowest check, not
 * their sum. Their verdicts still come back in plan order, and only once
 * every check has ended and its private copy is gone.
 * Stand-in tools (BRIDGECTL_PHP, BRIDGECTL_SYSTEMD_ANALYZE) make the timing
 * observable.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { validateContents } from '../../installer/apply/validate.js';

/** A file as apply stages it: its server path, a temp file holding the content, and the content. */
type Staged = { serverPath: string; file: string; content: string };

let work: string;
beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'bridgectl-concurrent-'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

/** A stand-in tool running `script` (sh; `$f` is its last argument, the file it checks). */
function tool(name: string, script: string): string {
  const file = path.join(work, 'tools', name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `#!/bin/sh\nfor f; do :; done\n${script}\n`);
  chmodSync(file, 0o755);
  return file;
}

/** Staged files as apply stages them: temp files holding the content, by server path. */
function stage(contents: Record<string, string>): Staged[] {
  return Object.entries(contents).map(([serverPath, content]) => {
    const file = path.join(work, `.${path.posix.basename(serverPath)}.bridgectl-000000000000.tmp`);
    writeFileSync(file, content);
    return { serverPath, file, content };
  });
}

const unit = '[Service]\nExecStart=/bin/true\n';

it('every php -l and the one systemd-analyze verify run at the same time', async () => {
  // Each check waits (up to 10 s) until all three have started: run one after another, the first fails alone.
  const started = path.join(work, 'started');
  mkdirSync(started);
  const meet = `touch ${started}/$$; n=0; while [ "$(ls ${started} | wc -l)" -lt 3 ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n+1)); done; [ "$(ls ${started} | wc -l)" -ge 3 ] || { echo "ran alone"; exit 1; }`;
  const env = { BRIDGECTL_PHP: tool('php', meet), BRIDGECTL_SYSTEMD_ANALYZE: tool('systemd-analyze', meet) };
  const files = stage({ '/site/a.php': '<?php\n', '/etc/systemd/system/a.service': unit, '/site/b.php': '<?php\n', '/etc/systemd/system/b.service': unit });
  expect(await validateContents(files, '/sandbox', env)).toEqual(files.map(() => ({ warnings: [] })));
});

it('verdicts come back in plan order, whichever check ends first', async () => {
  // The first file's check is the slow one; both fail, each naming its own file.
  const php = tool('php', 'case "$f" in *slow*) sleep 0.3;; esac; echo "PHP Parse error: broken in $f"; exit 255');
  const files = stage({ '/site/slow.php': '<?php (\n', '/site/fast.php': '<?php )\n' });
  expect(await validateContents(files, '/sandbox', { BRIDGECTL_PHP: php })).toEqual([
    { error: 'new content of /site/slow.php fails php -l: PHP Parse error: broken in /site/slow.php', warnings: [] },
    { error: 'new content of /site/fast.php fails php -l: PHP Parse error: broken in /site/fast.php', warnings: [] },
  ]);
});

it('settles only when every check has ended, even after another one failed', async () => {
  const done = path.join(work, 'done');
  const php = tool('php', `case "$f" in *slow*) sleep 0.3; echo "$f" >> ${done}; exit 0;; esac; echo "PHP Parse error: broken"; exit 255`);
  const files = stage({ '/site/fast.php': '<?php )\n', '/site/slow.php': '<?php\n' });
  const results = await validateContents(files, '/sandbox', { BRIDGECTL_PHP: php });
  expect(results[0]?.error).toMatch(/fast\.php fails php -l/);
  const checked = existsSync(done) ? readFileSync(done, 'utf8') : '';
  expect(checked).toMatch(/\/slow\.php\n$/); // the slow check had finished, on a copy of the content
  expect(existsSync(checked.trim())).toBe(false); // and the copy is gone
});

it('a copy that cannot be written is an error, and leaves no check unhandled', async () => {
  const unhandled: unknown[] = [];
  const record = (reason: unknown): void => {
    unhandled.push(reason);
  };
  process.on('unhandledRejection', record);
  try {
    // A name longer than a file name may be: the units' copy fails, and so does the PHP file's, first.
    const long = 'x'.repeat(300);
    const env = { BRIDGECTL_PHP: tool('php', 'exit 0'), BRIDGECTL_SYSTEMD_ANALYZE: tool('systemd-analyze', 'exit 0') };
    const files = [
      { serverPath: `/etc/systemd/system/${long}.service`, content: unit },
      { serverPath: '/etc/systemd/system/b.service', content: unit },
      { serverPath: `/site/${long}.php`, content: '<?php\n' },
    ];
    await expect(validateContents(files, '/sandbox', env)).rejects.toThrow(/ENAMETOOLONG/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(unhandled).toEqual([]);
  } finally {
    process.off('unhandledRejection', record);
  }
});
