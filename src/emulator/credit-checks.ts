// The one AlarmBox API the emulator offers: パワーサーチ 信用チェック (docs/design.md「AlarmBox について分かっていること」).
// AlarmBox test accounts answer fixed results for corporation numbers 0000000000001/2/3; so does this.
import { isJsonObject } from './params.ts';

type CreditCheckResult = 'ok' | 'hold' | 'ng' | null;
type Deal = 1 | 2 | 9;
type PurchaseReason = 1 | 2 | 3 | 4 | 9;

export interface CreditCheckInput {
  readonly corporationNumber: string;
  readonly deal: Deal | null;
  readonly purchaseReasons: readonly PurchaseReason[];
  readonly purchaseReasonComment: string | null;
}

export interface CreditCheckRecord extends CreditCheckInput {
  readonly id: number;
  readonly corporationName: string;
  readonly result: CreditCheckResult;
  /** YYYY-MM-DD, Japan time. */
  readonly purchaseDate: string;
  readonly expirationDate: string;
}

export interface FieldError {
  readonly field: string;
  readonly message: string;
}

const DEALS: readonly number[] = [1, 2, 9];
const PURCHASE_REASONS: readonly number[] = [1, 2, 3, 4, 9];
const MAX_COMMENT_LENGTH = 1000;

const FIXTURES: Readonly<Record<string, { readonly name: string; readonly result: CreditCheckResult }>> = {
  '0000000000001': { name: 'テスト株式会社 (判定 ok)', result: 'ok' },
  '0000000000002': { name: 'テスト株式会社 (判定 hold)', result: 'hold' },
  '0000000000003': { name: 'テスト株式会社 (判定 ng)', result: 'ng' },
};

/** Validates a `POST /ps/v1/credit_checks` body; unknown members are ignored (Rails strong parameters). */
export function parseCreditCheckInput(
  body: unknown,
):
  | { readonly ok: true; readonly input: CreditCheckInput }
  | { readonly ok: false; readonly errors: FieldError[] } {
  if (!isJsonObject(body)) {
    return {
      ok: false,
      errors: [{ field: 'base', message: 'リクエストボディは JSON オブジェクトで指定してください。' }],
    };
  }
  const errors: FieldError[] = [];
  const refuse = (field: string, message: string) => errors.push({ field, message });
  // `== null`: a member that is absent or JSON null is not given.
  const {
    corporation_number: number,
    deal,
    purchase_reasons: reasons,
    purchase_reason_comment: comment,
  } = body;
  if (number == null || number === '') {
    refuse('corporation_number', 'corporation_number は必須です。');
  } else if (typeof number !== 'string' || !/^\d{13}$/.test(number)) {
    refuse('corporation_number', 'corporation_number は 13 桁の数字の文字列で指定してください。');
  }
  if (deal != null && !DEALS.includes(deal as number)) {
    refuse('deal', 'deal は 1, 2, 9 のいずれかで指定してください。');
  }
  if (
    reasons != null &&
    !(Array.isArray(reasons) && reasons.every((r) => PURCHASE_REASONS.includes(r as number)))
  ) {
    refuse('purchase_reasons', 'purchase_reasons は 1, 2, 3, 4, 9 からなる配列で指定してください。');
  }
  if (comment != null && (typeof comment !== 'string' || comment.length > MAX_COMMENT_LENGTH)) {
    refuse(
      'purchase_reason_comment',
      `purchase_reason_comment は ${MAX_COMMENT_LENGTH} 文字以内の文字列で指定してください。`,
    );
  }
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    input: {
      corporationNumber: number as string,
      deal: (deal ?? null) as Deal | null,
      purchaseReasons: (reasons ?? []) as PurchaseReason[],
      purchaseReasonComment: (comment ?? null) as string | null,
    },
  };
}

/** The purchased credit checks, by id. */
export class CreditCheckBook {
  #nextId = 1;
  readonly #records = new Map<number, CreditCheckRecord>();

