import { AlarmboxError } from '../errors.ts';

/** A setting is missing or malformed. The message names the variable and shows an example value. */
export class ConfigError extends AlarmboxError {
  override readonly name: string = 'ConfigError';
  /** The environment variable (or option) at fault. */
  readonly variable: string;
  constructor(variable: string, message: string, options: { readonly cause?: unknown } = {}) {
    super(message, { reason: 'configuration', cause: options.cause });
    this.variable = variable;
  }
}
