// Reading an authorization code without putting it on the command line, where `ps` and the shell history
// would keep it: from standard input (`--code -`) or a prompt on the terminal that does not echo.
import { UsageError } from './command-error.ts';

/** Far above any code; stops a wrong file piped in from being read whole. */
const MAX_INPUT_BYTES = 4096;

/** Standard input up to its end, without the final line break (`echo CODE | alarmbox save-token --code -`). */
export async function readSecretFromStdin(what: string): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    total += buffer.length;
    if (total > MAX_INPUT_BYTES) {
      process.stdin.destroy();
      throw new UsageError(
        `標準入力が長すぎます。${what}だけを渡してください (例: pbpaste | alarmbox save-token --code -)。`,
      );
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Asks on the terminal with echo off; Ctrl-C or Ctrl-D cancels. */
export function promptHidden(question: string): Promise<string> {
  const { stdin, stderr } = process;
  return new Promise((resolve, reject) => {
    let value = '';
    const done = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      stderr.write('\n');
      if (error === undefined) resolve(value);
      else reject(error);
    };
    const onData = (data: Buffer | string) => {
      for (const ch of String(data)) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || ch === '\u0004') {
          return done(new UsageError('入力を中止しました。認可コードは保存していません。'));
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (value.length < MAX_INPUT_BYTES) value += ch;
      }
    };
    // Echo off before the question appears: a person (or a script) who types as soon as it shows must not see
    // the code echoed by the terminal.
    stdin.setRawMode(true);
    stderr.write(question);
    stdin.setEncoding('utf8');
    stdin.on('data', onData);
    stdin.resume();
  });
}
