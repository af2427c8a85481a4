/** The OTP engine: secrets, codes, otpauth URIs and Google Authenticator exports. Pure. */
export * from './base32';
export * from './codes';
export * from './uri';
export * from './migration';
export * from './spec';
