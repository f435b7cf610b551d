/** The managed PHP files (channels file, transport): exist, ours, parse, readable by the web user. */
import { MarkerError, UserError } from '../model/errors.js';
import { listBlocks } from '../render/markers.js';
import { denial, explainDenial, type Who } from '../lib/reach.js';
import { shellQuote } from '../lib/shell.js';
import type { Check } from '../model/doctor.js';
import type { Finding, LintProbe, LintResult } from './probes.js';
import type { DoctorInput } from './input.js';
import { reachGrants } from './fixes.js';

// ---------------------------------------------------------------- managed files

/** exists, ours, parses, readable by the dispatch user. Returns the text when it exists and is readable to us. */
export function managedFile(checks: Finding[], input: DoctorInput, area: 'channels' | 'transport', file: string, who: Who | undefined, createFix: string): string | undefined {
  const { host, site } = input;
  let text: string | undefined;
  try {
    text = host.readText(file);
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    checks.push({ id: `${area}.exists`, status: 'fail', message: err.message, ...(err.hint ? { fix: err.hint } : {}) });
    return undefined;
  }
  if (text === undefined) {
    checks.push({ id: `${area}.exists`, status: 'fail', message: area === 'channels' ? `no channels installed: ${file} does not exist, so WP-cron has nothing to dispatch` : `${file} does not exist`, fix: createFix });
    return undefined;
  }
  checks.push({ id: `${area}.exists`, status: 'ok', message: `${file} exists` });

  if (area === 'channels') {
    try {
      const blocks = listBlocks(text);
      checks.push({ id: 'channels.markers', status: 'ok', message: `managed region holds ${blocks.length} block(s)${blocks.length ? `: ${blocks.map((b) => b.id).join(', ')}` : ''}` });
    } catch (err) {
      if (!(err instanceof MarkerError)) throw err;
      checks.push({
        id: 'channels.markers',
        status: 'fail',
        message: `${err.inFile(file).message} — bridgectl will not touch it`,
        fix: err.hint ?? `repair the '// BEGIN bridges' … '// END bridges' markers by hand, then bridgectl upgrade --site ${site}`,
      });
    }
  }

  // php -l starts a process: its check stands here, the live step runs it.
  checks.push({ id: `${area}.php-lint`, probe: { kind: 'php-lint', area, file, site, lintable: host.stat(file)?.kind === 'file' } });

  if (who) {
    const d = denial(host, who.principal, file, ['r']);
    if (!d) checks.push({ id: `${area}.readable`, status: 'ok', message: `${who.name} can read ${file}` });
    else {
      const fixes = d.reason === 'no-read' ? [`chmod 0644 ${shellQuote(file)}`] : reachGrants(d, who);
      checks.push({
        id: `${area}.readable`,
        status: 'fail',
        message: `${who.name} cannot read ${file}: ${explainDenial(d, who, host)}`,
        ...(fixes.length ? { fix: fixes.join(' && ') } : {}),
      });
    }
  }
  return text;
}

/** The php-lint check of a managed file from what php -l gave; none when the file was not linted (not a regular file). */
export function lintCheck(probe: LintProbe, lint: LintResult | 'unavailable' | undefined): Check | undefined {
  const { area, file, site } = probe;
  const id = `${area}.php-lint`;
  if (lint === 'unavailable') {
    return { id, status: 'warn', message: `${file} not linted: php is not on PATH`, fix: 'install the PHP CLI (apt-get install php-cli) and run doctor again' };
  }
  if (!lint) return undefined;
  if (lint.ok) return { id, status: 'ok', message: `php -l: no syntax errors in ${file}` };
  const detail = lint.output.split('\n').map((l) => l.trim()).find((l) => /error/i.test(l)) ?? lint.output.trim();
  return {
    id,
    status: 'fail',
    message: `php -l rejects ${file}: ${detail} — PHP dies loading mu-plugins, the whole site with it`,
    fix: area === 'channels' ? `fix the syntax error (bridgectl upgrade --site ${site} rewrites only its blocks)` : `bridgectl upgrade --site ${site} (writes the transport again)`,
  };
}
