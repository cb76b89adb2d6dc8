export {
  type AlarmboxConfig,
  type AlarmboxOptions,
  DEFAULT_SCOPE,
  loadConfig,
  OOB_REDIRECT_URI,
} from './config.ts';
export type { AlarmboxEnv } from './environment.ts';
export { ConfigError } from './errors.ts';
