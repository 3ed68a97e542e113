import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // scratch/ is git-ignored scratch space, not part of the project.
  { ignores: ['dist/', 'dist-bench/', 'node_modules/', 'bench/results/', 'scratch/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // Plain JavaScript scripts run on Node: tell the linter about Node's globals.
  { files: ['**/*.mjs', '**/*.cjs'], languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly' } } },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
);
