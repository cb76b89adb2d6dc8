// `alarmbox credit-check`: buy a credit check (パワーサーチ 信用チェック) or read one, with the report PDF on
// request. Every argument is checked before anything is sent: a typo must never cost a purchase.
import { existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { AlarmboxAPIError } from '../../../alarmbox/errors.ts';
import type { AlarmboxApi } from '../../../api/client.ts';
import { decodeCreditCheckPdf } from '../../../api/credit-checks.ts';
import { creditCheckSummaryRows } from '../../../api/summary.ts';
import {
  type CreateCreditCheckParams,
  type CreditCheck,
  type CreditCheckDetail,
  DEALS,
  type Deal,
  PURCHASE_REASONS,
  type PurchaseReason,
} from '../../../api/types.ts';
import { UsageError } from '../command-error.ts';
import { withAlarmbox } from '../context.ts';
import { note, say, sayJson } from '../output.ts';
import { stopSafelyDuring } from '../stop-signal.ts';

interface CreditCheckOptions {
  readonly corporationNumber?: string;
  readonly id?: string;
  readonly deal?: string;
  readonly purchaseReason?: string[];
  readonly comment?: string;
  readonly pdf?: string;
  readonly json?: boolean;
}

type Plan =
  | { readonly kind: 'create'; readonly params: CreateCreditCheckParams; readonly pdf: string | undefined }
  | { readonly kind: 'get'; readonly id: string; readonly pdf: string | undefined };

const MAX_COMMENT_LENGTH = 1000;

/** Turns the options into a call, or a UsageError naming the cause and the fix. Sends nothing. */
export function planCreditCheck(opts: CreditCheckOptions): Plan {
  const pdf = opts.pdf === undefined ? undefined : checkPdfPath(opts.pdf);
  if (opts.id !== undefined && opts.corporationNumber !== undefined) {
    throw new UsageError(
      '--id と --corporation-number は同時に指定できません。購入するなら --corporation-number、購入済みの結果を見るなら --id だけを指定してください。',
    );
  }
  if (opts.id !== undefined) {
    if (opts.deal !== undefined || opts.purchaseReason !== undefined || opts.comment !== undefined) {
      throw new UsageError(
        '--deal・--purchase-reason・--comment は購入 (--corporation-number) のときだけ指定できます。--id と一緒には使えません。',
      );
    }
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(opts.id)) {
      throw new UsageError(
        `--id には信用チェック ID (購入時に表示された番号) を指定してください (例: --id 12345)。指定値: ${opts.id.slice(0, 16)}`,
      );
    }
    return { kind: 'get', id: opts.id, pdf };
  }
  if (opts.corporationNumber === undefined) {
    throw new UsageError(
      '--corporation-number (購入する) か --id (購入済みの結果を見る) のどちらかを指定してください。例: alarmbox credit-check --corporation-number 0000000000001',
    );
  }
  return {
    kind: 'create',
    params: {
      corporation_number: parseCorporationNumber(opts.corporationNumber),
      ...(opts.deal === undefined ? {} : { deal: parseDeal(opts.deal) }),
      ...(opts.purchaseReason === undefined
        ? {}
        : { purchase_reasons: parsePurchaseReasons(opts.purchaseReason) }),
      ...(opts.comment === undefined ? {} : { purchase_reason_comment: parseComment(opts.comment) }),
    },
    pdf,
  };
}

/** 法人番号: full-width digits and hyphens, as pasted from documents, are accepted; then exactly 13 digits. */
function parseCorporationNumber(value: string): string {
  const digits = value.normalize('NFKC').replace(/[-\s]/g, '');
  if (!/^[0-9]{13}$/.test(digits)) {
    const shown = value.slice(0, 20);
    const count = /^[0-9]+$/.test(digits) ? ` (${digits.length} 桁)` : '';
    throw new UsageError(
      `--corporation-number には 13 桁の法人番号を数字で指定してください (例: --corporation-number 0000000000001)。指定値: ${shown}${count}`,
    );
  }
  return digits;
}

function parseDeal(value: string): Deal {
  const deal = DEALS.find((d) => String(d) === value.trim());
  if (deal === undefined) {
    throw new UsageError(
      `--deal には ${DEALS.join(', ')} のいずれかを指定してください (例: --deal 1)。指定値: ${value.slice(0, 16)}`,
    );
  }
  return deal;
}

function parsePurchaseReasons(values: readonly string[]): PurchaseReason[] {
  const reasons: PurchaseReason[] = [];
  for (const part of values.flatMap((v) => v.split(','))) {
    const reason = PURCHASE_REASONS.find((r) => String(r) === part.trim());
    if (reason === undefined) {
      throw new UsageError(
        `--purchase-reason には ${PURCHASE_REASONS.join(', ')} を指定してください (複数はカンマ区切りか繰り返し。例: --purchase-reason 1,9)。指定値: ${part.slice(0, 16)}`,
      );
    }
    if (!reasons.includes(reason)) reasons.push(reason);
  }
  return reasons;
}

function parseComment(value: string): string {
  if (value.length > MAX_COMMENT_LENGTH) {
    throw new UsageError(
      `--comment は ${MAX_COMMENT_LENGTH} 文字以内で指定してください (指定値は ${value.length} 文字)。`,
    );
  }
  return value;
}

/** Checked before a purchase: failing to save the PDF afterwards would leave a paid check without its file. */
function checkPdfPath(path: string): string {
  const full = resolve(path);
  if (path.trim() === '')
    throw new UsageError('--pdf に保存先のファイル名を指定してください (例: --pdf report.pdf)。');
  if (existsSync(full) && statSync(full).isDirectory()) {
    throw new UsageError(
      `--pdf にはファイル名を指定してください (${path} はディレクトリです。例: --pdf ${path}/report.pdf)。`,
    );
  }
  const dir = dirname(full);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UsageError(
      `--pdf の保存先ディレクトリ ${dirname(path)} がありません。先に作成するか、別の場所を指定してください。`,
    );
  }
  return full;
}

