#!/usr/bin/env node
// The CLI entry. Node 24 strips the TypeScript types of the sources itself; the compile cache keeps the
// stripped and compiled modules between runs, which halves start-up for schedulers that run us often.
import module from 'node:module';

module.enableCompileCache?.();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
