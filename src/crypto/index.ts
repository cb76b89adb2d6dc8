export { type FieldLocation, openField, sealField } from './envelope.ts';
export { EnvelopeTooLongError } from './errors.ts';
export {
  generateKeySpec,
  KEY_RING_EXAMPLE,
  type KeyRing,
  parseKeyRing,
} from './key-ring.ts';