interface PdfSaved {
  readonly path: string;
  readonly bytes: number;
}

async function fetchPdf(api: AlarmboxApi, check: CreditCheck, path: string): Promise<PdfSaved> {
  const detail = await api.creditChecks.get(check.credit_check_id, { withPdf: true });
  const pdf = decodeCreditCheckPdf(detail);
  if (pdf === undefined) {
    throw new AlarmboxAPIError(
      'AlarmBox の応答に PDF (pdf_file_data) がありませんでした。時間をおいて alarmbox credit-check --id … --pdf … で取得し直してください。',
      { reason: 'temporary' },
    );
  }
  if (pdf.subarray(0, 5).toString('latin1') !== '%PDF-') {
    note('注意: 受け取ったデータが PDF の形式ではありません。そのまま保存します。');
  }
  await writeFile(path, pdf);
  return { path, bytes: pdf.length };
}

function printSummary(
  check: CreditCheck | CreditCheckDetail,
  heading: string,
  pdf: PdfSaved | undefined,
): void {
  say(heading);
  const rows = creditCheckSummaryRows(check);
  if (pdf !== undefined) rows.push(['PDF', `${pdf.path} に保存しました (${pdf.bytes} バイト)`]);
  const width = Math.max(...rows.map(([label]) => displayWidth(label)));
  for (const [label, value] of rows) say(`  ${label}${' '.repeat(width - displayWidth(label))}  ${value}`);
}

/** Full-width characters take two columns in a terminal. */
function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += /[\u3000-\u9fff\uff00-\uffef]/.test(ch) ? 2 : 1;
  return width;
}

/** `--json`: the credit check as AlarmBox returned it, without the base64 PDF (written to the file instead). */
function jsonReport(
  check: CreditCheck | CreditCheckDetail,
  pdf: PdfSaved | undefined,
  pdfError?: string,
): object {
  const { pdf_file_data: _omitted, ...rest } = check as CreditCheckDetail;
  return { credit_check: rest, pdf: pdf ?? null, ...(pdfError === undefined ? {} : { pdf_error: pdfError }) };
}

export function registerCreditCheckCommand(program: Command): void {
  program
    .command('credit-check')
    .description(
      '信用チェック (パワーサーチ) を購入するか (--corporation-number、費用が発生します)、購入済みの結果を表示します (--id)',
    )
    .option('--corporation-number <number>', '購入する企業の法人番号 (13 桁)')
    .option('--id <id>', '購入済み信用チェックの ID (結果を表示します。費用は発生しません)')
    .option('--deal <1|2|9>', '取引区分 (1, 2, 9)')
    .option(
      '--purchase-reason <n>',
      '購入理由 (1, 2, 3, 4, 9。複数はカンマ区切りか繰り返し)',
      // No default value: commander would print "(default: [])" in the help.
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('--comment <text>', '購入理由のコメント (1000 文字以内)')
    .option('--pdf <file>', 'レポート PDF を取得してこのファイルに保存します')
    .option('--json', 'スクリプト用に JSON で出力します')
    .addHelpText(
      'after',
      '\n例:\n  alarmbox credit-check --corporation-number 0000000000001 --pdf report.pdf\n  alarmbox credit-check --id 12345 --json\n\n' +
        '購入 (--corporation-number) は失敗しても自動では再送しません。エラーが「購入が完了したかどうかは分かりません」の場合は、\n' +
        '再実行する前に AlarmBox の管理画面で購入履歴を確認してください。',
    )
    .action(async (opts: CreditCheckOptions) => {
      const plan = planCreditCheck(opts);
      // A refresh of the token under way is saved before a stop signal ends the process.
      await stopSafelyDuring(() =>
        withAlarmbox(async ({ api }) => {
          if (plan.kind === 'get') {
            const detail = await api.creditChecks.get(plan.id, { withPdf: plan.pdf !== undefined });
            let pdf: PdfSaved | undefined;
            if (plan.pdf !== undefined) {
              const data = decodeCreditCheckPdf(detail);
              if (data === undefined) {
                throw new AlarmboxAPIError(
                  'AlarmBox の応答に PDF (pdf_file_data) がありませんでした。時間をおいて再実行してください。',
                  { reason: 'temporary' },
                );
              }
              await writeFile(plan.pdf, data);
              pdf = { path: plan.pdf, bytes: data.length };
            }
            if (opts.json === true) sayJson(jsonReport(detail, pdf));
            else printSummary(detail, '信用チェックの結果:', pdf);
            return;
          }

          const created = await api.creditChecks.create(plan.params);
          let pdf: PdfSaved | undefined;
          if (plan.pdf !== undefined) {
            try {
              pdf = await fetchPdf(api, created, plan.pdf);
            } catch (error) {
              // The purchase stands: show it, then say how to get the PDF without buying again.
              const retry = `alarmbox credit-check --id ${created.credit_check_id} --pdf ${opts.pdf ?? ''}`;
              if (opts.json === true) {
                sayJson(
                  jsonReport(created, undefined, error instanceof Error ? error.message : String(error)),
                );
              } else {
                printSummary(created, '信用チェックを購入しました:', undefined);
              }
              note(`購入は完了していますが、PDF を保存できませんでした。再購入せずに取得するには: ${retry}`);
              throw error;
            }
          }
          if (opts.json === true) sayJson(jsonReport(created, pdf));
          else printSummary(created, '信用チェックを購入しました:', pdf);
        }),
      );
    });
}
