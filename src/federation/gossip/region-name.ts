import { z } from 'zod';

// Region names double as document ids, SQS queue name parts and keys of region policies.

export const REGION_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/;
export const regionName = z.string().regex(REGION_NAME, 'a region name is 1-40 characters of A-Z a-z 0-9 _ -');
