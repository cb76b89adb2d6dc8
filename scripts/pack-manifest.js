// `prepack` / `postpack`: the published package.json carries no `scripts`. They are the repository's own
// (build, test, bench…) and name files the package does not ship; and any `prepare` there makes every
// `npm install alarmbox-auth` warn "install scripts not yet covered by allowScripts", although npm never runs
// it for a registry tarball. A git-URL install still builds: npm runs only `prepare` for git dependencies
// (pacote's DirFetcher, "we *only* run prepare"), and the repository's package.json keeps it.
// `strip` keeps the original beside it and writes the manifest without `scripts`; `restore` puts it back
// (also at the next `strip` or build, should a failed pack have skipped `postpack`).
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

const manifest = new URL('../package.json', import.meta.url);
const kept = new URL('../.package.json.packing', import.meta.url);

export function restoreManifest() {
  if (existsSync(kept)) renameSync(kept, manifest);
}

function strip() {
  restoreManifest();
  const text = readFileSync(manifest, 'utf8');
  const { scripts: _scripts, ...published } = JSON.parse(text);
  writeFileSync(kept, text);
  writeFileSync(manifest, `${JSON.stringify(published, null, 2)}\n`);
}

if (import.meta.url === new URL(process.argv[1] ?? '', 'file:').href) {
  const command = process.argv[2];
  if (command === 'strip') strip();
  else if (command === 'restore') restoreManifest();
  else {
    console.error('usage: node scripts/pack-manifest.js strip|restore');
    process.exit(2);
  }
}
