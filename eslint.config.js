// Lint rules that guard what the compiler cannot: promises nobody awaits, type-only imports kept
// out of the runtime graph, import cycles, and the determinism boundary of workflow code.
import tseslint from 'typescript-eslint';
import importPlugin from 'eslint-plugin-import';
import stylistic from '@stylistic/eslint-plugin';
import { builtinModules } from 'node:module';

const nodeBuiltins = builtinModules.flatMap((name) => [name, `node:${name}`]);

// Workflow code runs in Temporal's deterministic sandbox and is replayed from history: anything
// that does I/O or reads the outside world must live in activities instead.
const ioModules = [
  'pg',
  'pg-*',
  'node-pg-migrate',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
  '@temporalio/testing',
  'commander',
  '**/activities/**',
  '**/ledger/**',
  '**/cli/**',
  '**/connectors/**',
  '**/devserver/**',
  '**/worker.js',
  '**/worker',
  '**/worker/**',
  '**/client/**',
  '**/devstack/**',
];

// Folder boundaries: import/no-cycle follows files, so a cycle between folders built from acyclic
// files goes unseen; these zones keep the layers pointing one way. One rule entry holds every zone:
// a second config object setting the same rule would replace these, not add to them.
const boundaries = {
  files: ['src/**/*.ts'],
  rules: {
    'import/no-restricted-paths': [
      'error',
      {
        basePath: import.meta.dirname,
        zones: [
          {
            target: './src/demo',
            from: './src/cli',
            message: 'The demo tells the story with the library, not with CLI commands.',
          },
          {
            target: './src/connectors',
            from: ['./src/activities', './src/evidence'],
            message: 'Connectors know nothing of activities or evidence: activities adapt connectors.',
          },
          // The root holds the package's entry points (index, worker, plugin, client), which import
          // the library's folders; a library folder importing them back makes every folder one cycle.
          // Only the application layer on top (the CLI, the dev stack, the demo) runs them.
          {
            target: './src/!(cli|devstack|demo)/**/*.ts',
            from: ['./src/*.ts'],
            message:
              'The library never imports the entry points in src/: only the CLI, the dev stack and the demo run them.',
          },
          // Every folder but itself and the pure model, and the root files (errors, config, worker...).
          {
            target: './src/verify',
            from: ['./src/!(verify|model)/**', './src/*.ts'],
            message: 'src/verify is the pure verification package: it imports only itself and src/model.',
          },
          {
            target: './src/ledger',
            from: './src/evidence',
            message: 'src/evidence builds on src/ledger, never the reverse.',
          },
          {
            target: './src/ledger',
            from: './src/metrics',
            message: 'The ledger reports to an AppendObserver; src/metrics implements it, never the reverse.',
          },
        ],
      },
    ],
  },
};

// The ledger is embedded by users who may not want Prometheus: it knows only its AppendObserver.
const ledgerKnowsNoMetrics = {
  files: ['src/ledger/**/*.ts'],
  rules: {
    '@typescript-eslint/no-restricted-imports': [
      'error',
      {
        paths: [
          { name: 'prom-client', message: 'The ledger reports to an AppendObserver; src/metrics uses prom-client.' },
        ],
      },
    ],
  },
};

const connectorsKnowNoTemporal = {
  files: ['src/connectors/**/*.ts'],
  rules: {
    '@typescript-eslint/no-restricted-imports': [
      'error',
      {
        patterns: [
          { group: ['@temporalio/*'], message: 'Connectors know nothing of Temporal: activities adapt them.' },
        ],
      },
    ],
  },
};

// Prettier lays code out at 120 columns (npm run format; npm run lint checks it). What it cannot
// break is held to the same width here, except strings, templates, regular expressions and URLs:
// a message or a line of SQL stays whole, so it can be searched for.
const lineWidth = {
  files: ['**/*.ts'],
  plugins: { '@stylistic': stylistic },
  rules: {
    '@stylistic/max-len': [
      'error',
      { code: 120, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreUrls: true },
    ],
  },
};

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
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import/no-cycle': 'error',
    },
  },
  // The verification package (verify-pure): what an outsider needs to check evidence, small,
  // synchronous and offline, like sigstore-js's verify. It hashes and checks signatures
  // (node:crypto) and reads nothing: readers in src/ledger and src/evidence fetch, it decides.
  {
    files: ['src/verify/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins
            .filter((name) => name !== 'crypto' && name !== 'node:crypto')
            .map((name) => ({
              name,
              message: 'src/verify does no I/O: the caller reads, the verifier decides.',
              allowTypeImports: true,
            })),
          patterns: [
            {
              group: ['pg', 'pg-*', 'node-pg-migrate', '@temporalio/*', 'commander'],
              message: 'src/verify does no I/O: the caller reads, the verifier decides.',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/workflows/**/*.ts', 'src/model/**/*.ts'],
    rules: {
      // Type-only imports are erased at compile time, so workflows may name activity types.
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Workflow code must stay deterministic: do I/O in an activity.',
            allowTypeImports: true,
          })),
          patterns: [
            {
              group: ioModules,
              message: 'Workflow code must stay deterministic: do I/O in an activity.',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  boundaries,
  connectorsKnowNoTemporal,
  ledgerKnowsNoMetrics,
  lineWidth,
);
