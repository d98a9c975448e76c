/** One recipient stanza: `-> type args…` and a body (the wrapped file key). */
export interface Stanza {
  readonly type: string;
  readonly args: readonly string[];
  readonly body: Buffer;
}
