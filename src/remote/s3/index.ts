export { parseS3Url, formatS3Url, bucketNameProblem, keyProblem, MAX_KEY_BYTES, type S3Bucket, type S3Key, type S3Location } from "./url.ts";
export { createS3Client, s3ClientConfig, resolveEndpoint, type S3ConnectOptions, type S3Connection } from "./client.ts";
export { s3Error, type S3ErrorContext } from "./errors.ts";
export { putObject, getObjectStream, headObject, deleteObject, uploadMultipart, type ObjectFacts, type MultipartOptions } from "./objects.ts";
