/**
 * Handlebars, configured once: no HTML escaping (we emit PHP, units and
 * plists, each escaped by its own helper) and strict mode, so a missing
 * field is an error instead of an empty string in a config file.
 */
import { readFileSync } from 'node:fs';
import Handlebars from 'handlebars';
import { templatePath } from './paths.js';
import { phpList, phpMap, phpString } from './php.js';
import { shellQuote } from './shell.js';
import { xmlEscape } from './xml.js';

const hbs = Handlebars.create();
hbs.registerHelper('php', (value: unknown) => phpString(String(value)));
hbs.registerHelper('phpList', (values: unknown) => phpList(values as string[]));
hbs.registerHelper('phpMap', (entries: unknown) => phpMap(entries as [string, string][]));
hbs.registerHelper('xml', (value: unknown) => xmlEscape(String(value)));
hbs.registerHelper('sh', (value: unknown) => shellQuote(String(value)));

const compiled = new Map<string, Handlebars.TemplateDelegate>();

export function renderTemplate(name: string, context: object): string {
  let template = compiled.get(name);
  if (!template) {
    template = hbs.compile(readFileSync(templatePath(name), 'utf8'), { noEscape: true, strict: true });
    compiled.set(name, template);
  }
  return template(context);
}

/** A template shipped as-is (no placeholders), e.g. the PHP transport. */
export function staticTemplate(name: string): string {
  return readFileSync(templatePath(name), 'utf8');
}
