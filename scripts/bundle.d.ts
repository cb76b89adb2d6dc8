/** See scripts/bundle.js. */
export function bundle(options: {
  readonly input: string | Readonly<Record<string, string>>;
  readonly dir: string;
  readonly sourcemap?: boolean;
}): Promise<void>;
