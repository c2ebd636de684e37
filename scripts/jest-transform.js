// Jest transformer: ts-jest for our TypeScript, and for the ES-module-only dependencies (NestJS 12)
// a CommonJS transpile. `import.meta.url` has no CommonJS meaning, so it is rewritten to the
// module's file URL first (and their own `const require = createRequire(...)` dropped, since
// CommonJS already has one).
const { TsJestTransformer } = require('ts-jest');

const tsJest = new TsJestTransformer({ tsconfig: '<rootDir>/tsconfig.jest.json', diagnostics: false });

function rewrite(src, file) {
  if (!file.includes('/node_modules/') || !src.includes('import.meta')) return src;
  return src
    .replace(/const require = createRequire\(import\.meta\.url\);/g, '')
    .replace(/import\.meta\.url/g, "require('node:url').pathToFileURL(__filename).href")
    .replace(/import\.meta\.dirname/g, '__dirname')
    .replace(/import\.meta\.filename/g, '__filename');
}

module.exports = {
  canInstrument: false,
  getCacheKey(src, file, options) {
    return tsJest.getCacheKey(rewrite(src, file), file, options) + ':eagle-eye-1';
  },
  process(src, file, options) {
    return tsJest.process(rewrite(src, file), file, options);
  },
};
