// Tests run TypeScript through SWC (fast on 2 cores); they talk to the real MySQL and Redis.
const swc = JSON.parse(require('fs').readFileSync(`${__dirname}/.swcrc`, 'utf8'));
delete swc.jsc.baseUrl;
delete swc.jsc.paths;

module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'],
  transform: { '^.+\\.(ts|js|mjs)$': ['@swc/jest', { ...swc, swcrc: false }] },
  // ESM-only client libraries used by the tests are compiled to CommonJS too.
  transformIgnorePatterns: ['/node_modules/(?!(oauth4webapi|openid-client|jose|@apidevtools/json-schema-ref-parser)/)'],
  moduleNameMapper: {
    '^@app/([a-z]+)$': '<rootDir>/libs/$1/src',
  },
  testTimeout: 60000,
  maxWorkers: 2,
};
