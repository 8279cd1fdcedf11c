/** The module `wildrayzer view`'s vite plugin provides (src/cli/view.ts `backboneAssets`): URLs of the backbone's assets. */
declare module "virtual:wildrayzer-backbone" {
  /** Where the files come from, for error messages. */
  export const source: string;
  /** The tfjs model.json (topology and weights manifest). */
  export const modelJsonUrl: string;
  /** The weight shard's bytes. */
  export const shardUrl: string;
}