  create(input: CreditCheckInput, nowMs: number): CreditCheckRecord {
    const fixture = FIXTURES[input.corporationNumber];
    const purchaseDate = japanDate(nowMs);
    const record: CreditCheckRecord = {
      ...input,
      id: this.#nextId++,
      corporationName: fixture?.name ?? `テスト法人 ${input.corporationNumber}`,
      // Numbers outside the fixtures have no verdict yet, as a check still being investigated.
      result: fixture?.result ?? null,
      purchaseDate,
      expirationDate: addOneYear(purchaseDate),
    };
    this.#records.set(record.id, record);
    return record;
  }

  get(id: number): CreditCheckRecord | undefined {
    return this.#records.get(id);
  }

  clear(): void {
    this.#records.clear();
    this.#nextId = 1;
  }
}

/** The `credit_check` object of both endpoints. */
export function creditCheckSummary(record: CreditCheckRecord): Record<string, unknown> {
  return {
    credit_check_id: record.id,
    purchase_date: record.purchaseDate,
    expiration_date: record.expirationDate,
    corporation_name: record.corporationName,
    corporation_number: record.corporationNumber,
    result: record.result,
  };
}

/** `GET /ps/v1/credit_checks/{id}`: the summary plus `expired`, `infos` and, when asked, `pdf_file_data`. */
export function creditCheckDetail(
  record: CreditCheckRecord,
  nowMs: number,
  withPdf: boolean,
): Record<string, unknown> {
  const detail: Record<string, unknown> = {
    ...creditCheckSummary(record),
    expired: japanDate(nowMs) > record.expirationDate,
    infos: infosFor(record),
  };
  if (withPdf) detail.pdf_file_data = creditCheckPdf(record).toString('base64');
  return detail;
}

/** The one dummy information tag of a verdict that has any. */
const INFO_TAGS: Readonly<Record<string, { name: string; description: string } | undefined>> = {
  ng: { name: '支払遅延', description: '支払遅延に関する情報があります。' },
  hold: { name: '要確認', description: '判断材料が不足しています。' },
};

function infosFor(record: CreditCheckRecord): unknown[] {
  const tag = INFO_TAGS[record.result ?? ''];
  if (tag === undefined) return [];
  return [
    {
      received_date: record.purchaseDate,
      tags: [{ ...tag, source: 'AlarmBox エミュレータ (ダミーデータ)' }],
    },
  ];
}

function creditCheckPdf(record: CreditCheckRecord): Buffer {
  return minimalPdf([
    'AlarmBox Emulator - Credit Check (dummy document)',
    `credit_check_id: ${record.id}`,
    `corporation_number: ${record.corporationNumber}`,
    `result: ${record.result ?? 'null'}`,
    `purchase_date: ${record.purchaseDate}`,
    `expiration_date: ${record.expirationDate}`,
  ]);
}

/** YYYY-MM-DD in Japan time (UTC+9, no daylight saving). */
function japanDate(ms: number): string {
  return new Date(ms + 9 * 3600_000).toISOString().slice(0, 10);
}

function addOneYear(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y + 1, m - 1, d)).toISOString().slice(0, 10);
}

// A minimal, valid PDF 1.4 (ISO 32000-1 §7.5): one A4 page of Helvetica text, with a correct
// cross-reference table. Hand-written so the emulator needs no PDF library; ASCII text only.

function minimalPdf(lines: readonly string[]): Buffer {
  const text = lines.map((line, i) => `${i === 0 ? '' : 'T* '}(${escapePdfString(line)}) Tj`).join('\n');
  const content = `BT\n/F1 12 Tf\n16 TL\n72 770 Td\n${text}\nET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
    // The end-of-line before `endstream` is not part of the stream's /Length (§7.3.8.1).
    `<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}\nendstream`,
  ];
  // The second line is the customary binary comment telling transfer tools the file is binary.
  let pdf = '%PDF-1.4\n%\u00e2\u00e3\u00cf\u00d3\n';
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(pdf, 'latin1'));
    pdf += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = Buffer.byteLength(pdf, 'latin1');
  // Each xref entry is exactly 20 bytes: 10-digit offset, 5-digit generation, type, then " \n".
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) pdf += `${String(offset).padStart(10, '0')} 00000 n \n`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}

/** Literal strings (§7.3.4.2): backslash and parentheses escaped; non-ASCII replaced, Helvetica has no kana. */
function escapePdfString(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?').replace(/[\\()]/g, (ch) => `\\${ch}`);
}
