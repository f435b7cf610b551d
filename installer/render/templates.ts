/**
 * Handlebars, configured once: no HTML escaping (we emit PHP, units and
 * plists, each escaped by its own helper) and strict mode, so a missing
 * field is an error instead of an empty string in a config file.
 *
 * `renderTemplate` is the one way to find and render a template. The
 * shipped bundle carries every template precompiled (scripts/build.mjs
 * swaps ./templates-precompiled.js for the specs of templates/*.hbs), so it
 * loads only the Handlebars runtime and reads no template file; from source
 * (ts-node, jest) templates are compiled from templates/ on first use. Both
 * paths run on a Handlebars environment with the same helpers, and
 * test/unit/templates.test.ts pins that they render the same bytes.
 */
import { readFileSync } from 'node:fs';
import type * as HandlebarsTypes from 'handlebars';
// The runtime half of Handlebars (template(), helpers); its .d.ts declares
// nothing, so it is typed as the full package it is a subset of.
import handlebarsRuntime from 'handlebars/runtime.js';
import { templatePath } from '../lib/paths.js';
import { phpList, phpMap, phpString } from '../lib/php.js';
import { shellQuote } from '../lib/shell.js';
import { xmlEscape } from '../lib/xml.js';
import { precompiledTemplates, type TemplateSpec } from './templates-precompiled.js';

type Env = typeof HandlebarsTypes;
type Template = (context: object) => string;

/** Compile options; scripts/precompile-templates.mjs uses the same (a test pins it). */
export const TEMPLATE_OPTIONS = { noEscape: true, strict: true } as const;

function withHelpers(env: Env): Env {
  env.registerHelper('php', (value: unknown) => phpString(String(value)));
  env.registerHelper('phpList', (values: unknown) => phpList(values as string[]));
  env.registerHelper('phpMap', (entries: unknown) => phpMap(entries as [string, string][]));
  env.registerHelper('xml', (value: unknown) => xmlEscape(String(value)));
  env.registerHelper('sh', (value: unknown) => shellQuote(String(value)));
  return env;
}

const runtime = withHelpers((handlebarsRuntime as unknown as Env).create());
let compiler: Env | undefined;
const templates = new Map<string, Template>();

let tracer: ((name: string, context: object) => void) | undefined;

/**
 * Tests only: see every (template, context) rendered, so they can check the
 * precompiled templates on real contexts (test/unit/templates.test.ts).
 */
export function traceRenders(fn: ((name: string, context: object) => void) | undefined): void {
  tracer = fn;
}

export function renderTemplate(name: string, context: object): string {
  tracer?.(name, context);
  let template = templates.get(name);
  if (!template) {
    const spec = precompiledTemplates?.[name];
    template = spec ? templateFromSpec(spec) : compileTemplate(name);
    templates.set(name, template);
  }
  return template(context);
}

/** A precompiled template, bound to the runtime environment and its helpers. */
export function templateFromSpec(spec: TemplateSpec): Template {
  return runtime.template(spec) as Template;
}

/** Compile templates/<name> at run time (source and tests; never in the bundle). */
export function compileTemplate(name: string): Template {
  // The full Handlebars (parser + code generator) is loaded only here, so
  // the bundle, which never comes here, does not carry it (nor node:module).
  const { createRequire } = process.getBuiltinModule('node:module');
  compiler ??= withHelpers((createRequire(import.meta.url)('handlebars') as Env).create());
  // A copy: Handlebars writes its defaults into the options object it is given.
  return compiler.compile(readFileSync(templatePath(name), 'utf8'), { ...TEMPLATE_OPTIONS }) as Template;
}

/** A template shipped as-is (no placeholders), e.g. the PHP transport. */
export function staticTemplate(name: string): string {
  return readFileSync(templatePath(name), 'utf8');
}
