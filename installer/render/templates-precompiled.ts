/**
 * Precompiled templates, by file name. Empty from source: templates.ts then
 * compiles templates/*.hbs at run time. scripts/build.mjs replaces this
 * module in the bundle with the specs of every template (see
 * scripts/precompile-templates.mjs), so the shipped CLI never compiles one.
 */
import type { TemplateSpec } from './templates.js';

export const precompiledTemplates: Readonly<Record<string, TemplateSpec>> | undefined = undefined;
