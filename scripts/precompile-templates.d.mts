// Types for precompile-templates.mjs (imported by test/unit/templates.test.ts).
export declare const TEMPLATE_OPTIONS: { noEscape: boolean; strict: boolean };
export declare function precompileTemplates(dir: string): Record<string, string>;
export declare function precompiledModuleSource(dir: string): string;
