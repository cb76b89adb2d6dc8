#!/usr/bin/env node
// The `alarmbox` command. This first file is deliberately plain JavaScript (no static import, no top-level
// await, no `?.`) so that a Node too old for the toolkit still parses it and can tell the person what to do,
// instead of failing with a module-loading stack. Keep the minimum in step with `engines` in package.json.
var MIN_MAJOR = 22;
var MIN_MINOR = 14; // package.json engines (node:sqlite is unflagged from Node 22.13 on).
var found = process.versions.node;
var parts = found.split('.');
var major = Number(parts[0]);
var minor = Number(parts[1]);
if (major < MIN_MAJOR || (major === MIN_MAJOR && minor < MIN_MINOR)) {
  process.stderr.write(
    [
      'エラー: alarmbox には Node.js ',
      MIN_MAJOR,
      '.',
      MIN_MINOR,
      ' 以上 (推奨: 24 LTS) が必要ですが、Node.js ',
      found,
      ' で実行されました。\n',
      'Node.js 24 LTS をインストールして (例: nvm install 24 && nvm use 24)、もう一度実行してください。\n',
    ].join(''),
  );
  process.exitCode = 2;
} else {
  import('./run.js').catch((error) => {
    var code = Object(error).code;
    process.stderr.write(
      ['エラー: alarmbox を起動できませんでした (', code || String(error), ')。\n'].join(''),
    );
    process.exitCode = 1;
  });
}
