import type { Command } from 'commander';
import { redact } from '../../../text/redact.ts';
import { runDoctor } from '../../doctor/doctor.ts';
import { say, sayJson } from '../output.ts';

const MARKS = { ok: '✓', fail: '✗', skipped: '-' } as const;

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description(
      '設定・データベース接続とマイグレーション・保存済みトークンの復号・トークンエンドポイントの応答・時刻のずれを確認し、問題ごとに直し方を表示します',
    )
    .option('--json', '監視用に JSON で出力します')
    .addHelpText(
      'after',
      '\nトークンエンドポイントにはダミーの認可コードを 1 回送るだけで、保存済みのトークンは使いません。\n' +
        '終了コード: 0 すべて成功 / それ以外は最初に失敗した確認の理由 (2 設定 / 3 未登録 / 4 再認可 / 5 一時的)',
    )
    .action(async (opts: { json?: boolean }) => {
      const report = await runDoctor();
      if (opts.json === true) {
        sayJson(report);
      } else {
        say('alarmbox doctor: 設定と接続を確認します');
        for (const check of report.checks) {
          say(`${MARKS[check.status]} ${check.title}: ${redact(check.detail)}`);
          for (const n of check.notes ?? []) say(`    注意: ${n}`);
          if (check.fix !== undefined) say(`    対処: ${check.fix}`);
        }
        const failures = report.checks.filter((c) => c.status === 'fail').length;
        say(
          failures === 0
            ? 'すべての確認に成功しました。'
            : `問題が ${failures} 件あります。✗ の「対処」に従って直し、もう一度 alarmbox doctor を実行してください。`,
        );
      }
      process.exitCode = report.exitCode;
    });
}
