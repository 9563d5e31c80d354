// Lint rules: typescript-eslint's type-checked recommendations for every TypeScript file
// (apps, libs, test, bench, scripts), the plain recommendations for JavaScript files,
// and eslint-config-prettier last so formatting is left to Prettier.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'test-results/', 'bench-results/', '.data/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      // Input validation refuses control characters with a regex that names them on purpose.
      'no-control-regex': 'off',
      // Query strings are built with URLSearchParams and interpolated into URLs; its string form is the point.
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        {
          allowNumber: true,
          allow: [
            { from: 'lib', name: ['URLSearchParams', 'URL'] },
            { from: 'package', package: 'url', name: ['URLSearchParams', 'URL'] },
          ],
        },
      ],
      // `const { secret: _s, ...rest } = x` is how the code drops fields from a copy; `_`-prefixed names are deliberately unused.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true, argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    // The scripts are CommonJS: require() is how they load modules.
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
