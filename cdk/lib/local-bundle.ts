import { AssetHashType, BundlingOutput, DockerImage, type AssetOptions } from 'aws-cdk-lib';
import { buildSync } from 'esbuild';
import { join, relative } from 'node:path';
import { REPO_ROOT, TSCONFIG } from './paths.js';

// One TypeScript entry of src/ bundled into one ESM file by esbuild, in this process (esbuild
// is a devDependency): no Docker, no npx, whatever machine runs synth. Every dependency is
// bundled, the AWS SDK included, so the deployed code is the code the tests ran.

/** esbuild target of the Lambda runtime and of the agent hosts' Node.js. */
export const BUNDLE_TARGET = 'node22';

/**
 * The bundle is ESM; CommonJS dependencies that call `require` get one from `createRequire`,
 * which esbuild's ESM output cannot provide.
 */
export const ESM_REQUIRE_BANNER = "import { createRequire as __stratusCreateRequire } from 'node:module'; const require = __stratusCreateRequire(import.meta.url);";

export interface LocalBundleProps {
  readonly entry: string;
  /** The bundle's file name, e.g. index.mjs. */
  readonly outFile: string;
  readonly sourceMap?: boolean;
  /** Modules left out of the bundle (native add-ons of optional dependencies). */
  readonly external?: readonly string[];
  /** Writes more files into the bundle's directory (the dashboard's assets). */
  readonly alongside?: (outputDir: string) => void;
}

/** Asset options that bundle `entry` locally; the asset's hash is the bundle's. */
export function localBundle(props: LocalBundleProps): AssetOptions & { readonly path: string } {
  const entryFromRoot = relative(REPO_ROOT, props.entry);
  return {
    // The source directory is not copied or fingerprinted (the hash is the output's).
    path: join(REPO_ROOT, 'src'),
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Required by the type and never run: local bundling either succeeds or throws.
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22'),
      // Describes the bundle (and keys CDK's bundling cache, which ignores `local`).
      command: ['esbuild', entryFromRoot, `--outfile=${props.outFile}`, ...(props.external ?? []).map((e) => `--external:${e}`)],
      ...(props.sourceMap ? {} : { outputType: BundlingOutput.SINGLE_FILE }),
      local: {
        tryBundle(outputDir: string): boolean {
          const result = buildSync({
            entryPoints: [props.entry],
            outfile: join(outputDir, props.outFile),
            bundle: true,
            platform: 'node',
            format: 'esm',
            target: BUNDLE_TARGET,
            mainFields: ['module', 'main'],
            banner: { js: ESM_REQUIRE_BANNER },
            external: [...(props.external ?? [])],
            tsconfig: TSCONFIG,
            minify: true,
            keepNames: true,
            sourcemap: props.sourceMap ?? false,
            sourcesContent: false,
            logLevel: 'silent',
          });
          if (result.errors.length > 0) throw new Error(`esbuild could not bundle ${entryFromRoot}: ${result.errors.map((e) => e.text).join('; ')}`);
          props.alongside?.(outputDir);
          return true;
        },
      },
    },
  };
}
