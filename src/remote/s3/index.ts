export {
  parseS3Url,
  parseS3Prefix,
  formatS3Url,
  bucketNameProblem,
  keyProblem,
  MAX_KEY_BYTES,
  type S3Bucket,
  type S3Key,
  type S3Location,
  type S3Prefix,
} from "./url.ts";
export { createS3Client, s3ClientConfig, resolveEndpoint, type S3ConnectOptions, type S3Connection } from "./client.ts";
export { s3Error, isBrokenTransfer, type S3ErrorContext } from "./errors.ts";
export {
  putObject,
  getObjectStream,
  headObject,
  deleteObject,
  listObjects,
  readObjectResumably,
  checkBucket,
  uploadMultipart,
  type ListedObject,
  type ObjectFacts,
  type MultipartOptions,
} from "./objects.ts";
export { startResumableUpload, discardUpload, type ResumableUpload, type ResumableUploadOptions, type StoredPart, type UploadProgress } from "./multipart.ts";
