// `npm run bench`: runs every case in bench/cases/, prints value, baseline and ratio, writes bench/results.json.
// A benchmark, not a test: it fails (exit 1) only when a case exceeds the ratio limit its issue set or reports
// a problem (a count that must be exact).
import { readdir, writeFile } from 'node:fs/promises';
import type { BenchCase, BenchResult } from './case.ts';

const casesDir = new URL('./cases/', import.meta.url);
const only = process.argv[2];
const files = (await readdir(casesDir)).filter((f) => f.endsWith('.ts')).sort();
const results: BenchResult[] = [];
for (const file of files) {
  const mod = (await import(new URL(file, casesDir).href)) as { default: BenchCase };
  if (only && !mod.default.name.includes(only)) continue;
  const out = await mod.default.run();
  for (const r of Array.isArray(out) ? out : [out]) {
    results.push(r);
    const limit = r.limit === undefined ? '' : ` (limit ${r.limit})`;
    const verdict = r.limit === undefined ? '' : r.ratio <= r.limit ? ' ok' : ' OVER LIMIT';
    console.log(
      `${r.name.padEnd(28)} ${r.value.toFixed(3)} ${r.unit} vs baseline ${r.baseline.toFixed(3)} ${r.unit}` +
        `  ratio ${r.ratio.toFixed(2)}${limit}${verdict}${r.note ? `  — ${r.note}` : ''}`,
    );
    for (const problem of r.problems ?? []) console.log(`${r.name.padEnd(28)} PROBLEM: ${problem}`);
  }
}
await writeFile(new URL('./results.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
console.log(`bench/results.json: ${results.length} cases`);
const failed = results.filter(
  (r) => (r.limit !== undefined && r.ratio > r.limit) || (r.problems?.length ?? 0) > 0,
);
if (failed.length > 0) {
  console.log(`failed: ${failed.map((r) => r.name).join(', ')}`);
  process.exitCode = 1;
}
