import { ErrorCode, SnapvmError } from "../../errors/index.ts";
import { DEFAULT_SCRYPT_WORK_FACTOR, MAX_SCRYPT_WORK_FACTOR } from "./constants.ts";

/** An X25519 public key to encrypt to (`age1…`). Made by parseRecipient or generateIdentity. */
export interface X25519Recipient {
  readonly kind: "x25519";
  readonly publicKey: Buffer;
}

/** A passphrase to encrypt to; age allows it only as the sole recipient of a file. */
export interface ScryptRecipient {
  readonly kind: "scrypt";
  readonly passphrase: Buffer;
  /** log2 of scrypt's N. */
  readonly workFactor: number;
}

export type Recipient = X25519Recipient | ScryptRecipient;

/** An X25519 secret key to decrypt with (`AGE-SECRET-KEY-1…`). */
export interface X25519Identity {
  readonly kind: "x25519";
  readonly secretKey: Buffer;
  readonly publicKey: Buffer;
}

export interface ScryptIdentity {
  readonly kind: "scrypt";
  readonly passphrase: Buffer;
  /** Headers asking for a larger log2 N are refused before any scrypt work (hostile input). */
  readonly maxWorkFactor: number;
}

export type Identity = X25519Identity | ScryptIdentity;

export interface PassphraseRecipientOptions {
  /** log2 of scrypt's N, 1…30; default 18 like age (about a second and 256 MiB). */
  workFactor?: number;
}

export interface PassphraseIdentityOptions {
  /** default 22 like age; raise only for files from a trusted source. */
  maxWorkFactor?: number;
}

function passphraseBytes(passphrase: string): Buffer {
  if (passphrase.length === 0) throw new SnapvmError(ErrorCode.InvalidArgument, "age: the passphrase must not be empty");
  return Buffer.from(passphrase, "utf8");
}

function checkWorkFactor(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1 || value > 30) {
    throw new SnapvmError(ErrorCode.InvalidArgument, `age: ${name} must be an integer from 1 to 30, got ${value}`);
  }
  return value;
}

export function passphraseRecipient(passphrase: string, options: PassphraseRecipientOptions = {}): ScryptRecipient {
  const workFactor = checkWorkFactor(options.workFactor ?? DEFAULT_SCRYPT_WORK_FACTOR, "workFactor");
  return { kind: "scrypt", passphrase: passphraseBytes(passphrase), workFactor };
}

export function passphraseIdentity(passphrase: string, options: PassphraseIdentityOptions = {}): ScryptIdentity {
  const maxWorkFactor = checkWorkFactor(options.maxWorkFactor ?? MAX_SCRYPT_WORK_FACTOR, "maxWorkFactor");
  return { kind: "scrypt", passphrase: passphraseBytes(passphrase), maxWorkFactor };
}
