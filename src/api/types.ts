// Wire types of パワーサーチ 信用チェック (docs/design.md「AlarmBox について分かっていること」), named as on the wire.

/** 取引区分: 1, 2 or 9 (その他). */
export type Deal = 1 | 2 | 9;
export const DEALS: readonly Deal[] = [1, 2, 9];

/** 購入理由: 1–4 or 9 (その他, explained in `purchase_reason_comment`). */
export type PurchaseReason = 1 | 2 | 3 | 4 | 9;
export const PURCHASE_REASONS: readonly PurchaseReason[] = [1, 2, 3, 4, 9];

/** 判定: `ok` 問題なし, `hold` 保留, `ng` 要注意; `null` while AlarmBox has no verdict yet. */
export type CreditCheckResult = 'ok' | 'hold' | 'ng' | null;

/** Integrators show numbers; nothing promises it stays one, so both are accepted. */
export type CreditCheckId = number | string;

/** `POST /ps/v1/credit_checks` body. */
export interface CreateCreditCheckParams {
  /** 法人番号: 13 digits, as a string (leading zeros matter). */
  readonly corporation_number: string;
  readonly deal?: Deal | undefined;
  readonly purchase_reasons?: readonly PurchaseReason[] | undefined;
  readonly purchase_reason_comment?: string | undefined;
}

/** The `credit_check` object of the create answer. */
export interface CreditCheck {
  readonly credit_check_id: CreditCheckId;
  /** YYYY-MM-DD */
  readonly purchase_date: string;
  /** YYYY-MM-DD: the result may be viewed until then (AlarmBox answers 403 afterwards). */
  readonly expiration_date: string;
  readonly corporation_name: string;
  readonly corporation_number: string;
  readonly result: CreditCheckResult;
}

/** A tag attached to a credit check. */
export interface CreditCheckTag {
  readonly name: string;
  readonly description: string;
  readonly source: string;
}

/** The details AlarmBox returns for a credit check. */
export interface CreditCheckInfo {
  /** YYYY-MM-DD */
  readonly received_date: string;
  readonly tags: readonly CreditCheckTag[];
}

/** The `credit_check` object of `GET /ps/v1/credit_checks/{id}`. */
export interface CreditCheckDetail extends CreditCheck {
  readonly expired: boolean;
  readonly infos: readonly CreditCheckInfo[];
  /** Base64 PDF, only with `with_pdf=true`. Decode with `decodeCreditCheckPdf`. */
  readonly pdf_file_data?: string | undefined;
}

/** Both endpoints wrap their object in `{ "credit_check": … }`. */
export interface CreditCheckEnvelope<T extends CreditCheck> {
  readonly credit_check: T;
}
