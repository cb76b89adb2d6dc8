// A credit check for people, in Japanese: the CLI prints it, and the web console can show the same words.
import type { CreditCheck, CreditCheckDetail, CreditCheckResult } from './types.ts';

const RESULT_LABELS: Readonly<Record<'ok' | 'hold' | 'ng', string>> = {
  ok: '問題なし',
  hold: '保留',
  ng: '要注意',
};

/** `問題なし (ok)`, `保留 (hold)`, `要注意 (ng)`, or `未確定 (調査中)` for `null`. */
export function creditCheckResultLabel(result: CreditCheckResult): string {
  return result === null ? '未確定 (調査中)' : `${RESULT_LABELS[result] ?? result} (${result})`;
}

/** `label: value` rows; the detail rows (期限切れ, 情報) only for an answer of `get`. */
export function creditCheckSummaryRows(check: CreditCheck | CreditCheckDetail): [string, string][] {
  const rows: [string, string][] = [
    ['信用チェック ID', String(check.credit_check_id)],
    ['結果', creditCheckResultLabel(check.result)],
    ['企業名', check.corporation_name],
    ['法人番号', check.corporation_number],
    ['購入日', check.purchase_date],
    ['有効期限', check.expiration_date],
  ];
  if ('expired' in check && 'infos' in check) {
    rows.push(['閲覧期限切れ', check.expired ? 'はい' : 'いいえ']);
    const infos = check.infos.flatMap((info) =>
      info.tags.map((tag) => `${info.received_date} ${tag.name}: ${tag.description} (出典: ${tag.source})`),
    );
    if (infos.length === 0) rows.push(['情報', 'なし']);
    for (const [i, line] of infos.entries()) rows.push([i === 0 ? '情報' : '', line]);
  }
  return rows;
}
