// The validator scripts/build-validator.mjs generates from
// schema/glance-metadefs.schema.json into dist/src/glance/metadefs/schema-validator.js.
import type { ErrorObject } from 'ajv';

interface ValidateFunction {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

declare const validate: ValidateFunction;
export default validate;
