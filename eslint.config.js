import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';

// The layers of src/, lowest first (README, "Architecture"): a folder may import its own layer's
// and lower layers' folders, never a higher layer's. Same-layer folders may import each other as
// long as no cycle forms (no-cycle here; test/shape/imports.test.ts also counts type-only imports).
const LAYERS = [
  ['wire', 'time'],
  ['base'],
  ['tcp'],
  ['host'],
  ['sim'],
  ['net', 'bsd', 'proxy'],
  ['drill', 'lab', 'link', 'bench'],
  ['inspect', 'cli'],
];
const above = (i) => LAYERS.slice(i + 1).flat();
const layerZones = LAYERS.slice(0, -1).flatMap((folders, i) =>
  folders.map((f) => ({
    target: `./src/${f}`,
    // wire and time sit beside each other at the bottom and import nothing of each other.
    from: [...above(i), ...(i === 0 ? folders.filter((g) => g !== f) : [])].map((g) => `./src/${g}`),
    message: `src/${f} is below what it imports: layers point one way (eslint.config.js, LAYERS)`,
  })),
).concat({ target: './src/inspect', from: './src/cli', message: 'the cli drives inspect, not the other way round' });

export default tseslint.config(
  { ignores: ['node_modules/**', 'out/**', 'dist/**', 'docs/api/**', 'web/dist/**', 'web/generated/**'] },
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
    // The examples are plain Node programs, run from a project that installed the package.
    files: ['examples/**/*.mjs'],
    languageOptions: { globals: { setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly' } },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts'] })],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts'],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: layerZones }],
      'import-x/no-cycle': 'error',
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
