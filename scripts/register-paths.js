// Resolves the @eagle-eye/* path aliases of tsconfig.json inside the compiled dist/ tree, so the
// built apps run with plain `node -r ./scripts/register-paths.js dist/apps/<app>/src/main.js`.
const path = require('node:path');
const tsconfigPaths = require('tsconfig-paths');
const { compilerOptions } = require('../tsconfig.json');
tsconfigPaths.register({ baseUrl: path.join(__dirname, '..', 'dist'), paths: compilerOptions.paths });
