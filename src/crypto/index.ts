export { type FieldLocation, openField, sealField } from './envelope.ts';
export {
  DecryptionError,
  type DecryptionFailure,
  EnvelopeTooLongError,
  KeyRingFormatError,
} from './errors.ts';
export {
  createKeyRing,
  type EncryptionKey,
  generateKeySpec,
  KEY_RING_EXAMPLE,
  type KeyRing,
  parseKeyRing,
} from './key-ring.ts';
