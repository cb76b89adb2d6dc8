// パワーサーチ 信用チェック: checking what is sent before a purchase, and what comes back before a caller
// relies on it (docs/design.md「AlarmBox について分かっていること」).
import { AlarmboxApiInputError } from './errors.ts';
import { isRecord } from './response-body.ts';
import {
  type CreateCreditCheckParams,
  type CreditCheck,
  type CreditCheckDetail,
  type CreditCheckId,
  type CreditCheckInfo,
  type CreditCheckResult,
  DEALS,
  PURCHASE_REASONS,
} from './types.ts';

/**
 * 法人番号: 13 digits. The check digit (the first digit) is deliberately not verified: AlarmBox's test
 * numbers 0000000000001–3 do not satisfy it, and AlarmBox checks the number itself.
 */
const CORPORATION_NUMBER = /^\d{13}$/;
const MAX_COMMENT_LENGTH = 1000;

/** Checks a purchase before it is sent: a wrong argument must not cost a request (nor, worse, money). */
export function checkCreateParams(params: CreateCreditCheckParams): CreateCreditCheckParams {
  const problems: string[] = [];
  if (typeof params.corporation_number !== 'string' || !CORPORATION_NUMBER.test(params.corporation_number)) {
    problems.push('corporation_number は 13 桁の数字の文字列で指定してください (例: "0000000000001")');
  }
  if (params.deal !== undefined && !DEALS.includes(params.deal)) {
    problems.push(`deal は ${DEALS.join(', ')} のいずれかで指定してください`);
  }
  if (
    params.purchase_reasons !== undefined &&
    !(
      Array.isArray(params.purchase_reasons) &&
      params.purchase_reasons.every((r) => PURCHASE_REASONS.includes(r))
    )
  ) {
    problems.push(`purchase_reasons は ${PURCHASE_REASONS.join(', ')} からなる配列で指定してください`);
  }
  if (
    params.purchase_reason_comment !== undefined &&
    (typeof params.purchase_reason_comment !== 'string' ||
      params.purchase_reason_comment.length > MAX_COMMENT_LENGTH)
  ) {
    problems.push(`purchase_reason_comment は ${MAX_COMMENT_LENGTH} 文字以内の文字列で指定してください`);
  }
  if (problems.length > 0) {
    throw new AlarmboxApiInputError(
      `信用チェックを購入できません (リクエストは送信していません): ${problems.join('。')}。`,
    );
  }
  // Only the documented members, so an object with extra fields sends nothing unexpected.
  return {
    corporation_number: params.corporation_number,
    ...(params.deal === undefined ? {} : { deal: params.deal }),
    ...(params.purchase_reasons === undefined ? {} : { purchase_reasons: [...params.purchase_reasons] }),
    ...(params.purchase_reason_comment === undefined
      ? {}
      : { purchase_reason_comment: params.purchase_reason_comment }),
  };
}

export function checkCreditCheckId(id: CreditCheckId): string {
  const text = String(id);
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(text)) {
    throw new AlarmboxApiInputError(
      `信用チェック ID が正しくありません (英数字で指定してください。例: 12345)。指定値: ${text.slice(0, 16)}`,
    );
  }
  return text;
}

const RESULTS: readonly CreditCheckResult[] = ['ok', 'hold', 'ng', null];

type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/**
 * The `credit_check` object of an answer, if it has the documented members with the documented types;
 * otherwise a short Japanese description of what is missing. Unknown members are kept (AlarmBox may add some).
 */
export function parseCreditCheck(body: unknown): Parsed<CreditCheck> {
  if (!isRecord(body) || !isRecord(body.credit_check))
    return { ok: false, problem: 'credit_check がありません' };
  const c = body.credit_check;
  const id = c.credit_check_id;
  if (!(typeof id === 'number' || (typeof id === 'string' && id !== ''))) {
    return { ok: false, problem: 'credit_check_id がありません' };
  }
  for (const key of ['purchase_date', 'expiration_date', 'corporation_name', 'corporation_number'] as const) {
    if (typeof c[key] !== 'string') return { ok: false, problem: `${key} がありません` };
  }
  if (!RESULTS.includes(c.result as CreditCheckResult)) {
    return { ok: false, problem: `result が想定外の値です (${String(c.result).slice(0, 16)})` };
  }
  return { ok: true, value: c as unknown as CreditCheck };
}

export function parseCreditCheckDetail(body: unknown): Parsed<CreditCheckDetail> {
  const base = parseCreditCheck(body);
  if (!base.ok) return base;
  const c: Record<string, unknown> = { ...base.value };
  if (c.infos !== undefined && !Array.isArray(c.infos))
    return { ok: false, problem: 'infos が配列ではありません' };
  if (c.pdf_file_data !== undefined && typeof c.pdf_file_data !== 'string') {
    return { ok: false, problem: 'pdf_file_data が文字列ではありません' };
  }
  // `expired` and `infos` are documented for the GET; tolerate their absence rather than fail a purchase read.
  return {
    ok: true,
    value: {
      ...base.value,
      expired: c.expired === true,
      infos: (c.infos ?? []) as CreditCheckInfo[],
      ...(typeof c.pdf_file_data === 'string' ? { pdf_file_data: c.pdf_file_data } : {}),
    },
  };
}

/** The PDF of a `get(id, { withPdf: true })` answer, or undefined when it has none. */
export function decodeCreditCheckPdf(detail: Pick<CreditCheckDetail, 'pdf_file_data'>): Buffer | undefined {
  const data = detail.pdf_file_data;
  if (data === undefined || data === '') return undefined;
  return Buffer.from(data, 'base64');
}
