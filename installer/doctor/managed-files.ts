/** The managed PHP files (channels file, transport): exist, ours, parse, readable by the web user. */
import { MarkerError, UserError } from '../model/errors.js';
import { listBlocks } from '../render/markers.js';
import { denial, explainDenial, type Who } from '../lib/reach.js';
import { shellQuote } from '../lib/shell.js';
import type { Check } from '../model/doctor.js';
import type { DoctorInput } from './input.js';
import { reachGrants } from './fixes.js';

// ---------------------------------------------------------------- managed files

/** exists, ours, parses, readable by the dispatch user. Returns the text when it exists and is readable to us. */
export function managedFile(checks: Check[], input: DoctorInput, area: 'channels' | 'transport', file: string, who: Who | undefined, createFix: string): string | undefined {
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
    checks.push({ id: `${area}.exists`, status: 'fail', message: `${file} does not exist: no channel can be dispatched`, fix: createFix });
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

  if (input.lint === 'unavailable') {
    checks.push({ id: `${area}.php-lint`, status: 'warn', message: `${file} not linted: php is not on PATH`, fix: 'install the PHP CLI (apt-get install php-cli) and run doctor again' });
  } else {
    const lint = input.lint.get(file);
    if (lint && lint.ok) checks.push({ id: `${area}.php-lint`, status: 'ok', message: `php -l: no syntax errors in ${file}` });
    else if (lint) {
      const detail = lint.output.split('\n').map((l) => l.trim()).find((l) => /error/i.test(l)) ?? lint.output.trim();
      checks.push({
        id: `${area}.php-lint`,
        status: 'fail',
        message: `php -l rejects ${file}: ${detail} — PHP dies loading mu-plugins, the whole site with it`,
        fix: area === 'channels' ? `fix the syntax error (bridgectl upgrade --site ${site} rewrites only its blocks)` : `reinstall the transport mu-plugin`,
      });
    }
  }

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
