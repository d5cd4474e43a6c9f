declare module 'lz4js' {
  /** LZ4 frame format, as Kafka uses it. */
  export function compress(data: Uint8Array): Uint8Array;
  export function decompress(data: Uint8Array): Uint8Array;
  /** The largest size a frame can decompress to (from its header). */
  export function decompressBound(data: Uint8Array): number;
  /** Decompresses a frame into `into`; returns the decompressed size. */
  export function decompressFrame(data: Uint8Array, into: Uint8Array): number;
}
