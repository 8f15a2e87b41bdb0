/** The part of s3rver (a local S3 stand-in, without types of its own) the tests use. */
declare module 's3rver' {
  export default class S3rver {
    constructor(options: { address: string; port: number; directory: string; silent: boolean; key: Buffer; cert: Buffer; configureBuckets: { name: string }[] });
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
  }
}
