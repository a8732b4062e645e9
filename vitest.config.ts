import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration suites share one Docker engine and one moto server on two cores.
    maxWorkers: 2,
    // Tests reach the local AWS endpoint (moto/LocalStack), never real AWS by accident.
    env: {
      AWS_ENDPOINT_URL: process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566',
      AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
      // Node 20 is supported until the SDK drops it; its notice would repeat in every worker's output.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?? 'true',
    },
  },
});
