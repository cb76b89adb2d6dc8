// What an action tells the person, shown once on the next page (post/redirect/get): a reload never repeats
// an action, and no result travels in a URL. Messages never hold a token, code or secret: they are the
// package's own error messages, redacted where they are made (the CLI prints the very same text).
import { randomBytes } from 'node:crypto';
import { AlarmboxError, messageOf, reasonOf } from '../../errors.ts';
import type { FailureReason } from '../../failure-reason.ts';

export interface Notice {
  readonly kind: 'success' | 'error';
  readonly title: string;
  readonly lines: readonly string[];
  readonly reason?: FailureReason | undefined;
}

/** Notices waiting to be shown; bounded, and each one can be taken only once. */
export class NoticeBoard {
  static readonly MAX = 50;
  readonly #notices = new Map<string, Notice>();

  post(notice: Notice): string {
    const id = randomBytes(12).toString('base64url');
    this.#notices.set(id, notice);
    // A person who never comes back for a notice must not make the map grow: drop the oldest.
    for (const old of this.#notices.keys()) {
      if (this.#notices.size <= NoticeBoard.MAX) break;
      this.#notices.delete(old);
    }
    return id;
  }

  take(id: string | undefined): Notice | undefined {
    if (id === undefined) return undefined;
    const notice = this.#notices.get(id);
    this.#notices.delete(id);
    return notice;
  }
}

export function success(title: string, ...lines: string[]): Notice {
  return { kind: 'success', title, lines };
}

/**
 * The same words the CLI prints (`エラー: <message>`) plus the reason. Errors without a reason may carry
 * anything (a driver echoing a connection string): like the CLI, only their class name is shown.
 */
export function failure(title: string, error: unknown): Notice {
  return {
    kind: 'error',
    title,
    lines: [error instanceof AlarmboxError ? `エラー: ${error.message}` : errorText(error)],
    reason: reasonOf(error),
  };
}

/** An error's message as the CLI would print it, without the `エラー: ` prefix. */
export function errorText(error: unknown): string {
  return error instanceof AlarmboxError ? error.message : `${messageOf(error)}。`;
}
