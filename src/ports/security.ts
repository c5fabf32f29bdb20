/** The security primitives the services need; implementations live in src/auth. */
export interface PasswordHashing {
  hash(password: string): Promise<string>;
  verify(password: string, encoded: string): Promise<boolean>;
  /** Spends the time of a verification, so a missing user cannot be told apart by timing. */
  verifyDummy(): Promise<void>;
}

export interface TotpCodes {
  generateSecret(): string;
  provisioningUri(input: { issuer: string; account: string; secret: string }): string;
  qrSvg(uri: string): Promise<string>;
  /** The accepted time step, or null. */
  verify(secret: string, code: string, now: Date): number | null;
}

export interface Sealer {
  seal(plain: string): string;
  open(sealed: string): string;
}
