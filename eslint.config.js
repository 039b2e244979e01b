// Lint: typescript-eslint's recommended rules, floating promises (type-aware), sorted imports, and the layering rules
// of the tree (libs entered through #libs/<tier>/<name>; pure libs free of Nest, Prisma and the other tiers).
import js from '@eslint/js';
import simpleImportSort from 'eslint-plugin-simple-import-sort';
import tseslint from 'typescript-eslint';

const climbingIntoLibs = {
  group: ['**/libs/**', '#libs/*/*/*'],
  message: 'Import a lib through its index: #libs/<tier>/<name>.',
};

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'libs/core/db/generated/**',
      'libs/pure/training/layers/layers.bundle.js',
      'apps/web/src/**/*.js',
      '.lavapipe/**',
      'examples/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'simple-import-sort': simpleImportSort },
    rules: {
      'simple-import-sort/imports': 'error',
      'simple-import-sort/exports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // Prettier wraps code at 120; this catches what it cannot: comments, and strings and template literals, which
      // are split into pieces joined with + (a message stays byte-for-byte the same). URLs may run past the limit.
      'max-len': ['error', { code: 120, ignoreUrls: true, ignoreRegExpLiterals: true }],
      'no-restricted-imports': ['error', { patterns: [climbingIntoLibs] }],
    },
  },
  {
    // Written by native/build.sh: the wasm modules as base64, one line each.
    files: ['libs/pure/training/wasm-kernels/native-binary.ts'],
    rules: { 'max-len': 'off' },
  },
  {
    // Tests and benches read untyped JSON answers and foreign modules.
    files: ['test/**/*.ts', 'bench/**/*.ts', '**/*.spec.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['libs/pure/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            climbingIntoLibs,
            {
              group: ['@nestjs/*', '@prisma/*', '#libs/core/*', '#libs/domain/*'],
              message: 'Pure libs import no Nest, no Prisma and no core or domain lib.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [climbingIntoLibs, { group: ['#libs/domain/*'], message: 'Core libs import no domain lib.' }] },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
