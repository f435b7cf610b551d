// Precompile templates/**/*.hbs for the bundle (scripts/build.mjs), so the
// shipped CLI needs only the Handlebars runtime: no parser, no code
// generator, no template files read at run time.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';

/** Must equal TEMPLATE_OPTIONS in installer/render/templates.ts (test/unit/templates.test.ts pins it). */
export const TEMPLATE_OPTIONS = { noEscape: true, strict: true };

/** Every template under dir, as the names renderTemplate takes ('systemd/unit.service.hbs'), sorted. */
export function listTemplates(dir) {
  return readdirSync(dir, { recursive: true })
    .map((n) => String(n).split(path.sep).join('/'))
    .filter((n) => n.endsWith('.hbs'))
    .sort();
}

/** { 'name.hbs': 'JS source of the template spec' } for every template under dir, sorted by name. */
export function precompileTemplates(dir) {
  const out = {};
  for (const name of listTemplates(dir)) {
    // A copy: Handlebars writes its defaults into the options object it is given.
    out[name] = Handlebars.precompile(readFileSync(path.join(dir, name), 'utf8'), { ...TEMPLATE_OPTIONS });
  }
  return out;
}

/** The module that replaces installer/render/templates-precompiled.ts in the bundle. */
export function precompiledModuleSource(dir) {
  const entries = Object.entries(precompileTemplates(dir)).map(([name, spec]) => `  ${JSON.stringify(name)}: ${spec},`);
  return `export const precompiledTemplates = {\n${entries.join('\n')}\n};\n`;
}
