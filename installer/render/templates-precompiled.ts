/**
 * Precompiled templates, by file name. Empty from source: templates.ts then
 * compiles templates/*.hbs at run time. scripts/build.mjs replaces this
 * module in the bundle with the specs of every template (see
 * scripts/precompile-templates.mjs), so the shipped CLI never compiles one.
 */
import type * as HandlebarsTypes from 'handlebars';

/** A template as Handlebars.precompile emits it (an object literal of functions). */
export type TemplateSpec = Parameters<(typeof HandlebarsTypes)['template']>[0];

export const precompiledTemplates: Readonly<Record<string, TemplateSpec>> | undefined = undefined;
