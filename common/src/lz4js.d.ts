declare module 'lz4js' {
  /** LZ4 frame format, as Kafka uses it. */
  export function compress(data: Uint8Array): Uint8Array;
  export function decompress(data: Uint8Array): Uint8Array;
}
