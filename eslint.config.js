// Lint rules that guard what the compiler cannot: promises nobody awaits, type-only imports kept
// out of the runtime graph, import cycles, and the determinism boundary of workflow code.
import tseslint from 'typescript-eslint';
import importPlugin from 'eslint-plugin-import';
import { builtinModules } from 'node:module';

const nodeBuiltins = builtinModules.flatMap((name) => [name, `node:${name}`]);

// Workflow code runs in Temporal's deterministic sandbox and is replayed from history: anything
// that does I/O or reads the outside world must live in activities instead.
const ioModules = ['pg', 'pg-*', 'node-pg-migrate', '@temporalio/client', '@temporalio/worker',
  '@temporalio/activity', '@temporalio/testing', 'commander', '**/activities/**', '**/ledger/**',
  '**/cli/**', '**/connectors/**', '**/devserver/**', '**/worker.js', '**/worker'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'eslint.config.js'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { import: importPlugin },
    settings: {
      'import/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import/resolver': { typescript: { project: './tsconfig.json' } },
    },
    rules: {
      // node:test's test() and describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }],
      }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import/no-cycle': 'error',
    },
  },
  {
    files: ['src/workflows/**/*.ts', 'src/model/**/*.ts'],
    rules: {
      // Type-only imports are erased at compile time, so workflows may name activity types.
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: nodeBuiltins.map((name) => ({ name, message: 'Workflow code must stay deterministic: do I/O in an activity.', allowTypeImports: true })),
        patterns: [{ group: ioModules, message: 'Workflow code must stay deterministic: do I/O in an activity.', allowTypeImports: true }],
      }],
    },
  },
);
