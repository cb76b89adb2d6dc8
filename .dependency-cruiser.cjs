// The layers of src/, checked by `npm test` (`npm run lint:deps`).
//   library: everything in src/ outside apps/ and emulator/ (config, crypto, db, lock, alarmbox, api, top-level modules),
//     itself layered: create.ts (the assembly) above api/ (the API client) above alarmbox/ (the token manager),
//     and http/ (the package's fetch and the bounded body read) and telemetry/ (metrics and spans) below both
//   emulator: a stand-in AlarmBox server, independent of the token manager in both directions
//   apps (src/apps/): doctor, jobs, console, sandbox and, on top, cli (the only folder that may import every other one)
const LIBRARY = '^src/(?!apps/|emulator/)'; // everything else under src/, the top-level modules included
const APPS = '^src/apps/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'Modules import each other in one direction only, type imports included.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'library-not-apps',
      comment: 'The library that apps embed never reaches up into the CLI, console, jobs or doctor.',
      severity: 'error',
      from: { path: LIBRARY },
      to: { path: APPS },
    },
    {
      name: 'assembly-on-top',
      comment:
        'src/create.ts wires the toolkit from every library module; only the public entry and the apps use it.',
      severity: 'error',
      from: { path: LIBRARY, pathNot: '^src/(index|create)\\.ts$' },
      to: { path: '^src/create\\.ts$' },
    },
    {
      name: 'token-manager-not-api',
      comment:
        'The API client uses the token manager (TokenService, its errors); the token manager never uses it.',
      severity: 'error',
      from: { path: '^src/alarmbox/' },
      to: { path: '^src/api/' },
    },
    {
      name: 'http-below-clients',
      comment: 'The shared HTTP pieces serve the token endpoint client and the API client, and know neither.',
      severity: 'error',
      from: { path: '^src/http/' },
      to: { path: '^src/(alarmbox|api)/' },
    },
    {
      name: 'telemetry-below-clients',
      comment:
        'Metrics and spans (src/telemetry/) serve the token manager, the API client and the assembly, and know none of them.',
      severity: 'error',
      from: { path: '^src/telemetry/' },
      to: { path: '^src/(alarmbox|api|create\\.ts|lock|db)/?' },
    },
    {
      name: 'otel-api-loaded-lazily',
      comment:
        'The optional peer @opentelemetry/api is imported only by src/telemetry/load-api.ts, by a variable specifier (docs/design.md「OpenTelemetry」); other modules take its types only.',
      severity: 'error',
      from: { path: '^src/(?!apps/)', pathNot: '^src/telemetry/load-api\\.ts$' },
      to: { path: 'node_modules/@opentelemetry/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'library-not-emulator',
      comment: 'The token manager works against any AlarmBox; the emulator is a separate entry point.',
      severity: 'error',
      from: { path: LIBRARY },
      to: { path: '^src/emulator/' },
    },
    {
      name: 'emulator-standalone',
      comment:
        'The emulator is published on its own (`alarmbox-auth/emulator`) and imports nothing of the toolkit.',
      severity: 'error',
      from: { path: '^src/emulator/' },
      to: { path: '^src/', pathNot: '^src/emulator/' },
    },
    {
      name: 'apps-not-cli',
      comment: 'The CLI sits on top: doctor, jobs, console and the sandbox never import it.',
      severity: 'error',
      from: { path: '^src/apps/(console|jobs|doctor|sandbox)/|^src/apps/format-time\\.ts$' },
      to: { path: '^src/apps/cli/' },
    },
    {
      name: 'jobs-doctor-not-console',
      comment: 'The web console may use the doctor; the doctor and the jobs do not use the console.',
      severity: 'error',
      from: { path: '^src/apps/(jobs|doctor|sandbox)/' },
      to: { path: '^src/apps/console/' },
    },
    {
      name: 'kysely-loaded-lazily',
      comment:
        'Kysely is loaded on first need (src/db/kysely-runtime.ts, docs/design.md「起動の速さ」): other modules import only its types and take its values from kysely().',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/db/kysely-runtime\\.ts$' },
      to: { path: 'node_modules/kysely/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'src-not-tests',
      comment: 'Shipped code never imports tests, benchmarks or dev-only packages.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(tests|bench)/|node_modules/(vitest|fast-check|playwright-core)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'types', 'default'] },
  },
};
