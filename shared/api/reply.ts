/** What every door returns for every call (Signal Desktop's habit): a value or a typed error. */
import type { ErrorInfo } from '../errors';

export type Reply<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: ErrorInfo };
