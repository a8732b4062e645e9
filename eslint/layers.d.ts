// Types of eslint/layers.js for the test that checks the rule (test/eslint/layers.test.ts).
import type { ESLint, Rule } from 'eslint';

export declare const LAYERS: Readonly<Record<string, readonly string[]>>;
export declare const ENGINES: readonly string[];
export declare const ROOTS: Readonly<Record<string, readonly string[]>>;
export declare function unitOf(file: string): string;
export declare const layersRule: Rule.RuleModule;
export declare const layersPlugin: ESLint.Plugin;
