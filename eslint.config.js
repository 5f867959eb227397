import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'out/**', 'web/dist/**', 'web/generated/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // The engine core is sans-IO: it must run in a browser, so no Node modules and no real time.
    files: ['src/wire/**', 'src/time/**', 'src/tcp/**', 'src/host/**', 'src/sim/**', 'src/lab/**'],
    // Scenarios that run Node's own HTTP code live in src/lab/node and are Node-only.
    ignores: ['src/lab/node/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['node:*', 'fs', 'net', 'os', 'child_process', 'stream', 'buffer'] }],
      'no-restricted-globals': ['error', 'setTimeout', 'setInterval', 'setImmediate', 'performance', 'process', 'Buffer'],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now' }],
    },
  },
);
